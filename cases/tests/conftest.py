"""Helpers for the case tests: a fixed afternoon, English-language clients, families.

The UI's msgids are English; Swedish arrives later and must not break these tests.
"""

from __future__ import annotations

import datetime
from typing import TypedDict, Unpack

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from cases.models import AgeBand, Concern
from consent.models import Consent
from consent.policy import Purpose
from directory.models import Professional, Sector, Service, Team, Unit
from families.models import Child
from tests import factories

# `factories.consent` makes a consent effective at 12:00 UTC on the day it is recorded, so a
# consent made "today" before noon would still be pending: the tests run in the afternoon.
AFTERNOON = datetime.datetime(2026, 3, 10, 14, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _afternoon():
    with time_machine.travel(AFTERNOON, tick=True) as traveller:
        yield traveller


@pytest.fixture
def login(as_user):
    def client_for(user: Professional):
        client = as_user(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return client_for


def child_with_guardians(**extra: Unpack[factories.ChildFields]) -> Child:
    """A child in joint custody: both guardians must give a consent."""
    child = factories.child(**extra)
    factories.guardian_of(child)
    factories.guardian_of(child)
    return child


class ConcernExtra(TypedDict, total=False):
    """Concern fields the tests set besides make_concern's own."""

    contact_person: Professional
    status: str
    feedback_due: datetime.date | None
    family_contacted_at: datetime.datetime | None
    created_at: datetime.datetime


def make_concern(
    user: Professional,
    unit: Unit,
    *,
    child: Child | None = None,
    team: Team | None = None,
    worry: str = "Often tired in the group, sleeps badly according to the parents.",
    **extra: Unpack[ConcernExtra],
) -> Concern:
    """A concern written straight to the model (the services always stamp "now")."""
    return Concern.objects.create(
        created_by=user,
        unit=unit,
        sector=unit.sector,
        setting="At the 18-month visit",
        age_band=AgeBand.of(child.birth_date) if child else AgeBand.TODDLER,
        worry=worry,
        team=team,
        child=child,
        identified_at=timezone.now() if child else None,
        identified_by=user if child else None,
        contact_person=extra.pop("contact_person", user),
        **extra,
    )


class ConsentExtra(TypedDict, total=False):
    """What the tests pass on to `factories.consent` besides the team and sectors."""

    state: str
    service: Service | None
    units: list[Unit]


def team_consent(
    child: Child,
    recorder: Professional,
    team: Team,
    *,
    sectors: tuple[str, ...] = (Sector.PRESCHOOL, Sector.SOCIAL_SERVICES),
    **extra: Unpack[ConsentExtra],
) -> Consent:
    return factories.consent(
        child, recorder, Purpose.TEAM_DISCUSSION, team=team, sectors=list(sectors), **extra
    )
