"""The home-visit worklist: newborns to offer, offers awaiting an answer, visits due and
overdue with their booking; a fixed number of queries; one list event per page."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AccessEvent, Action
from conftest import request_as
from directory.models import Sector
from tests import factories
from visits.models import Programme
from visits.services import enrolment_accept, visit_book, visit_document

from . import core_fixtures as fx
from .core_fixtures import NOW, accepted, newborn, offered

pytestmark = pytest.mark.django_db
frozen, programme, baby, enrolment, first_visit = (
    fx.frozen,
    fx.programme,
    fx.baby,
    fx.enrolment,
    fx.first_visit,
)
WORKLIST = reverse("visits:worklist")


def test_the_nurse_sees_her_bvcs_eligible_newborns_not_yet_offered(cast, programme, as_user):
    eligible = newborn(cast, last_name="Nyföddsson")
    newborn(cast, last_name="Utanförsson", postal_code="99240")  # outside every area
    newborn(cast, last_name="Storsson", days=7 * 13)  # older than the 12 weeks of offer
    other = fx.newborn(cast, last_name="Sjöstadsson")
    other.bvc_unit = cast.other_bvc
    other.save()

    page = as_user(cast.nurse).get(WORKLIST)

    shown = [row.child for row in page.context["eligible"]]
    assert shown == [eligible]
    assert reverse("visits:offer", args=[eligible.pk]) in page.content.decode()


def test_an_offered_family_moves_from_to_offer_to_awaiting_an_answer(
    cast, programme, baby, as_user
):
    enrolment = offered(cast, baby, programme)

    page = as_user(cast.nurse).get(WORKLIST)

    assert page.context["eligible"] == []
    assert page.context["offered"] == [enrolment]


def test_due_and_overdue_visits_show_with_their_booking_and_made_ones_drop_off(
    cast, programme, as_user
):
    due = accepted(cast, newborn(cast, days=10), programme).visits.get(programme_visit__number=1)
    overdue = accepted(cast, newborn(cast, days=25), programme).visits.get(
        programme_visit__number=1
    )  # joined on day 25, but the window closed on day 21: not applicable, not overdue
    late = accepted(cast, newborn(cast, days=15), programme).visits.get(programme_visit__number=1)
    made = accepted(cast, newborn(cast, days=12), programme).visits.get(programme_visit__number=1)
    visit_document(
        request=request_as(cast.nurse), visit=made, text="Amning fungerar.", topics=["feeding"]
    )
    booking = visit_book(
        request=request_as(cast.nurse),
        visit=due,
        starts_at=NOW + datetime.timedelta(days=1),
        nurse=cast.nurse,
        therapist=cast.family_therapist,
    )
    with_time = late.window_end + datetime.timedelta(days=1)

    page = as_user(cast.nurse).get(WORKLIST)
    rows = {visit.pk: (status, live) for visit, status, live in page.context["rows"]}
    assert set(rows) == {due.pk, late.pk}
    assert overdue.pk not in rows and made.pk not in rows
    assert rows[due.pk] == ("due", booking)
    assert rows[late.pk] == ("due", None)

    with time_machine.travel(
        datetime.datetime.combine(with_time, datetime.time(9), tzinfo=fx.STOCKHOLM), tick=False
    ):
        later = as_user(cast.nurse).get(WORKLIST)
    statuses = {visit.pk: status for visit, status, _live in later.context["rows"]}
    assert statuses[late.pk] == "overdue"
    assert "row-overdue" in later.content.decode()


def test_the_therapist_sees_only_the_visits_her_profession_takes_part_in(cast, programme, as_user):
    from directory.models import Profession

    nurse_only = programme.visits.get(number=1)
    nurse_only.professions = [Profession.BVC_NURSE]
    nurse_only.save()
    enrolment = accepted(cast, newborn(cast, days=10), programme)
    visit = enrolment.visits.get(programme_visit=nurse_only)

    nurse_rows = [v.pk for v, _s, _b in as_user(cast.nurse).get(WORKLIST).context["rows"]]
    therapist_rows = [
        v.pk for v, _s, _b in as_user(cast.family_therapist).get(WORKLIST).context["rows"]
    ]
    assert visit.pk in nurse_rows
    assert visit.pk not in therapist_rows


def test_a_partner_reads_only_her_own_programmes_visits_however_many_programmes_exist(
    cast, programme
):
    """The visits a profession takes part in are looked up among the partner's own
    programmes: a country's other programmes are not read for every page."""
    from visits.queries import _visits_with_profession

    elsewhere = Programme.objects.create(
        name="Utökade hembesök Annanstans",
        region=programme.region,
        municipality=cast.other_bvc.municipality,
        partner_unit=factories.unit("Socialtjänsten Annanstans", Sector.SOCIAL_SERVICES),
        children_born_from=datetime.date(2025, 1, 1),
    )
    for visit in programme.visits.all():
        visit.pk, visit.programme = None, elsewhere
        visit.save()
    own = set(programme.visits.values_list("pk", flat=True))
    profession = cast.family_therapist.profession
    assert set(_visits_with_profession(profession, [cast.social.pk])) == own
    assert _visits_with_profession(profession, [cast.bvc.pk]) == []


def test_the_therapist_sees_a_familys_visits_only_once_the_family_has_accepted(
    cast, programme, baby, as_user
):
    enrolment = offered(cast, baby, programme)
    client = as_user(cast.family_therapist)
    assert client.get(WORKLIST).context["rows"] == []

    enrolment_accept(request=request_as(cast.nurse), enrolment=enrolment, givings=fx.givings(baby))

    page = client.get(WORKLIST)
    assert [visit.enrolment_id for visit, _s, _b in page.context["rows"]] == [enrolment.pk]
    assert page.context["eligible"] == [] and page.context["offered"] == []
    assert baby.last_name in page.content.decode()


def test_the_worklist_writes_one_list_event_per_page(cast, programme, baby, as_user):
    offered(cast, baby, programme)
    newborn(cast)
    before = AccessEvent.objects.count()

    as_user(cast.nurse).get(WORKLIST)

    events = list(AccessEvent.objects.order_by("seq")[before:])
    assert [(e.action, e.actor_username, e.purpose) for e in events] == [
        (Action.VISITS_LIST, "nurse", "home_visits")
    ]


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(WORKLIST).status_code == 200
    return len(captured)


@pytest.mark.parametrize("user", ["nurse", "family_therapist"])
def test_the_worklist_runs_the_same_number_of_queries_for_few_and_many_families(
    cast, programme, as_user, user
):
    client = as_user(getattr(cast, user))

    def add(n: int) -> None:
        for _ in range(n):
            newborn(cast)
            offered(cast, newborn(cast), programme)
            family = accepted(cast, newborn(cast), programme)
            visit_book(
                request=request_as(cast.nurse),
                visit=family.visits.get(programme_visit__number=1),
                starts_at=NOW + datetime.timedelta(days=2),
                nurse=cast.nurse,
                therapist=cast.family_therapist,
            )

    add(2)
    few = _queries(client)
    add(12)
    many = _queries(client)

    assert few == many


def test_the_to_do_page_counts_due_and_overdue_home_visits(cast, enrolment, as_user):
    page = as_user(cast.family_therapist).get(reverse("cases:worklist"))

    text = page.content.decode()
    assert reverse("visits:worklist") in text
    assert "home-visits-title" in text


def test_the_to_do_page_runs_the_same_number_of_queries_for_few_and_many_visits(
    cast, programme, as_user
):
    client = as_user(cast.nurse)
    accepted(cast, newborn(cast), programme)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("cases:worklist"))
        return len(captured)

    few = count()
    for _ in range(6):
        accepted(cast, newborn(cast), programme)
    assert count() == few


def test_someone_outside_the_programme_sees_no_home_visit_section_on_the_to_do_page(
    cast, enrolment, as_user
):
    page = as_user(cast.special_educator).get(reverse("cases:worklist"))

    assert "home-visits-title" not in page.content.decode()


def test_a_booked_visit_shows_before_its_window_opens_and_does_not_count_as_due(
    cast, enrolment, as_user
):
    second = enrolment.visits.get(programme_visit__number=2)  # window opens in weeks
    booking = visit_book(
        request=request_as(cast.nurse),
        visit=second,
        starts_at=NOW + datetime.timedelta(days=50),
        nurse=cast.nurse,
        therapist=cast.family_therapist,
    )

    page = as_user(cast.family_therapist).get(WORKLIST)

    rows = {visit.pk: (status, live) for visit, status, live in page.context["rows"]}
    assert rows[second.pk] == ("upcoming", booking)
    counts = as_user(cast.family_therapist).get(reverse("cases:worklist")).content.decode()
    assert "home-visits-title" in counts
