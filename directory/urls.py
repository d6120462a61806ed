from django.urls import path

from . import views

app_name = "directory"

urlpatterns = [
    path("", views.public_services, name="public_services"),
]
