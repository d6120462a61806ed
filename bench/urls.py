"""The project's URLs plus the bench baseline: a bare Django view doing one INSERT."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from samverkan.urls import urlpatterns as project_urlpatterns


@login_not_required
@require_POST
def baseline_insert(request: HttpRequest) -> HttpResponse:
    """One INSERT of the posted value, nothing else: the denominator of the kiosk ratio. It
    goes through the same middleware (sessions, CSRF, security headers) as every page."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_baseline (payload, created_at) VALUES (%s, now())",
            [request.POST.get("payload", "")[:200]],
        )
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/insert/", baseline_insert, name="bench_baseline_insert"),
    *project_urlpatterns,
]
