"""TOTP enrolment, verification and recovery codes, on top of django-otp."""

from __future__ import annotations

import secrets

import segno
from django.db import transaction
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from directory.models import Professional

RECOVERY_CODE_COUNT = 10
TOTP_NAME = "authenticator"


def has_confirmed_device(user: Professional) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_totp_device(user: Professional) -> TOTPDevice:
    """The unconfirmed device being enrolled (kept across page loads so the QR stays valid)."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": TOTP_NAME}
    )
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG (no script, no external request)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, title="QR")


def match_token(user: Professional, token: str) -> Device | None:
    """The confirmed device that accepts `token`; django-otp throttles repeated failures."""
    for device in devices_for_user(user, confirmed=True):
        if device.verify_token(token):
            return device
    return None


@transaction.atomic
def recovery_codes_issue(*, user: Professional) -> list[str]:
    """Replace the user's recovery codes with new single-use ones; returns them once."""
    device, _ = StaticDevice.objects.get_or_create(user=user, defaults={"name": "recovery"})
    device.token_set.all().delete()
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def totp_confirm(*, user: Professional, device: TOTPDevice, token: str) -> bool:
    """Confirm an enrolling device when `token` matches; drops any older device."""
    if not device.verify_token(token):
        return False
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True
