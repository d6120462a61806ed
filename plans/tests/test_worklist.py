"""The user's SIPs on the "To do" page and the plan list: the next follow-up date (or the first
meeting's deadline), overdue marked; a fixed number of queries whatever the number of plans."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from conftest import request_as
from consent.services import consent_withdraw
from directory.models import Sector
from plans import services
from plans.models import Plan

from .sip_helpers import (
    english,
    english_messages,  # noqa: F401 - a fixture
    family,
    save,
    sip_consent,
    started,
    with_therapist,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]
WORKLIST = reverse("cases:worklist")


def _section(response) -> str:
    body = response.content.decode()
    start = body.index('aria-labelledby="plans-title"')
    return body[start : body.index("</section>", start)]


def test_a_participants_worklist_shows_the_next_follow_up(cast, as_user):
    plan = started(cast)
    with_therapist(cast, plan)
    version = save(cast, plan)
    section = _section(english(as_user(cast.family_therapist)).get(WORKLIST))
    assert plan.child.full_name in section
    assert f"Follow-up {version.next_follow_up:%Y-%m-%d}" in section
    assert "Overdue" not in section
    event = AccessEvent.objects.filter(action=Action.VIEW_PLAN, actor_id=cast.family_therapist.pk)
    assert event.get().basis_reference == f"consent:{plan.consent_id}"


def test_an_overdue_follow_up_and_a_missed_first_meeting_are_marked(cast, as_user):
    plan = started(cast)
    save(cast, plan)
    Plan.objects.filter(pk=plan.pk).update(
        next_follow_up=timezone.localdate() - datetime.timedelta(days=1)
    )
    fresh = started(cast)
    Plan.objects.filter(pk=fresh.pk).update(
        first_meeting_due=timezone.localdate() - datetime.timedelta(days=3)
    )
    section = _section(english(as_user(cast.nurse)).get(WORKLIST))
    assert section.count("Overdue") == 2
    assert (
        f"First meeting by {timezone.localdate() - datetime.timedelta(days=3):%Y-%m-%d}" in section
    )


def test_the_current_coordinator_sees_the_plan_and_a_removed_participant_does_not(cast, as_user):
    plan = started(cast)
    therapist = with_therapist(cast, plan)
    save(cast, plan, coordinator=cast.family_therapist)
    services.plan_participant_remove(
        request=request_as(cast.nurse), plan=plan, participant=therapist
    )
    assert plan.child.full_name in _section(english(as_user(cast.family_therapist)).get(WORKLIST))
    save(cast, plan)  # the nurse coordinates the new version
    assert plan.child.full_name not in _section(
        english(as_user(cast.family_therapist)).get(WORKLIST)
    )


def test_a_withdrawn_sip_consent_takes_the_plan_off_other_sectors_worklists_at_once(cast, as_user):
    child = family(cast)
    consent = sip_consent(cast, child, sectors=[Sector.SOCIAL_SERVICES])
    plan = started(cast, child)
    with_therapist(cast, plan)
    therapist = english(as_user(cast.family_therapist))
    assert child.full_name in _section(therapist.get(WORKLIST))
    consent_withdraw(
        request=request_as(cast.nurse), consent=consent, guardian=child.custodies.first().guardian
    )
    assert child.full_name not in _section(therapist.get(WORKLIST))
    assert child.full_name in _section(english(as_user(cast.nurse)).get(WORKLIST))


def _plans(cast, count: int) -> None:
    for _ in range(count):
        plan = started(cast)
        with_therapist(cast, plan)
        save(cast, plan)


@pytest.mark.parametrize("url", [WORKLIST, reverse("plans:plan_list")])
def test_the_lists_run_the_same_number_of_queries_for_2_and_30_plans(cast, as_user, url):
    client = english(as_user(cast.family_therapist))
    _plans(cast, 2)
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _plans(cast, 28)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    assert len(re.findall(r'href="/sip/\d+/"', response.content.decode())) >= 25
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_the_plan_list_is_paginated_and_shows_only_plans_in_scope(cast, as_user):
    _plans(cast, 27)
    other = family(cast)
    sip_consent(cast, other, sectors=[Sector.PRESCHOOL])
    hidden = started(cast, other)
    client = english(as_user(cast.family_therapist))
    first = client.get(reverse("plans:plan_list"))
    assert len(first.context["plans"]) == 25
    second = client.get(reverse("plans:plan_list"), {"sida": 2})
    assert len(second.context["plans"]) == 2
    shown = {p.pk for p in first.context["plans"]} | {p.pk for p in second.context["plans"]}
    assert hidden.pk not in shown
