from django.urls import path

from . import views
from .family_urls import urlpatterns as family_urlpatterns

app_name = "plans"

urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    path("barn/<id:child_pk>/ny/", views.plan_start, name="plan_start"),
    path("<id:pk>/", views.plan_detail, name="plan_detail"),
    path("<id:pk>/skriv/", views.plan_edit, name="plan_edit"),
    path("<id:pk>/uppfoljning/", views.follow_up, name="follow_up"),
    path("<id:pk>/versioner/", views.version_list, name="version_list"),
    path("<id:pk>/versioner/<int:number>/", views.version_detail, name="version_detail"),
    path("<id:pk>/deltagare/", views.participants, name="participants"),
    path(
        "<id:pk>/deltagare/<id:participant_pk>/ta-bort/",
        views.participant_remove,
        name="participant_remove",
    ),
    path(
        "<id:pk>/deltagare/<id:participant_pk>/kallad/",
        views.participant_invite,
        name="participant_invite",
    ),
    path("<id:pk>/moten/ny/", views.meeting_new, name="meeting_new"),
    path("<id:pk>/moten/<id:meeting_pk>/narvaro/", views.attendance, name="attendance"),
    *family_urlpatterns,
]
