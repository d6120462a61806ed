from django.urls import path  # noqa: F401

from . import kiosk_views  # noqa: F401

app_name = "kiosk"

urlpatterns: list = []
