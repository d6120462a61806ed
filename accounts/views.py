"""Login: password (argon2, lock-out by django-axes), then the TOTP second factor."""

from __future__ import annotations

import time

import django_otp
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from . import second_factor
from .forms import TokenForm
from .middleware import AUTHENTICATED_AT, second_factor_not_required

NEXT_KEY = "samverkan_next"


def _safe_next(request: HttpRequest, target: str | None) -> str | None:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@login_not_required
@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = AuthenticationForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        auth_login(request, form.get_user())
        request.session[AUTHENTICATED_AT] = time.time()
        next_url = _safe_next(request, request.POST.get("next"))
        if next_url:
            request.session[NEXT_KEY] = next_url
        return redirect("accounts:second_factor")
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": _safe_next(request, request.GET.get("next")) or ""},
    )


@second_factor_not_required
@sensitive_post_parameters("token")
@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_verified():  # type: ignore[union-attr]
        return redirect("families:child_list")
    if not second_factor.has_confirmed_device(user):  # type: ignore[arg-type]
        return redirect("accounts:enrol")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = second_factor.match_token(user, form.cleaned_data["token"])  # type: ignore[arg-type]
        if device is not None:
            django_otp.login(request, device)
            return redirect(request.session.pop(NEXT_KEY, None) or "families:child_list")
        form.add_error("token", _("The code is wrong or has expired. Try the next code."))
    return render(request, "accounts/second_factor.html", {"form": form})


@second_factor_not_required
@sensitive_post_parameters("token")
@never_cache
@require_http_methods(["GET", "POST"])
def enrol_view(request: HttpRequest) -> HttpResponse:
    """First login: scan the QR code, confirm with a code, receive recovery codes."""
    user = request.user
    if second_factor.has_confirmed_device(user):  # type: ignore[arg-type]
        return redirect("accounts:second_factor")
    device = second_factor.pending_totp_device(user)  # type: ignore[arg-type]
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if second_factor.totp_confirm(user=user, device=device, token=form.cleaned_data["token"]):  # type: ignore[arg-type]
            django_otp.login(request, device)
            codes = second_factor.recovery_codes_issue(user=user)  # type: ignore[arg-type]
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
        form.add_error("token", _("The code did not match. Check the time on your phone."))
    return render(
        request,
        "accounts/enrol.html",
        {"form": form, "qr_svg": second_factor.qr_svg(device), "secret": _base32(device)},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def recovery_codes_view(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working)."""
    if request.method == "POST":
        codes = second_factor.recovery_codes_issue(user=request.user)  # type: ignore[arg-type]
        messages.success(request, _("New recovery codes issued. The old ones no longer work."))
        return render(request, "accounts/recovery_codes.html", {"codes": codes})
    return render(request, "accounts/recovery_codes_confirm.html")


def _base32(device: second_factor.TOTPDevice) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode("ascii")
