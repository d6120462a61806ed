"""URLs of the family's side of a plan: their copy (print and PDF), the FHIR export, ending it."""

from django.urls import path

from . import family_views

urlpatterns: list = [
    path("<int:pk>/familjens-kopia/", family_views.family_copy_view, name="family_copy"),
    path("<int:pk>/familjens-kopia.pdf", family_views.family_copy_pdf, name="family_copy_pdf"),
    path("<int:pk>/fhir/", family_views.fhir_careplan, name="fhir_careplan"),
    path("<int:pk>/avsluta/", family_views.plan_end_view, name="plan_end"),
]
