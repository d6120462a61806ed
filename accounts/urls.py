from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .middleware import second_factor_not_required

app_name = "accounts"

urlpatterns = [
    path("logga-in/", views.login_view, name="login"),
    path(
        "logga-ut/",
        second_factor_not_required(auth_views.LogoutView.as_view()),
        name="logout",
    ),
    path("tvastegsverifiering/", views.second_factor_view, name="second_factor"),
    path("aktivera-tvastegsverifiering/", views.enrol_view, name="enrol"),
    path("reservkoder/", views.recovery_codes_view, name="recovery_codes"),
]
