"""The meeting page: anonymous items stay anonymous, identities show only where the policy
allows and are logged, outsiders get a 404, and the page costs the same however long."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from cases.models import Action as CaseAction
from cases.models import Theme
from cases.services import referral_send, report_of_concern_make
from conftest import request_as
from consent.policy import Basis, Purpose
from directory.models import Sector
from families.models import ProtectionLevel
from meetings import services
from meetings.models import Meeting
from plans.services import plan_start
from tests import factories

from .conftest import child_with_guardians, make_concern, make_meeting, nominate

pytestmark = pytest.mark.django_db


def _page(client, meeting):
    return client.get(reverse("meetings:meeting_detail", args=[meeting.pk]))


@pytest.fixture
def identified(cast):
    """A BVC child on the BHT agenda, with a team-discussion consent for social services."""
    meeting = make_meeting(cast.bht_team)
    child = child_with_guardians(bvc=cast.bvc, first_name="Ellen", last_name="Identifierbar")
    consent = factories.consent(
        child,
        cast.nurse,
        "team_discussion",
        team=cast.bht_team,
        sectors=[Sector.SOCIAL_SERVICES],
    )
    concern = make_concern(cast.nurse, cast.bvc, child=child, worry="Rarely speaks in the group.")
    item = nominate(cast.nurse, meeting, concern)
    return meeting, child, consent, item


def _item_html(body: str, item) -> str:
    start = body.index(f'id="item-{item.pk}"')
    return body[start : body.index("</article>", start)]


def _shows_identity(body: str, child) -> bool:
    named = child.last_name in body or child.identifier in body
    return named or child.identity_number in body


def test_an_anonymous_item_shows_only_age_band_where_noticed_and_the_concern(cast, login):
    meeting = make_meeting(cast.bht_team)
    concern = make_concern(
        cast.nurse,
        cast.bvc,
        worry="Sleeps badly, the parents are exhausted.",
        setting="At the 18-month visit",
        age_band="1-3",
    )
    item = nominate(cast.nurse, meeting, concern)
    response = _page(login(cast.special_educator), meeting)
    assert response.status_code == 200
    case = _item_html(response.content.decode(), item).split('class="minutes"')[0]
    facts = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", case, re.S)
    assert facts == [
        ("Age band", "1–3 years"),
        ("Noticed in", "Child health care (BVC) – At the 18-month visit"),
        ("The concern", "Sleeps badly, the parents are exhausted."),
    ]
    # Not even the noticing unit: with an age band, a small unit can point to a family.
    assert cast.bvc.name not in case
    [row] = response.context["rows"]
    assert row.shown is None
    assert not AccessEvent.objects.filter(action=Action.VIEW_MEETING_ITEM).exists()


def test_an_identified_item_shows_who_the_child_is_to_own_unit_staff(cast, login, identified):
    meeting, child, _consent, _item = identified
    body = _page(login(cast.nurse), meeting).content.decode()
    assert child.full_name in body and child.identifier in body


def test_an_identified_item_shows_who_the_child_is_to_a_sector_the_consent_covers(
    cast, login, identified
):
    meeting, child, _consent, _item = identified
    body = _page(login(cast.family_therapist), meeting).content.decode()
    assert child.full_name in body and child.identifier in body


@pytest.mark.parametrize("member", ["special_educator", "coordinator"])
def test_a_member_whose_sector_the_consent_does_not_cover_sees_the_item_as_anonymous(
    cast, login, identified, member
):
    meeting, child, _consent, _item = identified
    response = _page(login(getattr(cast, member)), meeting)
    body = response.content.decode()
    assert response.status_code == 200
    assert not _shows_identity(body, child)
    assert "Rarely speaks in the group." in body and "1–3 years" in body
    assert response.context["rows"][0].shown is None


@pytest.mark.parametrize("outsider", ["outsider", "school_counsellor"])
def test_someone_outside_the_team_gets_a_404_like_a_missing_meeting(
    cast, login, identified, outsider
):
    meeting, child, _consent, _item = identified
    client = login(getattr(cast, outsider))
    response = _page(client, meeting)
    missing = client.get(reverse("meetings:meeting_detail", args=[meeting.pk + 1000]))
    assert response.status_code == missing.status_code == 404
    assert not _shows_identity(response.content.decode(), child)
    assert not AccessEvent.objects.filter(action=Action.VIEW_MEETING_ITEM).exists()


def test_a_withdrawn_consent_hides_the_identity_at_once(cast, login):
    meeting = make_meeting(cast.bht_team)
    child = child_with_guardians(bvc=cast.bvc)
    factories.consent(
        child,
        cast.nurse,
        "team_discussion",
        team=cast.bht_team,
        sectors=[Sector.SOCIAL_SERVICES],
        state="withdrawn",
    )
    nominate(cast.nurse, meeting, make_concern(cast.nurse, cast.bvc, child=child))
    body = _page(login(cast.family_therapist), meeting).content.decode()
    assert not _shows_identity(body, child)


def test_each_identity_shown_is_written_to_the_access_log(cast, login, identified):
    meeting, child, consent, _item = identified
    _page(login(cast.family_therapist), meeting)
    _page(login(cast.special_educator), meeting)
    event = AccessEvent.objects.get(action=Action.VIEW_MEETING_ITEM)
    assert (event.actor_username, event.child_id, event.child_identifier) == (
        "therapist",
        child.pk,
        child.identifier,
    )
    assert event.purpose == Purpose.TEAM_DISCUSSION
    assert (event.basis, event.basis_reference, event.allowed) == (
        Basis.CONSENT,
        f"consent:{consent.pk}",
        True,
    )
    assert event.unit_id == cast.social.pk
    _page(login(cast.nurse), meeting)
    own = AccessEvent.objects.filter(action=Action.VIEW_MEETING_ITEM).latest("seq")
    assert (own.actor_username, own.basis, own.unit_id) == ("nurse", Basis.OWN_UNIT, cast.bvc.pk)


def test_the_team_pages_list_the_users_teams_and_meetings_without_identities(
    cast, login, identified
):
    meeting, child, _consent, _item = identified
    client = login(cast.nurse)
    teams = client.get(reverse("meetings:team_list"))
    assert [t.pk for t in teams.context["teams"]] == [cast.bht_team.pk]
    assert "Monthly, the first Tuesday, 13:00–14:00" in teams.content.decode()
    assert [m.pk for m in teams.context["teams"][0].upcoming] == [meeting.pk]
    detail = client.get(reverse("meetings:team_detail", args=[cast.bht_team.pk]))
    assert [m.pk for m in detail.context["upcoming"]] == [meeting.pk]
    assert detail.context["upcoming"][0].item_count == 1
    for response in (teams, detail):
        assert not _shows_identity(response.content.decode(), child)
    coordinator = login(cast.coordinator).get(reverse("meetings:team_list"))
    assert {t.pk for t in coordinator.context["teams"]} == {cast.bht_team.pk, cast.hlt_team.pk}
    assert (
        login(cast.nurse).get(reverse("meetings:team_detail", args=[cast.hlt_team.pk])).status_code
        == 404
    )


def test_the_team_page_splits_past_and_upcoming_meetings(cast, login):
    past = make_meeting(cast.bht_team, days=-30)
    upcoming = make_meeting(cast.bht_team, days=5)
    response = login(cast.nurse).get(reverse("meetings:team_detail", args=[cast.bht_team.pk]))
    assert [m.pk for m in response.context["upcoming"]] == [upcoming.pk]
    assert [m.pk for m in response.context["past"].object_list] == [past.pk]


def test_the_team_page_runs_the_same_number_of_queries_for_2_and_40_meetings(cast, login):
    client = login(cast.nurse)
    url = reverse("meetings:team_detail", args=[cast.bht_team.pk])
    for days in (-10, 10):
        make_meeting(cast.bht_team, days=days)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(1, 20):
        make_meeting(cast.bht_team, days=-10 - 7 * n)
        make_meeting(cast.bht_team, days=10 + 7 * n)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["upcoming"]) == 12
    assert len(response.context["past"].object_list) == 12
    assert len(many) == len(few)


def _add_items(cast, meeting: Meeting, count: int) -> None:
    """`count` items, alternately anonymous and identified (consent for social services),
    each with a theme and an action."""
    theme = Theme.objects.filter(active=True).first()
    assert theme is not None  # the default themes come with the migrations
    request = request_as(cast.nurse)
    for n in range(count):
        child = None
        if n % 2:
            child = child_with_guardians(bvc=cast.bvc)
            factories.consent(
                child,
                cast.nurse,
                "team_discussion",
                team=cast.bht_team,
                sectors=[Sector.SOCIAL_SERVICES],
            )
        item = nominate(cast.nurse, meeting, make_concern(cast.nurse, cast.bvc, child=child))
        item.themes.set([theme])
        services.action_add(
            request=request,
            item=item,
            what=f"Call the family {n}",
            responsible=cast.family_therapist,
            due_date=datetime.date(2026, 4, 1),
        )


def _queries(client, meeting) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = _page(client, meeting)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("viewer", ["family_therapist", "coordinator", "nurse"])
def test_the_meeting_page_runs_the_same_number_of_queries_for_2_and_8_items(cast, login, viewer):
    earlier = make_meeting(cast.bht_team, days=-30)
    _add_items(cast, earlier, 2)  # open actions to follow up
    meeting = make_meeting(cast.bht_team)
    client = login(getattr(cast, viewer))
    _add_items(cast, meeting, 2)
    with_two = _queries(client, meeting)
    _add_items(cast, meeting, 6)
    assert _queries(client, meeting) == with_two


def test_a_closed_meeting_page_also_costs_the_same_for_2_and_8_items(cast, login):
    meeting = make_meeting(cast.bht_team)
    _add_items(cast, meeting, 2)
    Meeting.objects.filter(pk=meeting.pk).update(closed_at=meeting.ends_at)
    client = login(cast.coordinator)
    with_two = _queries(client, meeting)
    Meeting.objects.filter(pk=meeting.pk).update(closed_at=None)
    _add_items(cast, meeting, 6)
    Meeting.objects.filter(pk=meeting.pk).update(closed_at=meeting.ends_at)
    assert _queries(client, meeting) == with_two


def test_the_team_list_runs_the_same_number_of_queries_for_1_and_3_teams(cast, login):
    client = login(cast.nurse)
    make_meeting(cast.bht_team)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("meetings:team_list"))
    for n in range(2):
        team = factories.team(f"Extra {n}", "other", cast.coordinator, [(cast.nurse, cast.bvc)])
        for days in (3, 10, 17, 24):
            make_meeting(team, days=days)
    with CaptureQueriesContext(connection) as three:
        response = client.get(reverse("meetings:team_list"))
    assert len(response.context["teams"]) == 3
    assert all(len(team.upcoming) <= 3 for team in response.context["teams"])
    assert len(three) == len(one)


def test_the_meeting_pages_carry_no_inline_script_or_style_and_link_their_stylesheet(
    cast, login, identified
):
    meeting, _child, _consent, _item = identified
    client = login(cast.coordinator)
    urls = [
        reverse("meetings:team_list"),
        reverse("meetings:team_detail", args=[cast.bht_team.pk]),
        reverse("meetings:meeting_detail", args=[meeting.pk]),
        reverse("meetings:nominate", args=[meeting.pk]),
    ]
    services.meeting_close(request=request_as(cast.coordinator), meeting=meeting)
    urls.append(reverse("meetings:meeting_detail", args=[meeting.pk]))  # with amend forms
    for url in urls:
        body = client.get(url).content.decode()
        assert "<script" not in body and "<style" not in body, url
        assert not re.search(r"\sstyle=|\son[a-z]+=", body), url
        assert "css/meetings.css" in body, url


# --- Every kind of agenda item: the page's cost must not depend on what the agenda holds ---


def _identified_concern(cast, child, *, by=None, unit=None):
    return make_concern(by or cast.nurse, unit or cast.bvc, child=child)


def _item_anonymous_with_theme_and_actions(cast, meeting):
    item = nominate(cast.nurse, meeting, make_concern(cast.nurse, cast.bvc))
    item.themes.set(Theme.objects.filter(active=True)[:2])
    request = request_as(cast.nurse)
    overdue = services.action_add(
        request=request,
        item=item,
        what="Call the family",
        responsible=cast.family_therapist,
        due_date=datetime.date(2026, 3, 1),
    )
    services.action_add(
        request=request,
        item=item,
        what="Book a home visit",
        responsible=cast.nurse,
        due_date=datetime.date(2026, 4, 1),
    )
    CaseAction.objects.filter(pk=overdue.pk).update(done_at=timezone.now())
    return item


def _item_under_team_consent(cast, meeting, bvc, recorder, sectors):
    """An identified item about a child of `bvc` with a team-discussion consent for `sectors`."""
    child = child_with_guardians(bvc=bvc)
    factories.consent(child, recorder, "team_discussion", team=cast.bht_team, sectors=sectors)
    return nominate(cast.nurse, meeting, _identified_concern(cast, child))


def _item_own_unit_child_the_coordinator_sees_by_consent(cast, meeting):
    sectors = [Sector.SOCIAL_SERVICES, Sector.OPEN_PRESCHOOL]
    return _item_under_team_consent(cast, meeting, cast.bvc, cast.nurse, sectors)


def _item_other_units_child_the_nurse_sees_only_by_consent(cast, meeting):
    sectors = [Sector.CHILD_HEALTH, Sector.OPEN_PRESCHOOL]
    return _item_under_team_consent(cast, meeting, cast.other_bvc, cast.outsider, sectors)


def _item_with_report_of_concern_referral_and_plan(cast, meeting):
    """A child social services see through a report of concern (no consent), with a
    referral under a referral consent and a SIP started under a SIP consent."""
    child = child_with_guardians(bvc=cast.bvc)
    request = request_as(cast.nurse)
    report_of_concern_make(request=request, child=child, to_unit=cast.social, what="Bruises.")
    concern = _identified_concern(cast, child)
    referral_consent = factories.consent(
        child, cast.nurse, "referral", service=cast.child_psychologist
    )
    referral_send(
        request=request,
        concern=concern,
        service=cast.child_psychologist,
        consent=referral_consent,
    )
    factories.consent(child, cast.nurse, "sip", sectors=[Sector.SOCIAL_SERVICES])
    plan_start(
        request=request,
        child=child,
        requested_by="The guardians",
        requested_on=timezone.localdate(),
        concern=concern,
    )
    return nominate(cast.nurse, meeting, concern)


def _item_hidden_child_consent_for_another_team(cast, meeting):
    """A child nobody in this team may see: its only consent is for another team's
    meetings, and another was withdrawn."""
    child = child_with_guardians(bvc=cast.other_bvc)
    for state, team in (("effective", cast.hlt_team), ("withdrawn", cast.bht_team)):
        factories.consent(
            child,
            cast.outsider,
            "team_discussion",
            team=team,
            sectors=[Sector.CHILD_HEALTH, Sector.OPEN_PRESCHOOL, Sector.SOCIAL_SERVICES],
            state=state,
        )
    return nominate(cast.nurse, meeting, _identified_concern(cast, child))


def _item_by_another_member_with_minutes(cast, meeting):
    """Nominated by another member from another unit, minutes and decisions written, a
    contact person who is not the nominator."""
    concern = make_concern(cast.special_educator, cast.preschool, age_band="3-6")
    item = nominate(cast.special_educator, meeting, concern)
    return services.minutes_save(
        request=request_as(cast.coordinator),
        item=item,
        version=item.version,
        discussion="Discussed the sleep pattern.",
        decisions="The family therapist offers a meeting.",
        themes=list(Theme.objects.filter(active=True)[:3]),
        contact_person=cast.family_therapist,
    )


def _item_child_with_many_consents(cast, meeting):
    """A protected child with several consents: for this team (a sector and a unit), for
    another team, pending, expired."""
    child = child_with_guardians(bvc=cast.bvc, protection=ProtectionLevel.PROTECTED_ADDRESS)
    for team, state, scope in (
        (cast.bht_team, "effective", {"sectors": [Sector.SOCIAL_SERVICES]}),
        (cast.bht_team, "effective", {"units": [cast.social, cast.open_preschool]}),
        (cast.hlt_team, "effective", {"sectors": [Sector.STUDENT_HEALTH]}),
        (cast.bht_team, "one_of_two", {"sectors": [Sector.PRESCHOOL]}),
        (cast.bht_team, "expired", {"sectors": [Sector.PRESCHOOL]}),
    ):
        factories.consent(child, cast.nurse, "team_discussion", team=team, state=state, **scope)
    return nominate(cast.nurse, meeting, _identified_concern(cast, child))


def _item_school_child_with_action(cast, meeting):
    child = child_with_guardians(bvc=cast.bvc, school=cast.school)
    item = nominate(cast.nurse, meeting, _identified_concern(cast, child))
    services.action_add(
        request=request_as(cast.coordinator),
        item=item,
        what="Ask the school",
        responsible=cast.coordinator,
        due_date=datetime.date(2026, 5, 1),
    )
    return item


# The first two make the agenda of two: an anonymous item and one the coordinator and the
# nurse may see. The rest add what the page treats differently.
ITEM_KINDS = [
    _item_anonymous_with_theme_and_actions,
    _item_own_unit_child_the_coordinator_sees_by_consent,
    _item_other_units_child_the_nurse_sees_only_by_consent,
    _item_with_report_of_concern_referral_and_plan,
    _item_hidden_child_consent_for_another_team,
    _item_by_another_member_with_minutes,
    _item_child_with_many_consents,
    _item_school_child_with_action,
]


def _measure(client, meeting):
    with CaptureQueriesContext(connection) as queries:
        response = _page(client, meeting)
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
@pytest.mark.parametrize("viewer", ["coordinator", "nurse", "special_educator", "family_therapist"])
def test_the_meeting_page_costs_the_same_for_2_and_8_items_of_every_kind(
    cast, login, viewer, closed
):
    """Whatever rule shows (or hides) each child, and whatever each item carries, the page
    runs the same queries: the policy decides the whole agenda at once, whichever rule
    applies, and every identity shown is logged in one batch."""
    earlier = make_meeting(cast.bht_team, days=-30)
    for make in ITEM_KINDS[:3]:  # open actions to follow up, about children of each kind
        services.action_add(
            request=request_as(cast.nurse),
            item=make(cast, earlier),
            what="Follow up",
            responsible=cast.nurse,
            due_date=datetime.date(2026, 3, 20),
        )
    meeting = make_meeting(cast.bht_team)
    coordinator = request_as(cast.coordinator)
    services.attendance_set(request=coordinator, meeting=meeting, present={cast.nurse.pk})
    client = login(getattr(cast, viewer))

    def add_and_measure(kinds):
        Meeting.objects.filter(pk=meeting.pk).update(closed_at=None, closed_by=None)
        items = [make(cast, meeting) for make in kinds]
        if closed:
            services.meeting_close(request=coordinator, meeting=meeting)
            for item in items:
                item.refresh_from_db()
                services.item_amend(
                    request=coordinator,
                    item=item,
                    field="decisions",
                    new_value="Corrected.",
                    reason="A typing error.",
                )
        return _measure(client, meeting)

    with_two, response = add_and_measure(ITEM_KINDS[:2])
    shown = [row.shown is not None for row in response.context["rows"]]
    assert shown == [False, viewer != "special_educator"]
    with_eight, response = add_and_measure(ITEM_KINDS[2:])
    assert len(response.context["rows"]) == 8
    if viewer == "special_educator":  # the member who sees only anonymous items
        assert not any(row.shown for row in response.context["rows"])
    assert with_eight == with_two
