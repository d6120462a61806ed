"""Members put their own open cases on an agenda; HLT asks for consent before a named child."""

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Concern
from directory.models import Sector
from meetings.models import AgendaItem, Meeting
from tests import factories

from .conftest import child_with_guardians, make_concern, make_meeting

pytestmark = pytest.mark.django_db


def _nominate(client, meeting, concern):
    return client.post(reverse("meetings:nominate", args=[meeting.pk]), {"concern": concern.pk})


def _errors(response) -> list[str]:
    return [str(e) for errors in response.context["form"].errors.values() for e in errors]


def test_a_member_puts_an_anonymous_case_of_their_own_on_the_agenda(cast, login):
    meeting = make_meeting(cast.bht_team)
    concern = make_concern(cast.nurse, cast.bvc)
    client = login(cast.nurse)
    page = client.get(reverse("meetings:nominate", args=[meeting.pk]))
    assert page.status_code == 200
    assert [c.pk for c in page.context["form"].fields["concern"].queryset] == [concern.pk]
    response = _nominate(client, meeting, concern)
    item = AgendaItem.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("meetings:meeting_detail", args=[meeting.pk]) + (
        f"#item-{item.pk}"
    )
    assert (item.meeting, item.concern, item.nominated_by) == (meeting, concern, cast.nurse)
    concern.refresh_from_db()
    assert concern.team == cast.bht_team


def test_the_choice_offers_only_the_users_own_open_cases_not_yet_on_this_agenda(cast, login):
    meeting = make_meeting(cast.bht_team)
    mine = make_concern(cast.nurse, cast.bvc)
    closed = make_concern(cast.nurse, cast.bvc)
    Concern.objects.filter(pk=closed.pk).update(status=Concern.Status.CLOSED)
    for_other_team = make_concern(cast.nurse, cast.bvc)
    Concern.objects.filter(pk=for_other_team.pk).update(team=cast.hlt_team)
    someone_elses = make_concern(cast.special_educator, cast.preschool)
    client = login(cast.nurse)
    for concern in (closed, for_other_team, someone_elses):
        response = _nominate(client, meeting, concern)
        assert response.status_code == 200
        assert response.context["form"].errors["concern"]
    assert not AgendaItem.objects.exists()
    assert _nominate(client, meeting, mine).status_code == 302
    choices = client.get(reverse("meetings:nominate", args=[meeting.pk])).context["form"]
    assert not choices.fields["concern"].queryset.exists()


def test_the_choice_describes_an_identified_case_without_the_childs_identity(cast, login):
    meeting = make_meeting(cast.bht_team)
    child = factories.child(bvc=cast.bvc, first_name="Vilgot", last_name="Namnsson")
    make_concern(cast.nurse, cast.bvc, child=child)
    body = login(cast.nurse).get(reverse("meetings:nominate", args=[meeting.pk])).content.decode()
    assert "Namnsson" not in body and child.identifier not in body
    assert "identified" in body


def test_hlt_refuses_a_named_child_without_the_guardians_consent_in_force(cast, login):
    meeting = make_meeting(cast.hlt_team)
    child = child_with_guardians(bvc=cast.bvc)
    concern = make_concern(cast.school_counsellor, cast.student_health, child=child)
    client = login(cast.school_counsellor)
    response = _nominate(client, meeting, concern)
    assert response.status_code == 200
    assert _errors(response) == [
        "This team discusses a named child only with the guardians' consent in force."
    ]
    # One guardian of two is not enough under joint custody.
    factories.consent(
        child,
        cast.nurse,
        "team_discussion",
        team=cast.hlt_team,
        sectors=[Sector.STUDENT_HEALTH],
        state="one_of_two",
    )
    assert _errors(_nominate(client, meeting, concern))
    assert not AgendaItem.objects.exists()


def test_hlt_accepts_a_named_child_once_the_consent_is_in_force(cast, login):
    meeting = make_meeting(cast.hlt_team)
    child = child_with_guardians(bvc=cast.bvc)
    concern = make_concern(cast.school_counsellor, cast.student_health, child=child)
    factories.consent(
        child,
        cast.nurse,
        "team_discussion",
        team=cast.hlt_team,
        sectors=[Sector.STUDENT_HEALTH, Sector.SOCIAL_SERVICES],
        state="effective",
    )
    response = _nominate(login(cast.school_counsellor), meeting, concern)
    assert response.status_code == 302
    assert AgendaItem.objects.get().concern == concern


def test_hlt_still_takes_anonymous_cases_without_consent(cast, login):
    meeting = make_meeting(cast.hlt_team)
    concern = make_concern(cast.school_counsellor, cast.student_health, age_band="10-13")
    assert _nominate(login(cast.school_counsellor), meeting, concern).status_code == 302


def test_bht_takes_a_named_child_without_consent_in_advance(cast, login):
    meeting = make_meeting(cast.bht_team)
    concern = make_concern(cast.nurse, cast.bvc, child=factories.child(bvc=cast.bvc))
    assert _nominate(login(cast.nurse), meeting, concern).status_code == 302


def test_a_closed_meeting_takes_no_more_cases(cast, login):
    meeting = make_meeting(cast.bht_team)
    Meeting.objects.filter(pk=meeting.pk).update(closed_at=timezone.now())
    concern = make_concern(cast.nurse, cast.bvc)
    response = _nominate(login(cast.nurse), meeting, concern)
    assert _errors(response) == ["The meeting is closed."]
    assert not AgendaItem.objects.exists()


def test_a_non_member_cannot_nominate_and_gets_a_404(cast, login):
    meeting = make_meeting(cast.bht_team)
    concern = make_concern(cast.school_counsellor, cast.student_health)
    client = login(cast.school_counsellor)
    assert client.get(reverse("meetings:nominate", args=[meeting.pk])).status_code == 404
    assert _nominate(client, meeting, concern).status_code == 404
    assert not AgendaItem.objects.exists()
