"""The worklist: my actions, my cases, the families I should contact; due and overdue marked,
names only where the policy allows, and the same number of queries however long the lists."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from audit.models import Action as AuditAction
from cases.models import Action, Concern
from tests import factories

from .conftest import make_concern

pytestmark = pytest.mark.django_db

WORKLIST = reverse("cases:worklist")


def _action(cast, concern, days, **extra):
    return Action.objects.create(
        concern=concern,
        team=cast.bht_team,
        what=extra.pop("what", f"Follow up ({days:+d})"),
        responsible=extra.pop("responsible", cast.nurse),
        due_date=timezone.localdate() + datetime.timedelta(days=days),
        created_by=cast.coordinator,
        **extra,
    )


def test_my_actions_show_due_and_overdue(cast, login):
    concern = make_concern(cast.nurse, cast.bvc, team=cast.bht_team)
    _action(cast, concern, -2, what="Call the preschool")
    _action(cast, concern, 0, what="Book a home visit")
    _action(cast, concern, 5, what="Write the summary")
    _action(cast, concern, -9, what="Already done", done_at=timezone.now())
    _action(cast, concern, -1, what="Someone else's", responsible=cast.special_educator)
    response = login(cast.nurse).get(WORKLIST)
    body = response.content.decode()
    assert [a.what for a in response.context["actions"].rows] == [
        "Call the preschool",
        "Book a home visit",
        "Write the summary",
    ]
    assert body.count("tag-overdue") == 1 and body.count("tag-due") == 1
    assert "Already done" not in body and "Someone else" not in body


def test_an_action_is_marked_done_by_its_responsible_person(cast, login):
    action = _action(cast, make_concern(cast.nurse, cast.bvc), 1)
    url = reverse("cases:action_done", args=[action.pk])
    assert login(cast.special_educator).post(url).status_code == 404
    assert login(cast.nurse).post(url).status_code == 302
    action.refresh_from_db()
    assert action.done_at is not None


def test_my_cases_are_the_open_ones_i_recorded_or_contact(cast, login):
    mine = make_concern(cast.nurse, cast.bvc)
    contact = make_concern(cast.special_educator, cast.preschool, contact_person=cast.nurse)
    make_concern(cast.nurse, cast.bvc, status=Concern.Status.CLOSED)
    make_concern(cast.special_educator, cast.preschool)
    cases = login(cast.nurse).get(WORKLIST).context["cases"].rows
    assert {c.pk for c in cases} == {mine.pk, contact.pk}


def test_families_to_contact_show_the_feedback_date_and_overdue(cast, login):
    today = timezone.localdate()
    late = make_concern(cast.nurse, cast.bvc, feedback_due=today - datetime.timedelta(days=1))
    soon = make_concern(cast.nurse, cast.bvc, feedback_due=today + datetime.timedelta(days=3))
    make_concern(cast.nurse, cast.bvc, family_contacted_at=timezone.now())
    make_concern(cast.special_educator, cast.preschool)
    response = login(cast.nurse).get(WORKLIST)
    rows = response.context["contact"].rows
    assert [c.pk for c in rows] == [late.pk, soon.pk]
    section = response.content.decode().split('id="contact-title"')[1].split("</section>")[0]
    assert section.count('class="row-overdue"') == 1
    assert f"{late.feedback_due:%Y-%m-%d}" in section


def test_names_show_only_where_the_policy_allows_and_are_logged(cast, login):
    own = factories.child(bvc=cast.bvc, first_name="Saga", last_name="Lindqvist")
    concern = make_concern(cast.nurse, cast.bvc, child=own, contact_person=cast.family_therapist)
    make_concern(cast.nurse, cast.bvc, worry="anonymous")

    nurse = login(cast.nurse).get(WORKLIST).content.decode()
    assert "Saga Lindqvist" in nurse and "anonymous, 1–3 years" in nurse
    events = AccessEvent.objects.filter(action=AuditAction.VIEW_CONCERN)
    assert [(e.actor_username, e.child_id, e.basis) for e in events] == [
        ("nurse", own.pk, "own_unit")
    ]

    # The family therapist is to contact the family but may not see the child: age band only.
    therapist = login(cast.family_therapist).get(WORKLIST)
    assert [c.pk for c in therapist.context["contact"].rows] == [concern.pk]
    assert "Lindqvist" not in therapist.content.decode()
    assert "identified, " in therapist.content.decode()
    assert not AccessEvent.objects.filter(actor_username="therapist").exists()


def _worklist_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(WORKLIST)
    assert response.status_code == 200
    return len(queries)


def _rows(cast, n):
    """n identified cases with an action each, and n anonymous ones to contact."""
    for i in range(n):
        child = factories.child(bvc=cast.bvc)
        concern = make_concern(cast.nurse, cast.bvc, child=child, team=cast.bht_team)
        _action(cast, concern, i - n // 2)
        make_concern(
            cast.nurse,
            cast.bvc,
            feedback_due=timezone.localdate() + datetime.timedelta(days=i - 2),
        )


def test_the_worklist_runs_the_same_number_of_queries_for_3_and_30_rows(cast, login):
    client = login(cast.nurse)
    _rows(cast, 3)
    with_three = _worklist_queries(client)
    _rows(cast, 27)
    assert _worklist_queries(client) == with_three
    response = client.get(WORKLIST)
    assert len(response.context["actions"].rows) == 30
    contact = response.context["contact"]
    assert len(contact.rows) == 50 and contact.more  # 60 to contact: the first 50 shown
