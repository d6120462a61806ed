from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, register_converter
from django.views.decorators.http import require_GET
from django.views.generic import RedirectView
from django.views.i18n import set_language

from .converters import RecordId

register_converter(RecordId, "id")

admin.site.site_header = "Samverkan – administration"
admin.site.site_title = "Samverkan"


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For the load balancer: the process answers and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", include("families.urls")),
    path("", include("audit.urls")),
    path("konto/", include("accounts.urls")),
    path("samtycken/", include("consent.urls")),
    path("arenden/", include("cases.urls")),
    path("moten/", include("meetings.urls")),
    path("barnsakert/", include("screening.urls")),
    path("surfplatta/", include("screening.kiosk_urls")),
    path("sip/", include("plans.urls")),
    path("hembesok/", include("visits.urls")),
    path("statistik/", include("reports.urls")),
    path("resurser/", include("directory.urls")),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("healthz", healthz, name="healthz"),
    # The admin has no login of its own: everyone logs in with the second factor.
    path(
        "admin/login/",
        login_not_required(RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
        name="admin_login_redirect",
    ),
    path("admin/", admin.site.urls),
]
