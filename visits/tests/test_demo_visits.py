"""The demo's home-visit programmes and families: loaded once (a second run adds nothing),
with every stage of the programme present in an all-families area and in a first-time-parents
area."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db.models import Exists, OuterRef, Q

from consent import policy
from demo.data import REGION
from demo.models import DemoState
from demo.visits_history import EKBY, SJOSTAD
from directory.models import Professional
from families.models import Child
from visits.eligibility import area_of, eligible_children, is_first_born
from visits.models import (
    Enrolment,
    HomeVisit,
    Programme,
    ProgrammeArea,
    VisitBooking,
    VisitNote,
)
from visits.queries import Status, visit_status

pytestmark = pytest.mark.django_db

ALL, FIRST = ProgrammeArea.Rule.ALL_FAMILIES, ProgrammeArea.Rule.FIRST_TIME_PARENTS
MODELS = (Programme, Enrolment, HomeVisit, VisitBooking, VisitNote, Child)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo, loaded twice, once for the module (the loader is what is tested)."""
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            call_command("load_demo", verbosity=0)
            first = {m.__name__: m.objects.count() for m in MODELS}
            call_command("load_demo", verbosity=0)
            second = {m.__name__: m.objects.count() for m in MODELS}
            yield first, second
            transaction.set_rollback(True)


@pytest.fixture
def ekby(demo) -> Programme:
    return Programme.objects.get(name=EKBY)


def test_a_second_run_adds_nothing(demo):
    first, second = demo
    assert first == second
    assert first["Programme"] == 2 and first["Enrolment"] > 20


def test_the_ekby_programme_is_configured_as_the_design_says(ekby):
    assert ekby.active and ekby.region.name == REGION
    assert ekby.municipality.name == "Ekby kommun"
    assert ekby.partner_unit.name == "Socialtjänsten Ekby, öppenvård"
    anchor = DemoState.objects.get().anchor_date
    assert anchor - datetime.timedelta(days=735) < ekby.children_born_from < anchor
    visits = list(ekby.visits.order_by("number"))
    assert [(v.age_months, v.age_weeks) for v in visits] == [
        (0, 1),
        (2, 0),
        (4, 0),
        (8, 0),
        (15, 0),
    ]
    assert all(v.professions for v in visits)
    assert visits[0].professions == ["bvc_nurse", "family_therapist"]
    assert sorted(ekby.areas.values_list("postal_code_prefix", "rule")) == [
        ("99130", ALL),
        ("99134", ALL),
        ("99138", FIRST),
    ]


def test_a_second_variant_shows_that_a_programme_is_configuration(demo):
    sjostad = Programme.objects.get(name=SJOSTAD)
    assert not sjostad.active
    assert [v.age_months for v in sjostad.visits.order_by("number")] == [0, 2, 4, 8, 12, 15]
    assert set(sjostad.areas.values_list("rule", flat=True)) == {FIRST}


def test_the_administrator_may_set_up_programmes(demo):
    admin = Professional.objects.get(username="regionadmin")
    assert admin.has_perms(["visits.add_programme", "visits.change_programme"])


def test_an_unoffered_newborn_with_two_guardians_waits_in_the_all_families_area(ekby):
    """The home-visit browser test offers the programme to this child."""
    anchor = DemoState.objects.get().anchor_date
    newborns = eligible_children(
        ekby,
        Child.objects.filter(
            bvc_unit__name="BVC Ekby centrum",
            postal_code="99130",
            birth_date__gte=anchor - datetime.timedelta(weeks=ekby.offer_until_weeks),
        ).exclude(enrolments__programme=ekby),
    )
    fitting = [
        c
        for c in newborns
        if is_first_born(c) and c.custodies.filter(kind="joint").count() == 2 and not c.is_protected
    ]
    assert fitting


def _stages(programme: Programme, rule: str) -> set[str]:
    """Which stages the demo has for families offered the programme under `rule`."""
    anchor = DemoState.objects.get().anchor_date
    found: set[str] = set()
    enrolments = Enrolment.objects.filter(programme=programme, rule=rule)
    if enrolments.filter(status="offered").exists():
        found.add("offered")
    declined = enrolments.filter(status="declined")
    if declined.exclude(decline_reason="").exists():
        found.add("declined with a reason")
    if declined.filter(decline_reason="").exists():
        found.add("declined without a reason")
    visits = HomeVisit.objects.filter(enrolment__in=enrolments.filter(status="accepted"))
    done = visits.filter(done_at__isnull=False)
    if any(v.done_on_time for v in done):
        found.add("done on time")
    if any(not v.done_on_time for v in done):
        found.add("done late")
    live = VisitBooking.objects.filter(visit=OuterRef("pk"), cancelled_at__isnull=True)
    moved = VisitBooking.objects.filter(visit=OuterRef("pk"), cancelled_at__isnull=False)
    open_ = visits.filter(done_at__isnull=True, cancelled_at__isnull=True)
    if open_.filter(window_end__lt=anchor).exists():
        found.add("overdue")
    due = open_.filter(window_start__lte=anchor, window_end__gte=anchor)
    if due.filter(~Exists(live)).exists():
        found.add("due now")
    if due.filter(Exists(live)).exists():
        found.add("booked")
    if due.filter(Exists(live), Exists(moved)).exists():
        found.add("booked and moved")
    notes = VisitNote.objects.filter(visit__in=done)
    if (
        notes.filter(unit=programme.partner_unit).exists()
        and notes.filter(unit__sector="child_health").exists()
    ):
        found.add("notes by both professions")
    for child in eligible_children(programme).exclude(enrolments__programme=programme):
        area = area_of(programme, child)
        assert area is not None, "an eligible child lives in one of the programme's areas"
        if area.rule == rule and (
            (anchor - child.birth_date).days < 7 * programme.offer_until_weeks
        ):
            found.add("eligible, not offered")
    return found


EVERY_STAGE = {
    "eligible, not offered",
    "offered",
    "declined with a reason",
    "declined without a reason",
    "done on time",
    "done late",
    "due now",
    "overdue",
    "booked",
    "booked and moved",
    "notes by both professions",
}


@pytest.mark.parametrize("rule", [ALL, FIRST])
def test_every_stage_is_present_in_both_kinds_of_area(ekby, rule):
    assert _stages(ekby, rule) == EVERY_STAGE


def test_a_first_time_parents_area_has_a_newborn_who_is_not_eligible(ekby):
    anchor = DemoState.objects.get().anchor_date
    newborns = Child.objects.filter(
        postal_code="99138", birth_date__gte=anchor - datetime.timedelta(weeks=12)
    )
    eligible = eligible_children(ekby, newborns)
    assert newborns.exclude(pk__in=eligible.values("pk")).exists()


def test_accepted_families_gave_their_consent_so_the_family_therapist_sees_them(ekby):
    therapist = Professional.objects.get(username="familjebehandlare")
    enrolled = Enrolment.objects.filter(programme=ekby, status__in=["accepted", "ended"])
    assert enrolled.exists() and not enrolled.filter(consent__isnull=True).exists()
    for enrolment in enrolled.select_related("consent"):
        assert enrolment.consent.purpose == policy.Purpose.HOME_VISITS
        assert enrolment.consent.effective_from is not None
        assert enrolment.consent.givings.count() == enrolment.child.custodies.count()
    # The consent lasts the programme's span and a margin: families long past their last
    # visit have ended, and social services no longer sees them.
    visible = set(policy.visible_enrolments(therapist).filter(programme=ekby))
    assert set(enrolled.filter(status="accepted")) <= visible <= set(enrolled)
    assert set(enrolled.filter(status="ended")) - visible


def test_every_done_visit_is_documented_and_notes_stay_in_their_own_units(ekby):
    done = HomeVisit.objects.filter(enrolment__programme=ekby, done_at__isnull=False)
    assert not done.filter(~Exists(VisitNote.objects.filter(visit=OuterRef("pk")))).exists()
    units = set(VisitNote.objects.values_list("unit__name", flat=True))
    assert units == {"BVC Ekby centrum", "Socialtjänsten Ekby, öppenvård"}
    assert not VisitNote.objects.filter(
        Q(unit__name="BVC Ekby centrum", author__username="familjebehandlare")
        | Q(unit__name="Socialtjänsten Ekby, öppenvård", author__username="bvc-sjukskoterska")
    ).exists()


def test_the_coverage_statistics_of_the_demo_show_figures(ekby):
    from visits.statistics import coverage

    anchor = DemoState.objects.get().anchor_date
    figures = coverage(ekby, ekby.children_born_from, anchor, anchor)
    total = figures.areas[-1]
    assert total.counts["eligible"] is not None and total.counts["offered"] is not None


def test_a_family_that_moved_away_shows_a_programme_ended_early(ekby):
    """The demo's family that moved: the BVC ended the programme with the reason; the visits
    made stay, the rest and the next visit's booking were cancelled when it ended."""
    ended = Enrolment.objects.get(programme=ekby, end_reason__contains="flyttat")
    assert ended.status == Enrolment.Status.ENDED and ended.ended_at is not None
    visits = list(ended.visits.all())
    made = [visit for visit in visits if visit.done_at is not None]
    cancelled = [visit for visit in visits if visit.cancelled_at is not None]
    assert made and cancelled and len(made) + len(cancelled) == len(visits)
    today = datetime.date.today()
    assert {visit_status(visit, today, ended.ended_at) for visit in cancelled} == {Status.ENDED}
    booking = VisitBooking.objects.get(visit__enrolment=ended)
    assert booking.cancelled_at == ended.ended_at and booking.cancel_reason == ended.end_reason
