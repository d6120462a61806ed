"""Session lifetime and the second factor, enforced for every request."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

AUTHENTICATED_AT = "samverkan_authenticated_at"

Handler = Callable[[HttpRequest], HttpResponse]


def session_timeouts(get_response: Handler) -> Handler:
    """End a session 12 hours (configurable) after login, however active it has been.

    The idle limit needs no code here: the session expires SESSION_COOKIE_AGE after its last
    save (samverkan.middleware.idle_session_refresh), checked by the session store itself.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.get(AUTHENTICATED_AT)
            if started is None or time.time() - started > settings.SESSION_ABSOLUTE_TIMEOUT:
                logout(request)
                messages.info(request, _("Your session has ended. Please log in again."))
                return redirect(settings.LOGIN_URL)
        return get_response(request)

    return middleware


def second_factor_not_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view a logged-in user may reach before the second factor (login flow only)."""
    view.second_factor_not_required = True  # type: ignore[attr-defined]
    return view


class second_factor_required:
    """Every logged-in professional must also have passed the second factor (TOTP)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], *args: Any
    ) -> HttpResponse | None:
        user = request.user
        # `is_verified` is django_otp's, added by its middleware.
        if not user.is_authenticated or user.is_verified():  # type: ignore[attr-defined]
            return None
        if getattr(view_func, "second_factor_not_required", False) or not getattr(
            view_func, "login_required", True
        ):
            return None
        return redirect("accounts:second_factor")
