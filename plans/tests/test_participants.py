"""Participants: professionals of units the SIP consent reaches (or the child's own units), the
guardians, the child, and others who matter to the family; invitations and attendance."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from conftest import request_as
from directory.models import Sector
from plans import services
from plans.models import PlanAttendance, PlanMeeting, PlanParticipant
from plans.services import PlanError
from tests import factories

from .sip_helpers import (
    english,
    english_messages,  # noqa: F401 - a fixture
    started,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]
Kind = PlanParticipant.Kind


def add(cast, plan, **kwargs):
    return services.plan_participant_add(request=request_as(cast.nurse), plan=plan, **kwargs)


def test_a_professional_of_a_unit_the_consent_covers_takes_part_with_a_role(cast):
    plan = started(cast, sectors=[Sector.SOCIAL_SERVICES])
    person = add(
        cast,
        plan,
        kind=Kind.PROFESSIONAL,
        professional=cast.family_therapist,
        unit=cast.social,
        role="Familjebehandlare",
        invited=True,
    )
    assert (person.unit, person.role) == (cast.social, "Familjebehandlare")
    assert person.invited_at is not None
    assert AccessEvent.objects.filter(action=Action.PLAN_PARTICIPANT, allowed=True).count() == 1


def test_a_unit_the_consent_does_not_cover_is_refused_clearly(cast):
    plan = started(cast, sectors=[Sector.SOCIAL_SERVICES])
    with pytest.raises(PlanError, match="does not cover Elevhälsan Ekbyskolan"):
        add(
            cast,
            plan,
            kind=Kind.PROFESSIONAL,
            professional=cast.school_counsellor,
            unit=cast.student_health,
        )
    assert plan.participants.count() == 1


def test_the_childs_own_units_take_part_without_being_named_in_the_consent(cast):
    plan = started(cast, sectors=[Sector.SOCIAL_SERVICES])
    add(cast, plan, kind=Kind.PROFESSIONAL, professional=cast.special_educator, unit=cast.preschool)
    assert plan.participants.filter(professional=cast.special_educator).exists()


def test_a_professional_represents_only_a_unit_they_work_in(cast):
    plan = started(cast)
    with pytest.raises(PlanError, match="does not work in"):
        add(cast, plan, kind=Kind.PROFESSIONAL, professional=cast.outsider, unit=cast.social)


def test_the_guardians_the_child_and_a_neighbour_take_part(cast):
    plan = started(cast)
    guardians = [c.guardian for c in plan.child.custodies.all()]
    for guardian in guardians:
        add(cast, plan, kind=Kind.GUARDIAN, guardian=guardian, role="Mamma")
    add(cast, plan, kind=Kind.CHILD, role="Deltar en stund")
    add(cast, plan, kind=Kind.OTHER, name="Greta Granne", role="Granne", contact="070-123")
    add(cast, plan, kind=Kind.OTHER, name="Sam Utredare", role="Utredare, BUP")
    kinds = sorted(plan.participants.values_list("kind", flat=True))
    assert kinds == sorted(
        [Kind.PROFESSIONAL, Kind.GUARDIAN, Kind.GUARDIAN, Kind.CHILD, Kind.OTHER, Kind.OTHER]
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": Kind.OTHER, "name": "", "role": "Granne"}, "name"),
        ({"kind": Kind.OTHER, "name": "Greta", "role": ""}, "who the person is"),
        ({"kind": "stranger"}, "Unknown"),
    ],
)
def test_incomplete_participants_are_refused(cast, kwargs, message):
    plan = started(cast)
    with pytest.raises(PlanError, match=message):
        add(cast, plan, **kwargs)
    assert plan.participants.count() == 1


def test_only_the_childs_own_guardians_and_the_child_only_once(cast):
    plan = started(cast)
    other_child = factories.child(bvc=cast.bvc)
    stranger = factories.guardian_of(other_child)
    with pytest.raises(PlanError, match="guardians"):
        add(cast, plan, kind=Kind.GUARDIAN, guardian=stranger)
    add(cast, plan, kind=Kind.CHILD)
    with pytest.raises(PlanError, match="already"):
        add(cast, plan, kind=Kind.CHILD)


def test_removing_keeps_the_row_and_invitation_time_stands(cast):
    plan = started(cast)
    neighbour = add(cast, plan, kind=Kind.OTHER, name="Greta Granne", role="Granne")
    services.plan_participant_invite(
        request=request_as(cast.nurse), plan=plan, participant=neighbour
    )
    neighbour.refresh_from_db()
    first = neighbour.invited_at
    services.plan_participant_invite(
        request=request_as(cast.nurse), plan=plan, participant=neighbour
    )
    services.plan_participant_remove(
        request=request_as(cast.nurse), plan=plan, participant=neighbour
    )
    neighbour.refresh_from_db()
    assert neighbour.invited_at == first
    assert neighbour.removed_at is not None


def test_attendance_is_recorded_per_meeting(cast):
    plan = started(cast)
    neighbour = add(cast, plan, kind=Kind.OTHER, name="Greta Granne", role="Granne")
    meeting = services.plan_meeting_add(
        request=request_as(cast.nurse),
        plan=plan,
        kind=PlanMeeting.Kind.FIRST,
        starts_at=timezone.now() - datetime.timedelta(hours=2),
        place="BVC",
    )
    nurse = plan.participants.get(professional=cast.nurse)
    services.plan_attendance_set(
        request=request_as(cast.nurse), meeting=meeting, present={nurse.pk}
    )
    rows = dict(PlanAttendance.objects.values_list("participant_id", "present"))
    assert rows == {nurse.pk: True, neighbour.pk: False}
    meeting.refresh_from_db()
    assert meeting.held
    with pytest.raises(PlanError, match="already has a first meeting"):
        services.plan_meeting_add(
            request=request_as(cast.nurse),
            plan=plan,
            kind=PlanMeeting.Kind.FIRST,
            starts_at=timezone.now(),
        )


def test_the_participants_page_adds_a_neighbour_and_shows_refusals_on_the_form(cast, as_user):
    plan = started(cast, sectors=[Sector.SOCIAL_SERVICES])
    client = english(as_user(cast.nurse))
    url = reverse("plans:participants", args=[plan.pk])
    response = client.post(
        url, {"kind": "other", "other-name": "Greta Granne", "other-role": "Granne"}
    )
    assert response.status_code == 302
    assert plan.participants.filter(name="Greta Granne", role="Granne").exists()

    counsellor = cast.school_counsellor.memberships.get()
    response = client.post(url, {"kind": "professional", "professional-membership": counsellor.pk})
    assert response.status_code == 200
    assert "does not cover Elevhälsan Ekbyskolan" in response.content.decode()
    assert not plan.participants.filter(professional=cast.school_counsellor).exists()

    response = client.post(url, {"kind": "other", "other-name": "", "other-role": ""})
    assert response.status_code == 200
    assert response.context["forms"]["other"].errors.keys() == {"name", "role"}


def test_meetings_invitations_and_attendance_through_the_pages(cast, as_user):
    plan = started(cast)
    neighbour = add(cast, plan, kind=Kind.OTHER, name="Greta Granne", role="Granne")
    client = english(as_user(cast.nurse))
    invite = reverse("plans:participant_invite", args=[plan.pk, neighbour.pk])
    assert client.post(invite).status_code == 302
    neighbour.refresh_from_db()
    assert neighbour.invited_at is not None

    response = client.post(
        reverse("plans:meeting_new", args=[plan.pk]),
        {"kind": "first", "day": timezone.localdate().isoformat(), "time": "09:00", "place": "BVC"},
    )
    assert response.status_code == 302
    meeting = plan.meetings.get()
    nurse = plan.participants.get(professional=cast.nurse)
    url = reverse("plans:attendance", args=[plan.pk, meeting.pk])
    assert "Greta Granne" in client.get(url).content.decode()
    assert client.post(url, {"present": [nurse.pk, neighbour.pk]}).status_code == 302
    assert meeting.attendance.filter(present=True).count() == 2
    bad = client.post(url, {"present": [999999]})
    assert bad.status_code == 200 and bad.context["form"].errors
    page = client.get(reverse("plans:plan_detail", args=[plan.pk])).content.decode()
    assert "Greta Granne" in page

    remove = reverse("plans:participant_remove", args=[plan.pk, neighbour.pk])
    assert client.post(remove).status_code == 302
    neighbour.refresh_from_db()
    assert neighbour.removed_at is not None
    assert client.get(remove).status_code == 405
