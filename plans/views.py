"""Views of SIP plans (thin: parse, ask the policy, call a service, render)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    return render(request, "plans/plan_list.html", {})
