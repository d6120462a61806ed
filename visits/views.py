"""Views of the home-visit programmes (thin: parse, ask the policy, call a service, render)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    return render(request, "visits/worklist.html", {})
