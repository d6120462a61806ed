from django.urls import path

from . import views
from .stats_urls import urlpatterns as stats_urlpatterns

app_name = "visits"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("barn/<id:pk>/erbjud/", views.offer, name="offer"),
    path("inskrivning/<id:pk>/", views.enrolment_detail, name="enrolment"),
    path("inskrivning/<id:pk>/ja/", views.accept, name="accept"),
    path("inskrivning/<id:pk>/nej/", views.decline, name="decline"),
    path("inskrivning/<id:pk>/avsluta/", views.end, name="end"),
    path("besok/<id:pk>/boka/", views.book, name="book"),
    path("besok/<id:pk>/avboka/", views.cancel, name="cancel"),
    path("besok/<id:pk>/dokumentera/", views.document, name="document"),
    *stats_urlpatterns,
]
