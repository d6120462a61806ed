"""Project-wide middleware: request ids, the idle session refresh, the language and no caching
of authenticated pages."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers

Handler = Callable[[HttpRequest], HttpResponse]


def request_id(get_response: Handler) -> Handler:
    """Give every request an id; the audit log and the response header carry it."""

    def middleware(request: HttpRequest) -> HttpResponse:
        request.request_id = uuid.uuid4().hex  # type: ignore[attr-defined]
        response = get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response

    return middleware


REFRESHED_AT = "samverkan_refreshed_at"


def idle_session_refresh(get_response: Handler) -> Handler:
    """Move an active session's idle deadline forward, at most once a SESSION_REFRESH_SECONDS.

    Django's SESSION_SAVE_EVERY_REQUEST writes the session on every request: a statement and
    a commit of its own on every page. Marking the session modified once a minute is enough:
    it still expires SESSION_COOKIE_AGE after its last save, so never later than that after
    the last request, and at most a minute earlier. A session saved anyway (a login, a kiosk
    answer) is stamped as refreshed. Empty sessions (a visitor who never logged in, a
    session just ended) are left alone."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            stale = now - session.get(REFRESHED_AT, 0) >= settings.SESSION_REFRESH_SECONDS
            if stale or session.modified:
                session[REFRESHED_AT] = now
        return response

    return middleware


def swedish_unless_chosen(get_response: Handler) -> Handler:
    """Swedish for everyone until they pick another language with the switch (a cookie).

    Unlike Django's LocaleMiddleware, the browser's Accept-Language is not consulted: staff on
    an English-language computer still get the Swedish service they are trained on.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ["Cookie"])
        return response

    return middleware


def no_store_when_authenticated(get_response: Handler) -> Handler:
    """A shared computer must not keep copies of what a logged-in professional saw."""

    def middleware(request: HttpRequest) -> HttpResponse:
        was_authenticated = request.user.is_authenticated
        response = get_response(request)
        if was_authenticated or request.user.is_authenticated:
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        return response

    return middleware
