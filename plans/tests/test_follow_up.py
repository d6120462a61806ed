"""Follow-up: each action of the current version is evaluated and carried over or finished, the
plan as a whole is evaluated, and the result is a new version made at the follow-up meeting."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from conftest import request_as
from plans import services
from plans.models import PlanAction, PlanMeeting, PlanVersion
from plans.services import ActionRow, Evaluation, PlanError

from .sip_helpers import (
    content,
    english,
    english_messages,  # noqa: F401 - a fixture
    municipality,
    save,
    started,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]
TODAY = timezone.localdate


def _meeting(cast, plan):
    return services.plan_meeting_add(
        request=request_as(cast.nurse),
        plan=plan,
        kind=PlanMeeting.Kind.FOLLOW_UP,
        starts_at=timezone.now(),
        place="Familjecentralen",
    )


def _follow_up(cast, plan, evaluations, **overrides):
    plan.refresh_from_db()
    return services.plan_follow_up(
        request=request_as(cast.nurse),
        plan=plan,
        based_on=plan.current_number,
        meeting=overrides.pop("meeting", None) or _meeting(cast, plan),
        evaluation=overrides.pop("evaluation", "Det går bättre med sömnen."),
        evaluations=evaluations,
        content=content(plan, **overrides),
    )


def test_a_follow_up_evaluates_each_action_and_makes_a_new_version(cast):
    plan = started(cast)
    first = save(cast, plan)
    talk, diary = first.actions.all()
    later = TODAY() + datetime.timedelta(days=20)
    nurse = plan.participants.get(professional=cast.nurse)
    new = ActionRow(what="Besök på förskolan", due_date=later, participant=nurse)
    version = _follow_up(
        cast,
        plan,
        [
            Evaluation(talk, PlanAction.Status.DONE, "Två samtal hölls."),
            Evaluation(diary, PlanAction.Status.ONGOING, "Fortsätter", continue_until=later),
        ],
        actions=[new],
        next_follow_up=TODAY() + datetime.timedelta(days=90),
    )
    plan.refresh_from_db()
    assert (version.number, version.kind) == (2, PlanVersion.Kind.FOLLOW_UP)
    assert version.evaluation == "Det går bättre med sömnen."
    assert version.meeting.held
    rows = {a.what: a for a in version.actions.all()}
    assert rows["Sömnsamtal med familjen"].carried_from == talk
    assert rows["Sömnsamtal med familjen"].status == PlanAction.Status.DONE
    assert rows["Sömnsamtal med familjen"].evaluation == "Två samtal hölls."
    assert rows["Föra sömndagbok"].carried_from == diary
    assert rows["Föra sömndagbok"].due_date == later
    assert rows["Besök på förskolan"].carried_from is None
    assert plan.next_follow_up == TODAY() + datetime.timedelta(days=90)
    # The version before is untouched.
    talk.refresh_from_db()
    assert (talk.status, talk.evaluation) == (PlanAction.Status.PLANNED, "")
    assert AccessEvent.objects.filter(action=Action.PLAN_SAVE).count() == 2


def test_every_open_action_must_be_evaluated(cast):
    plan = started(cast)
    talk, _diary = save(cast, plan).actions.all()
    with pytest.raises(PlanError, match="Evaluate each action"):
        _follow_up(cast, plan, [Evaluation(talk, PlanAction.Status.DONE)])
    assert PlanVersion.objects.filter(plan=plan).count() == 1


@pytest.mark.parametrize(
    ("status", "days", "message"),
    [
        (PlanAction.Status.DONE, 10, "cannot be carried over"),
        (PlanAction.Status.ONGOING, None, "give a new date"),
        (PlanAction.Status.ONGOING, 0, "after today"),
    ],
)
def test_carrying_over_needs_an_open_action_and_a_new_date(cast, status, days, message):
    plan = started(cast)
    talk, diary = save(cast, plan).actions.all()
    until = TODAY() + datetime.timedelta(days=days) if days is not None else None
    with pytest.raises(PlanError, match=message):
        _follow_up(
            cast,
            plan,
            [
                Evaluation(talk, status, continue_until=until),
                Evaluation(diary, PlanAction.Status.DONE),
            ],
        )


def test_a_follow_up_needs_a_follow_up_meeting_of_the_plan_and_an_evaluation(cast):
    plan = started(cast)
    talk, diary = save(cast, plan).actions.all()
    done = [Evaluation(talk, "done"), Evaluation(diary, "done")]
    first_meeting = services.plan_meeting_add(
        request=request_as(cast.nurse), plan=plan, kind="first", starts_at=timezone.now()
    )
    with pytest.raises(PlanError, match="follow-up meetings"):
        _follow_up(cast, plan, done, meeting=first_meeting)
    with pytest.raises(PlanError, match="how the plan has gone"):
        _follow_up(cast, plan, done, evaluation=" ")
    meeting = _meeting(cast, plan)
    _follow_up(cast, plan, done, meeting=meeting)
    with pytest.raises(PlanError, match="already made its version"):
        _follow_up(cast, plan, [], meeting=meeting)


def test_the_follow_up_page_evaluates_the_actions_and_the_version_list_shows_both(cast, as_user):
    plan = started(cast)
    talk, diary = save(cast, plan).actions.all()
    meeting = _meeting(cast, plan)
    client = english(as_user(cast.nurse))
    url = reverse("plans:follow_up", args=[plan.pk])
    page = client.get(url).content.decode()
    assert "Sömnsamtal med familjen" in page and "Föra sömndagbok" in page
    later = (TODAY() + datetime.timedelta(days=30)).isoformat()
    data = {
        "plan-based_on": 1,
        "plan-needs": "Behoven kvarstår delvis.",
        "plan-child_voice": "Det är lättare att somna nu.",
        "plan-child_voice_method": "at_meeting",
        "plan-overall_responsibility": municipality().pk,
        "plan-coordinator": cast.nurse.pk,
        "plan-next_follow_up": later,
        "follow-meeting": meeting.pk,
        "follow-evaluation": "Bra framsteg.",
        "evaluations-TOTAL_FORMS": 2,
        "evaluations-INITIAL_FORMS": 2,
        "evaluations-0-action": talk.pk,
        "evaluations-0-status": "done",
        "evaluations-0-evaluation": "Klart",
        "evaluations-1-action": diary.pk,
        "evaluations-1-status": "ongoing",
        "evaluations-1-continue_until": later,
        "goals-TOTAL_FORMS": 1,
        "goals-INITIAL_FORMS": 0,
        "goals-0-text": "Sova hela natten",
        "interventions-TOTAL_FORMS": 0,
        "interventions-INITIAL_FORMS": 0,
        "actions-TOTAL_FORMS": 1,
        "actions-INITIAL_FORMS": 0,
        "actions-0-what": "",
        "actions-0-status": "planned",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    version = PlanVersion.objects.get(plan=plan, number=2)
    assert version.kind == PlanVersion.Kind.FOLLOW_UP
    assert version.actions.count() == 2
    listing = client.get(reverse("plans:version_list", args=[plan.pk])).content.decode()
    assert "Made at a follow-up" in listing and "Made at the first meeting" in listing
