from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("att-gora/", views.worklist, name="worklist"),
    path("atgarder/<id:pk>/klar/", views.action_done, name="action_done"),
    path("ny/", views.concern_new, name="concern_new"),
    path("barn/<id:child_pk>/ny/", views.concern_new_for_child, name="concern_new_for_child"),
    path("<id:pk>/", views.concern_detail, name="concern_detail"),
    path("<id:pk>/identifiera/", views.concern_identify_view, name="concern_identify"),
    path(
        "<id:pk>/familjen-kontaktad/",
        views.concern_family_contacted,
        name="concern_family_contacted",
    ),
    path("<id:pk>/remiss/", views.referral_new, name="referral_new"),
    path("remisser/<id:pk>/steg/", views.referral_update_view, name="referral_update"),
    path("team/<id:team_pk>/ledtider/", views.referral_stats, name="referral_stats"),
    path("barn/<id:child_pk>/orosanmalan/", views.report_new, name="report_new"),
    path("orosanmalningar/", views.report_inbox, name="report_inbox"),
    path("orosanmalningar/<id:pk>/", views.report_detail, name="report_detail"),
    path("orosanmalningar/<id:pk>/kvittera/", views.report_acknowledge, name="report_acknowledge"),
]
