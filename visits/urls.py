from django.urls import path

from . import views
from .stats_urls import urlpatterns as stats_urlpatterns

app_name = "visits"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    *stats_urlpatterns,
]
