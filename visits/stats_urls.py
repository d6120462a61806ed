"""URLs of the home-visit coverage statistics."""

from django.urls import path

from . import stats_views

urlpatterns: list = [
    path("statistik/", stats_views.stats, name="stats"),
]
