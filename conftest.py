"""Shared fixtures: a fixed cast of users in a small fictional municipality."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import AUTHENTICATED_AT
from directory.models import Professional, Sector, Service, Team, Unit
from samverkan.middleware import REFRESHED_AT
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
    school: Unit
    student_health: Unit
    open_preschool: Unit
    psychology: Unit
    nurse: Professional
    manager: Professional
    special_educator: Professional
    family_therapist: Professional
    school_counsellor: Professional
    coordinator: Professional
    outsider: Professional
    bht_team: Team
    hlt_team: Team
    child_psychologist: Service
    budget_counselling: Service


@pytest.fixture
def cast(db) -> Cast:  # type: ignore[no-untyped-def]
    home = factories.organisation("Ekby kommun")
    away = factories.organisation("Sjöstad kommun")
    bvc = factories.unit("BVC Ekby", Sector.CHILD_HEALTH, home)
    other_bvc = factories.unit("BVC Sjöstad", Sector.CHILD_HEALTH, away)
    preschool = factories.unit("Förskolan Ekorren", Sector.PRESCHOOL, home)
    social = factories.unit("Socialtjänsten Ekby", Sector.SOCIAL_SERVICES, home)
    social.receives_reports_of_concern = True
    social.save()
    school = factories.unit("Ekbyskolan", Sector.SCHOOL, home)
    student_health = factories.unit("Elevhälsan Ekbyskolan", Sector.STUDENT_HEALTH, home)
    open_preschool = factories.unit("Öppna förskolan Ekby", Sector.OPEN_PRESCHOOL, home)
    psychology = factories.unit("Barnpsykologerna Ekby", Sector.CHILD_HEALTH, home)
    nurse = factories.professional("nurse", units=[bvc])
    special_educator = factories.professional(
        "educator", units=[preschool], profession="special_educator"
    )
    family_therapist = factories.professional(
        "therapist", units=[social], profession="family_therapist"
    )
    school_counsellor = factories.professional(
        "counsellor", units=[student_health], profession="school_counsellor"
    )
    coordinator = factories.professional(
        "coordinator", units=[open_preschool], profession="coordinator"
    )
    bht_team = factories.team(
        "BHT Plus Ekby",
        Team.Model.BHT_PLUS,
        coordinator,
        [
            (nurse, bvc),
            (special_educator, preschool),
            (family_therapist, social),
            (coordinator, open_preschool),
        ],
    )
    hlt_team = factories.team(
        "HLT Ekbyskolan",
        Team.Model.HLT,
        coordinator,
        [
            (school_counsellor, student_health),
            (family_therapist, social),
            (coordinator, open_preschool),
        ],
        consent_before_identified=True,
    )
    return Cast(
        bvc=bvc,
        other_bvc=other_bvc,
        preschool=preschool,
        social=social,
        school=school,
        student_health=student_health,
        open_preschool=open_preschool,
        psychology=psychology,
        nurse=nurse,
        manager=factories.professional("manager", units=[bvc], manager=True),
        special_educator=special_educator,
        family_therapist=family_therapist,
        school_counsellor=school_counsellor,
        coordinator=coordinator,
        outsider=factories.professional("outsider", units=[other_bvc]),
        bht_team=bht_team,
        hlt_team=hlt_team,
        child_psychologist=factories.service(
            "Barnpsykolog", Service.Kind.CHILD_PSYCHOLOGIST, psychology
        ),
        budget_counselling=factories.service(
            "Budget- och skuldrådgivning", Service.Kind.BUDGET_DEBT, social
        ),
    )


def verified_client(user: Professional) -> Client:
    """A client logged in with password and second factor, as after the real flow."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session[AUTHENTICATED_AT] = time.time()
    session[REFRESHED_AT] = int(time.time())  # as the login's last response leaves it
    session.save()
    return client


def request_as(user: Professional):  # type: ignore[no-untyped-def]
    """A request for calling services directly, as `user` (with a request id for the log)."""
    from django.test import RequestFactory

    request = RequestFactory().post("/")
    request.user = user
    request.request_id = "test"
    return request


@pytest.fixture
def as_user():  # type: ignore[no-untyped-def]
    return verified_client
