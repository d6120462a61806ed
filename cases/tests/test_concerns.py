"""Concerns: recorded anonymously or about a child, identified later under consent, and the
case page that shows them to the people who work on them."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent
from audit.models import Action as AuditAction
from cases.forms import ConcernForm
from cases.models import Action, AgeBand, Concern, Theme
from cases.services import CaseError, concern_record
from conftest import request_as
from consent.policy import Purpose
from demo.identity_numbers import fictional_personnummer
from directory.models import Sector, Team
from meetings.models import AgendaItem, Meeting
from tests import factories

from .conftest import child_with_guardians, make_concern, team_consent

pytestmark = pytest.mark.django_db

NEW = reverse("cases:concern_new")


def _anonymous(cast, **overrides):
    data = {
        "unit": cast.bvc.pk,
        "age_band": AgeBand.TODDLER,
        "setting": "At the 18-month visit",
        "worry": "Often tired, sleeps badly according to the parents.",
        "themes": [Theme.objects.get(code="sleep").pk],
        "team": cast.bht_team.pk,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- Anonymous concerns ---------------------------------------------------------------------


def test_an_anonymous_concern_is_saved_without_identity(cast, login):
    response = login(cast.nurse).post(NEW, _anonymous(cast))
    concern = Concern.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("cases:concern_detail", args=[concern.pk])
    assert concern.child is None and concern.identified_at is None
    assert (concern.sector, concern.unit, concern.age_band) == (
        Sector.CHILD_HEALTH,
        cast.bvc,
        AgeBand.TODDLER,
    )
    assert [t.code for t in concern.themes.all()] == ["sleep"]
    assert concern.team == cast.bht_team and concern.contact_person == cast.nurse
    assert not AccessEvent.objects.filter(child_id__isnull=False).exists()


def test_the_anonymous_form_has_no_field_that_could_hold_an_identity(cast):
    form = ConcernForm(units=[cast.bvc], teams=Team.objects.none(), anonymous=True)
    assert set(form.fields) == {
        "unit",
        "setting",
        "age_band",
        "worry",
        "themes",
        "team",
        "text_checked",
    }
    concern_columns = {field.name for field in Concern._meta.get_fields()}
    assert not concern_columns & {"identity_number", "first_name", "birth_date", "address"}


def _number_in_text() -> str:
    number = fictional_personnummer(datetime.date(2024, 5, 17), 7)
    return f"{number[2:8]}-{number[8:]}"


@pytest.mark.parametrize("where", ["worry", "setting"])
def test_a_personnummer_in_the_text_warns_and_saves_nothing_until_confirmed(cast, login, where):
    client = login(cast.nurse)
    text = f"The child {_number_in_text()} seems tired."
    response = client.post(NEW, _anonymous(cast, **{where: text[:100]}))
    body = response.content.decode()
    assert response.status_code == 200
    assert "seems to contain a personal identity number" in body
    assert 'name="text_checked"' in body and "required" in body
    assert Concern.objects.count() == 0

    # Sent again without ticking the box: still nothing saved.
    again = client.post(NEW, _anonymous(cast, **{where: text[:100]}))
    assert again.status_code == 200 and Concern.objects.count() == 0

    confirmed = client.post(NEW, _anonymous(cast, **{where: text[:100]}, text_checked="on"))
    assert confirmed.status_code == 302
    assert Concern.objects.get().child is None


def test_a_name_from_the_register_warns_without_revealing_whose_it_is(cast, login):
    other = factories.child(bvc=cast.other_bvc, first_name="Saga", last_name="Lindqvist")
    response = login(cast.nurse).post(
        NEW, _anonymous(cast, worry="Saga cries every morning at drop-off.")
    )
    body = response.content.decode()
    assert "seems to contain a name that is in the family register" in body
    assert Concern.objects.count() == 0
    for secret in ("Lindqvist", other.identifier, other.identity_number, cast.other_bvc.name):
        assert secret not in body
    # The check reads the register, never a child: nothing about the child is logged.
    assert not AccessEvent.objects.filter(child_id=other.pk).exists()


def test_a_text_without_names_or_numbers_is_saved_at_once(cast, login):
    response = login(cast.nurse).post(
        NEW, _anonymous(cast, worry="the parents say the child wakes at 3 every night.")
    )
    assert response.status_code == 302 and Concern.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"worry": ""}, "worry"),
        ({"worry": "x" * 5001}, "worry"),
        ({"age_band": "99"}, "age_band"),
        ({"age_band": None}, "age_band"),
        ({"unit": "other_bvc"}, "unit"),
        ({"unit": "abc"}, "unit"),
        ({"themes": ["not-a-theme"]}, "themes"),
        ({"team": "hlt_team"}, "team"),
        ({"setting": "s" * 101}, "setting"),
    ],
)
def test_bad_concern_input_gives_a_clear_error_and_changes_nothing(cast, login, overrides, field):
    for key, value in overrides.items():
        if value in ("other_bvc", "hlt_team"):
            overrides[key] = getattr(cast, value).pk
    response = login(cast.nurse).post(NEW, _anonymous(cast, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Concern.objects.count() == 0


def test_an_empty_post_is_a_form_with_errors_not_a_crash(cast, login):
    response = login(cast.nurse).post(NEW, {})
    assert response.status_code == 200 and response.context["form"].errors
    assert Concern.objects.count() == 0


# --- Identified concerns --------------------------------------------------------------------


def test_a_concern_about_a_child_is_recorded_from_the_child_page(cast, login):
    child = factories.child(bvc=cast.bvc, birth=datetime.date(2024, 1, 5))
    page = login(cast.nurse).get(reverse("families:child_detail", args=[child.pk]))
    url = reverse("cases:concern_new_for_child", args=[child.pk])
    assert url in page.content.decode()
    assert reverse("cases:report_new", args=[child.pk]) in page.content.decode()

    form = login(cast.nurse).get(url)
    assert "age_band" not in form.context["form"].fields
    response = login(cast.nurse).post(
        url, {"unit": cast.bvc.pk, "worry": "Saga is often tired.", "setting": ""}
    )
    concern = Concern.objects.get()
    assert response.status_code == 302
    assert concern.child == child and concern.identified_by == cast.nurse
    assert concern.age_band == AgeBand.of(child.birth_date)
    event = AccessEvent.objects.get(action=AuditAction.CONCERN_RECORD)
    assert (event.child_id, event.basis, event.allowed) == (child.pk, "own_unit", True)


def test_an_identified_concern_about_another_units_child_is_refused(cast, login):
    child = factories.child(bvc=cast.bvc)
    url = reverse("cases:concern_new_for_child", args=[child.pk])
    response = login(cast.outsider).post(url, {"unit": cast.other_bvc.pk, "worry": "Worried."})
    assert response.status_code == 404
    assert Concern.objects.count() == 0
    with pytest.raises(CaseError):
        concern_record(
            request=request_as(cast.family_therapist), unit=cast.social, worry="x", child=child
        )
    assert Concern.objects.count() == 0


# --- Identifying an anonymous concern -------------------------------------------------------


@pytest.mark.parametrize("state", ["none", "one_of_two", "withdrawn", "expired"])
def test_identifying_is_refused_without_an_effective_consent(cast, login, state):
    child = child_with_guardians(bvc=cast.bvc)
    consent = team_consent(child, cast.nurse, cast.bht_team, state=state)
    concern = make_concern(cast.nurse, cast.bvc, team=cast.bht_team)
    response = login(cast.nurse).post(
        reverse("cases:concern_identify", args=[concern.pk]),
        {"child": child.pk, "consent": consent.pk},
    )
    assert response.status_code == 200
    assert "not in force" in str(response.context["form"].errors["consent"])
    concern.refresh_from_db()
    assert concern.is_anonymous and concern.identifying_consent is None


def test_identifying_is_refused_when_no_consent_is_chosen(cast, login):
    child = child_with_guardians(bvc=cast.bvc)
    concern = make_concern(cast.nurse, cast.bvc, team=cast.bht_team)
    response = login(cast.nurse).post(
        reverse("cases:concern_identify", args=[concern.pk]), {"child": child.pk}
    )
    assert response.status_code == 200 and response.context["form"].errors["consent"]
    concern.refresh_from_db()
    assert concern.is_anonymous


def test_an_effective_consent_links_the_case_to_the_child_and_keeps_its_history(cast, login):
    child = child_with_guardians(bvc=cast.bvc)
    consent = team_consent(child, cast.nurse, cast.bht_team)
    concern = make_concern(cast.nurse, cast.bvc, team=cast.bht_team)
    concern.themes.set([Theme.objects.get(code="sleep")])
    before = (concern.created_at, concern.worry, concern.setting, concern.age_band)
    response = login(cast.nurse).post(
        reverse("cases:concern_identify", args=[concern.pk]),
        {"child": child.pk, "consent": consent.pk},
    )
    assert response.status_code == 302
    concern.refresh_from_db()
    assert concern.child == child and concern.identifying_consent == consent
    assert (concern.created_at, concern.worry, concern.setting, concern.age_band) == before
    assert [t.code for t in concern.themes.all()] == ["sleep"]
    event = AccessEvent.objects.get(action=AuditAction.CONCERN_IDENTIFY)
    assert (event.child_id, event.purpose, event.allowed) == (
        child.pk,
        Purpose.TEAM_DISCUSSION,
        True,
    )


def test_a_consent_for_another_team_cannot_identify_the_case(cast, login):
    child = child_with_guardians(bvc=cast.bvc, school=cast.preschool)
    consent = team_consent(child, cast.nurse, cast.hlt_team)
    concern = make_concern(cast.nurse, cast.bvc, team=cast.bht_team)
    response = login(cast.nurse).post(
        reverse("cases:concern_identify", args=[concern.pk]),
        {"child": child.pk, "consent": consent.pk},
    )
    assert "another team" in str(response.context["form"].errors)
    concern.refresh_from_db()
    assert concern.is_anonymous


def test_the_identify_page_searches_only_children_the_user_may_see(cast, login):
    own = child_with_guardians(bvc=cast.bvc, first_name="Saga", last_name="Lindqvist")
    stranger = factories.child(bvc=cast.other_bvc, first_name="Saga", last_name="Berg")
    team_consent(own, cast.nurse, cast.bht_team)
    team_consent(own, cast.nurse, cast.bht_team, state="one_of_two")
    concern = make_concern(cast.nurse, cast.bvc, team=cast.bht_team)
    url = reverse("cases:concern_identify", args=[concern.pk])
    client = login(cast.nurse)

    found = client.get(url, {"q": "Saga"})
    assert [c.pk for c in found.context["results"]] == [own.pk]
    assert "Berg" not in found.content.decode()
    assert AccessEvent.objects.filter(action=AuditAction.LIST_CHILDREN).exists()

    chosen = client.get(url, {"barn": own.pk})
    body = chosen.content.decode()
    assert chosen.context["chosen"] == own
    assert body.count('name="consent"') == 1  # the pending consent is shown, not selectable
    assert "Waiting for a guardian" in body

    assert client.get(url, {"barn": stranger.pk}).status_code == 404
    assert client.get(url, {"barn": "x"}).status_code == 200
    assert client.get(url, {"q": "<script>"}).context["pick"].errors


def test_identifying_with_a_child_the_user_may_not_see_is_refused(cast, login):
    stranger = child_with_guardians(bvc=cast.other_bvc)
    consent = team_consent(stranger, factories.professional(units=[cast.other_bvc]), cast.bht_team)
    concern = make_concern(cast.nurse, cast.bvc, team=cast.bht_team)
    response = login(cast.nurse).post(
        reverse("cases:concern_identify", args=[concern.pk]),
        {"child": stranger.pk, "consent": consent.pk},
    )
    assert response.status_code == 200 and response.context["form"].errors
    concern.refresh_from_db()
    assert concern.is_anonymous


def test_an_identified_case_is_not_identified_again(cast, login):
    child = factories.child(bvc=cast.bvc)
    concern = make_concern(cast.nurse, cast.bvc, child=child)
    response = login(cast.nurse).get(reverse("cases:concern_identify", args=[concern.pk]))
    assert response.status_code == 302


# --- The case page --------------------------------------------------------------------------


def test_the_case_page_shows_history_actions_and_referrals(cast, login):
    concern = make_concern(cast.nurse, cast.bvc, team=cast.bht_team)
    starts = timezone.now() - datetime.timedelta(days=14)
    meeting = Meeting.objects.create(
        team=cast.bht_team, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1)
    )
    AgendaItem.objects.create(
        meeting=meeting, concern=concern, nominated_by=cast.nurse, decisions="Offer a home visit."
    )
    Action.objects.create(
        concern=concern,
        team=cast.bht_team,
        what="Call the family",
        responsible=cast.nurse,
        due_date=timezone.localdate() - datetime.timedelta(days=1),
        created_by=cast.coordinator,
    )
    response = login(cast.special_educator).get(reverse("cases:concern_detail", args=[concern.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Offer a home visit." in body and f"{starts:%Y-%m-%d}" in body
    assert "BHT Plus Ekby" in body and "Call the family" in body and "Overdue" in body
    assert "Anonymous case" in body


def test_who_sees_an_identified_case_and_its_child(cast, login):
    child = child_with_guardians(bvc=cast.bvc)
    concern = make_concern(cast.nurse, cast.bvc, child=child, team=cast.bht_team)
    url = reverse("cases:concern_detail", args=[concern.pk])

    creator = login(cast.nurse).get(url)
    assert creator.status_code == 200 and child.full_name in creator.content.decode()
    event = AccessEvent.objects.get(action=AuditAction.VIEW_CONCERN)
    assert (event.child_id, event.basis, event.actor_username) == (child.pk, "own_unit", "nurse")

    # A team member follows the case, but sees the child only under a consent.
    member = login(cast.family_therapist).get(url)
    assert member.status_code == 200
    assert child.full_name not in member.content.decode()
    assert "Identified case" in member.content.decode()
    assert AccessEvent.objects.filter(actor_username="therapist").count() == 0

    consent = team_consent(child, cast.nurse, cast.bht_team)
    with_consent = login(cast.family_therapist).get(url)
    assert child.full_name in with_consent.content.decode()
    event = AccessEvent.objects.get(actor_username="therapist", action=AuditAction.VIEW_CONCERN)
    assert (event.basis, event.basis_reference) == ("consent", f"consent:{consent.pk}")

    # Not the creator, not in the team, no access to the child: like a missing case.
    assert login(cast.school_counsellor).get(url).status_code == 404
    assert login(cast.outsider).get(url).status_code == 404


def test_a_refused_case_is_a_404_like_a_missing_one_and_is_logged(cast, login):
    concern = make_concern(cast.nurse, cast.bvc)
    client = login(cast.outsider)
    forbidden = client.get(reverse("cases:concern_detail", args=[concern.pk]))
    missing = client.get(reverse("cases:concern_detail", args=[concern.pk + 1000]))
    assert forbidden.status_code == missing.status_code == 404
    denied = AccessEvent.objects.filter(allowed=False).order_by("seq")
    assert [e.basis_reference for e in denied] == [
        f"concern:{concern.pk}",
        f"concern:{concern.pk + 1000}",
    ]


def test_the_contact_person_marks_the_family_as_contacted(cast, login):
    concern = make_concern(cast.nurse, cast.bvc, team=cast.bht_team)
    url = reverse("cases:concern_family_contacted", args=[concern.pk])

    refused = login(cast.special_educator).post(url)
    assert refused.status_code == 200
    assert "Only the person who contacts the family" in refused.content.decode()
    concern.refresh_from_db()
    assert concern.family_contacted_at is None

    page = login(cast.nurse).get(reverse("cases:concern_detail", args=[concern.pk]))
    assert url in page.content.decode()
    assert login(cast.nurse).post(url).status_code == 302
    concern.refresh_from_db()
    assert concern.family_contacted_at is not None
