from django.urls import path

from . import views
from .family_urls import urlpatterns as family_urlpatterns

app_name = "plans"

urlpatterns = [
    path("", views.plan_list, name="plan_list"),
    *family_urlpatterns,
]
