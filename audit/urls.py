from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("barn/<id:pk>/loggutdrag/", views.log_extract, name="log_extract"),
]
