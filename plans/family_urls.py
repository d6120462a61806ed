"""URLs of the family's side of a plan: their copy (print and PDF), the FHIR export, ending it."""

urlpatterns: list = []
