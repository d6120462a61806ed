"""The tablet kiosk (/surfplatta/): public URLs, each demanding a valid one-time code."""

from django.urls import path

from . import kiosk_views

app_name = "kiosk"

urlpatterns = [
    path("", kiosk_views.enter_code, name="enter_code"),
    path("sprak/", kiosk_views.language, name="language"),
    path("fraga/<int:n>/", kiosk_views.question, name="question"),
    path("svar/", kiosk_views.review, name="review"),
    path("skicka/", kiosk_views.submit, name="submit"),
    path("tack/", kiosk_views.thanks, name="thanks"),
]
