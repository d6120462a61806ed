from django.urls import path

from . import views

app_name = "families"

urlpatterns = [
    path("", views.child_list, name="child_list"),
    path("barn/<id:pk>/", views.child_detail, name="child_detail"),
    path("barn/registrera/", views.child_register_view, name="child_register"),
]
