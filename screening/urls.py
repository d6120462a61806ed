from django.urls import path

from . import views  # noqa: F401
from .fhir_views import fhir_questionnaire, fhir_response
from .results_views import (
    child_results,
    follow_up,
    slot_book,
    slot_cancel,
    slots,
    stats,
    worklist,
)
from .start_views import kiosk_handover, screening_start_view

app_name = "screening"

urlpatterns: list = []

# Starting a screening and handing the tablet over to the kiosk (screening/start_views.py).
urlpatterns += [
    path("barn/<id:pk>/starta/", screening_start_view, name="start"),
    path("till-surfplattan/", kiosk_handover, name="kiosk_handover"),
]

# FHIR R4 JSON for staff (screening/fhir_views.py).
urlpatterns += [
    path(
        "fhir/Questionnaire/<id:pk>/",
        fhir_questionnaire,
        name="fhir_questionnaire",
    ),
    path(
        "fhir/QuestionnaireResponse/<id:pk>/",
        fhir_response,
        name="fhir_response",
    ),
]

# The nurse's side after the kiosk (screening/results_views.py).
urlpatterns += [
    path("", worklist, name="worklist"),
    path("barn/<id:pk>/", child_results, name="child_results"),
    path("svar/<id:pk>/uppfoljning/", follow_up, name="follow_up"),
    path("tider/", slots, name="slots"),
    path("tider/<id:pk>/boka/", slot_book, name="slot_book"),
    path("tider/<id:pk>/avboka/", slot_cancel, name="slot_cancel"),
    path("statistik/", stats, name="stats"),
]
