"""Helpers for the meeting tests: meetings, concerns, nominations and English-language clients
(the UI's msgids are English; Swedish arrives later and must not break these tests)."""

from __future__ import annotations

import datetime
from typing import Unpack

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from cases.models import Concern
from conftest import request_as
from directory.models import Professional, Team, Unit
from families.models import Child
from meetings import services
from meetings.models import AgendaItem, Meeting
from tests import factories

# A fixed afternoon: `factories.consent` makes a consent effective at 12:00 UTC on the day it
# is recorded, so before noon (or after 22:00 UTC, when Stockholm is already on the next day)
# a consent made "today" would still be pending.
AFTERNOON = datetime.datetime(2026, 3, 10, 14, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _afternoon():
    with time_machine.travel(AFTERNOON, tick=True):
        yield


def make_meeting(team: Team, *, days: int = 7) -> Meeting:
    starts = timezone.now().replace(second=0, microsecond=0) + datetime.timedelta(days=days)
    return Meeting.objects.create(
        team=team, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1)
    )


def make_concern(
    user: Professional,
    unit: Unit,
    *,
    child: Child | None = None,
    worry: str = "Often tired in the group, sleeps badly according to the parents.",
    setting: str = "At the 18-month visit",
    age_band: str = "1-3",
) -> Concern:
    return Concern.objects.create(
        created_by=user,
        unit=unit,
        sector=unit.sector,
        setting=setting,
        age_band=age_band,
        worry=worry,
        child=child,
        identified_at=timezone.now() if child else None,
        identified_by=user if child else None,
    )


def nominate(user: Professional, meeting: Meeting, concern: Concern) -> AgendaItem:
    return services.item_nominate(request=request_as(user), meeting=meeting, concern=concern)


def child_with_guardians(**extra: Unpack[factories.ChildFields]) -> Child:
    """A child in joint custody: both guardians must give a consent."""
    child = factories.child(**extra)
    factories.guardian_of(child)
    factories.guardian_of(child)
    return child


@pytest.fixture
def login(as_user):
    def client_for(user: Professional):
        client = as_user(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return client_for
