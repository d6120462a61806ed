"""The guardian's access-log extract for one child (loggutdrag): print view and PDF."""

from __future__ import annotations

import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from consent import policy
from consent.policy import Purpose
from families.queries import child_for_request

from .forms import ExtractPeriodForm
from .models import AccessEvent, Action


@require_GET
def log_extract(request: HttpRequest, pk: int) -> HttpResponse:
    """Who accessed the child's data, when, and why; for a unit manager of the child's units."""
    child, _ = child_for_request(
        request,
        pk,
        action=Action.LOG_EXTRACT,
        purpose=Purpose.LOG_EXTRACT,
        decide=policy.may_produce_log_extract,
    )

    form = ExtractPeriodForm(request.GET or None)
    events = AccessEvent.objects.filter(child_id=child.pk).order_by("seq")
    if form.is_valid():
        tz = timezone.get_current_timezone()
        if form.cleaned_data["since"]:
            start = datetime.datetime.combine(form.cleaned_data["since"], datetime.time(), tz)
            events = events.filter(occurred_at__gte=start)
        if form.cleaned_data["until"]:
            end = datetime.datetime.combine(
                form.cleaned_data["until"] + datetime.timedelta(days=1), datetime.time(), tz
            )
            events = events.filter(occurred_at__lt=end)
    elif form.is_bound:
        events = events.none()
    context = {
        "child": child,
        "events": events,
        "form": form,
        "produced_at": timezone.now(),
        "produced_by": request.user,
    }
    if request.GET.get("format") == "pdf" and (form.is_valid() or not form.is_bound):
        return _pdf(request, context, f"loggutdrag-{child.pk}.pdf")
    return render(request, "audit/log_extract.html", context)


def _pdf(request: HttpRequest, context: dict[str, object], filename: str) -> HttpResponse:
    from weasyprint import HTML

    html = render_to_string("audit/log_extract_pdf.html", context, request=request)
    # Self-contained HTML (styles inline): WeasyPrint fetches nothing over the network.
    pdf = HTML(string=html).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
