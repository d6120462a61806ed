from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("barn/<id:pk>/", views.child_consents, name="child_consents"),
    path("barn/<id:pk>/nytt/", views.record, name="record"),
    path("barn/<id:pk>/blankett/", views.blank_form, name="blank_form"),
    path("<id:pk>/ge/", views.give, name="give"),
    path("<id:pk>/aterkalla/", views.withdraw, name="withdraw"),
    path("<id:pk>/blankett/", views.printable_form, name="form"),
]
