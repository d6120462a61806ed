"""Fixtures of the home-visit core tests (enrolment, worklist, booking, notes, access).

A programme of the cast's municipality: Ekby centrum (99130) for all new families, Ängby
(99138) for first-time parents; three joint visits (BVC nurse + family therapist) at one
week, two and four months. Time stands still on a Monday morning in March 2026.

Test modules take the fixtures by assignment (`programme = fx.programme`), not by import, so
that a test's parameter of the same name is not read as shadowing an import.
"""

from __future__ import annotations

import datetime
import itertools
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from conftest import request_as
from consent.models import GuardianConsent
from directory.models import Organisation, Profession
from families.models import Child
from tests import factories
from visits.models import Enrolment, HomeVisit, Programme, ProgrammeArea, ProgrammeVisit
from visits.services import Giving, enrolment_accept, enrolment_offer

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=STOCKHOLM)
TODAY = NOW.date()
_serial = itertools.count(1)
JOINT = [Profession.BVC_NURSE, Profession.FAMILY_THERAPIST]


@pytest.fixture
def frozen():
    """Time stands still; services called directly answer in English (the msgids)."""
    with time_machine.travel(NOW, tick=False) as traveller, translation.override("en"):
        yield traveller


@pytest.fixture
def programme(cast, frozen) -> Programme:
    region = factories.organisation("Region Testland", Organisation.Kind.REGION)
    made = Programme.objects.create(
        name="Utökade hembesök Ekby",
        region=region,
        municipality=cast.bvc.municipality,
        partner_unit=cast.social,
        children_born_from=datetime.date(2025, 1, 1),
        offer_until_weeks=12,
    )
    ProgrammeArea.objects.create(
        programme=made, name="Ekby centrum", postal_code_prefix="99130", rule="all"
    )
    ProgrammeArea.objects.create(
        programme=made, name="Ängby", postal_code_prefix="99138", rule="first_time"
    )
    for number, name, months, weeks in [
        (1, "Nyfödd", 0, 1),
        (2, "2 månader", 2, 0),
        (3, "4 månader", 4, 0),
    ]:
        ProgrammeVisit.objects.create(
            programme=made,
            number=number,
            name_sv=name,
            name_en=name,
            age_months=months,
            age_weeks=weeks,
            window_days_before=7,
            window_days_after=14,
            professions=JOINT,
        )
    return made


def newborn(cast, *, days: int = 10, postal_code: str = "99130", guardians: int = 2, **extra):
    """A child of the cast's BVC born `days` ago, with guardians in joint (or sole) custody."""
    birth = TODAY - datetime.timedelta(days=days)
    # Many children share a birth date here: a reserve number keeps each one unique.
    serial = next(_serial)
    child = Child.objects.create(
        reserve_number=f"TEST-{serial}",
        first_name="Test",
        last_name=str(extra.pop("last_name", f"Hembesöksson{serial}")),
        birth_date=birth,
        bvc_unit=cast.bvc,
        postal_code=postal_code,
        city="Ekby",
        **extra,
    )
    kind = "joint" if guardians > 1 else "sole"
    for _ in range(guardians):
        factories.guardian_of(child, kind=kind)
    return child


@pytest.fixture
def baby(cast, programme) -> Child:
    return newborn(cast)


def givings(child: Child, method: str = GuardianConsent.Method.TABLET) -> list[Giving]:
    return [
        Giving(guardian=custody.guardian, method=method)
        for custody in child.custodies.select_related("guardian").order_by("guardian_id")
    ]


def offered(cast, child: Child, programme: Programme) -> Enrolment:
    return enrolment_offer(request=request_as(cast.nurse), child=child, programme=programme)


def accepted(cast, child: Child, programme: Programme) -> Enrolment:
    enrolment = offered(cast, child, programme)
    return enrolment_accept(
        request=request_as(cast.nurse), enrolment=enrolment, givings=givings(child)
    )


@pytest.fixture
def enrolment(cast, programme, baby) -> Enrolment:
    return accepted(cast, baby, programme)


@pytest.fixture
def first_visit(enrolment) -> HomeVisit:
    return enrolment.visits.get(programme_visit__number=1)
