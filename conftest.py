"""Shared fixtures: a fixed cast of users in a small fictional municipality."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import AUTHENTICATED_AT
from directory.models import Professional, Sector, Unit
from tests import factories


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Cast:
    bvc: Unit
    other_bvc: Unit
    preschool: Unit
    social: Unit
    nurse: Professional
    manager: Professional
    special_educator: Professional
    family_therapist: Professional
    outsider: Professional


@pytest.fixture
def cast(db) -> Cast:  # type: ignore[no-untyped-def]
    home = factories.organisation("Ekby kommun")
    away = factories.organisation("Sjöstad kommun")
    bvc = factories.unit("BVC Ekby", Sector.CHILD_HEALTH, home)
    other_bvc = factories.unit("BVC Sjöstad", Sector.CHILD_HEALTH, away)
    preschool = factories.unit("Förskolan Ekorren", Sector.PRESCHOOL, home)
    social = factories.unit("Socialtjänsten Ekby", Sector.SOCIAL_SERVICES, home)
    return Cast(
        bvc=bvc,
        other_bvc=other_bvc,
        preschool=preschool,
        social=social,
        nurse=factories.professional("nurse", units=[bvc]),
        manager=factories.professional("manager", units=[bvc], manager=True),
        special_educator=factories.professional(
            "educator", units=[preschool], profession="special_educator"
        ),
        family_therapist=factories.professional(
            "therapist", units=[social], profession="family_therapist"
        ),
        outsider=factories.professional("outsider", units=[other_bvc]),
    )


def verified_client(user: Professional) -> Client:
    """A client logged in with password and second factor, as after the real flow."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session[AUTHENTICATED_AT] = time.time()
    session.save()
    return client


@pytest.fixture
def as_user():  # type: ignore[no-untyped-def]
    return verified_client
