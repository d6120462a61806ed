from django.urls import path

from . import views

app_name = "meetings"

urlpatterns = [
    path("", views.team_list, name="team_list"),
    path("team/<id:pk>/", views.team_detail, name="team_detail"),
    path("<id:pk>/", views.meeting_detail, name="meeting_detail"),
    path("<id:pk>/nominera/", views.nominate, name="nominate"),
    path("<id:pk>/narvaro/", views.attendance, name="attendance"),
    path("<id:pk>/stang/", views.close, name="close"),
    path("<id:pk>/atgarder/<id:action_pk>/klar/", views.action_done, name="action_done"),
    path("punkt/<id:pk>/protokoll/", views.minutes_save, name="minutes_save"),
    path("punkt/<id:pk>/atgarder/", views.action_add, name="action_add"),
    path("punkt/<id:pk>/rattelse/", views.amend, name="amend"),
]
