"""Regional statistics: the right raw counts on a known small region (time frozen), small
cells suppressed with their complements across municipalities and the region, the ORM and
the hand-written SQL counting the same, and a fixed number of queries."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from directory.models import Service
from reports.figures import REGION, Figures, frame_of
from reports.statistics import collect_figures, regional_statistics, regional_statistics_sql
from reports.statistics_sql import collect_figures_sql
from screening.models import Domain
from visits.models import Enrolment, ProgrammeArea

from .world import World, at, build_world, present

pytestmark = pytest.mark.django_db

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
NOW = datetime.datetime(2026, 7, 15, 10, 0, tzinfo=STOCKHOLM)
START, END = datetime.date(2026, 1, 1), datetime.date(2026, 6, 30)
PSYCH, BUDGET = Service.Kind.CHILD_PSYCHOLOGIST, Service.Kind.BUDGET_DEBT
D = Domain


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


@pytest.fixture
def world() -> World:
    return build_world()


def known(w: World) -> None:
    """The small region whose counts the tests below spell out."""
    a, b = w.bvcs
    o1, o2 = w.occasions
    # Coverage. Ekby: six children in the 8-month window (born 2025-06-01), four answered for.
    ekby = [w.child(a, datetime.date(2025, 6, 1)) for _ in range(6)]
    w.answer(ekby[0], o1, at(datetime.date(2026, 3, 1)), {D.VIOLENCE, D.LOW_MOOD})
    w.answer(ekby[0], o1, at(datetime.date(2026, 3, 1)), {D.LOW_MOOD}, guardian=1)
    # 23:30 UTC on New Year's Eve is already 1 January in Stockholm: inside the period.
    w.answer(ekby[1], o1, datetime.datetime(2025, 12, 31, 23, 30, tzinfo=datetime.UTC))
    # 22:30 UTC on 30 June is 1 July in Stockholm: outside (but the child was screened).
    w.answer(ekby[2], o1, datetime.datetime(2026, 6, 30, 22, 30, tzinfo=datetime.UTC), {D.VIOLENCE})
    w.answer(ekby[3], o1, at(datetime.date(2026, 3, 1)), {D.ECONOMIC_WORRY})
    toddler = w.child(a, datetime.date(2024, 9, 1))  # in the 18-month window
    w.answer(toddler, o2, at(datetime.date(2026, 3, 1)), {D.VIOLENCE})
    older = w.child(a, datetime.date(2023, 1, 1))  # in no window
    # Sjöstad: two in the 8-month window, one answered for.
    sjostad = [w.child(b, datetime.date(2025, 6, 1)) for _ in range(2)]
    w.answer(sjostad[0], o1, at(datetime.date(2026, 2, 1)), {D.PARENTAL_STRESS})
    # Another region's child and answer count nowhere.
    away = w.child(w.outside_bvc, datetime.date(2025, 6, 1))
    w.answer(away, o1, at(datetime.date(2026, 3, 1)), {D.VIOLENCE})

    # Referrals: lead time from the concern to the first contact, for those sent in the period.
    noticed = at(datetime.date(2026, 2, 1))
    for days in (10, 20, 30):
        w.referral(ekby[0], PSYCH, noticed, contact=noticed + datetime.timedelta(days=days))
    for days in (4, 8):
        w.referral(sjostad[0], PSYCH, noticed, contact=noticed + datetime.timedelta(days=days))
    w.referral(ekby[1], BUDGET, noticed, contact=noticed + datetime.timedelta(days=7))
    w.referral(ekby[1], BUDGET, noticed)  # no contact yet
    before = at(datetime.date(2025, 12, 1))
    w.referral(ekby[1], BUDGET, before, contact=at(datetime.date(2026, 1, 5)))  # sent before
    w.referral(away, PSYCH, noticed, contact=noticed + datetime.timedelta(days=1))

    # Home visits: a programme in Ekby for children born from 2025.
    programme = w.programme(
        0,
        [
            ("99130", ProgrammeArea.Rule.ALL_FAMILIES),
            ("99138", ProgrammeArea.Rule.FIRST_TIME_PARENTS),
        ],
        datetime.date(2025, 1, 1),
    )
    h1 = w.child(a, datetime.date(2026, 2, 1))
    w.enrol(h1, programme, Enrolment.Status.ACCEPTED)
    h2 = w.child(a, datetime.date(2026, 3, 1), postal_code="991 30")
    w.enrol(h2, programme, Enrolment.Status.DECLINED)
    h3 = w.child(a, datetime.date(2026, 4, 1), postal_code="99138")  # first-born
    w.enrol(h3, programme, Enrolment.Status.ENDED)
    # A second child of the older one's guardians, in a first-time-parents area: not eligible.
    w.child(
        a, datetime.date(2026, 4, 1), postal_code="99138", guardians=list(older.guardians.all())
    )
    w.child(a, datetime.date(2026, 5, 1), postal_code="99240")  # outside the areas
    w.child(a, datetime.date(2025, 12, 15))  # born before the period

    # SIP: started, active, days to the first version.
    day = datetime.date
    w.plan(ekby[0], at(day(2026, 2, 1)), first_version=at(day(2026, 2, 11)))
    w.plan(ekby[1], at(day(2026, 3, 1)), first_version=at(day(2026, 3, 21)))
    w.plan(ekby[2], at(day(2025, 6, 1)))  # active, started before
    w.plan(ekby[3], at(day(2025, 6, 1)), ended=at(day(2025, 12, 1)))  # over before the period
    w.plan(ekby[4], at(day(2026, 4, 1)), ended=at(day(2026, 5, 1)))
    w.plan(sjostad[0], at(day(2026, 2, 1)), first_version=at(day(2026, 2, 4)))


def test_the_raw_figures_of_a_known_region_are_counted_right(world):
    known(world)
    ekby, sjostad = (m.pk for m in world.municipalities)
    o1, o2 = (o.pk for o in world.occasions)

    figures = collect_figures(frame_of(world.region), START, END)

    # Municipalities in name order.
    assert figures.municipalities == (ekby, sjostad)
    assert figures.coverage == {
        (o1, ekby): (6, 4),
        (o1, sjostad): (2, 1),
        (o2, ekby): (1, 1),
        (o2, sjostad): (0, 0),
    }
    zero = dict.fromkeys(Domain.values, 0)
    assert figures.domains[ekby] == zero | {
        "responses": 5,
        D.VIOLENCE: 2,
        D.LOW_MOOD: 2,
        D.ECONOMIC_WORRY: 1,
    }
    assert figures.domains[sjostad] == zero | {"responses": 1, D.PARENTAL_STRESS: 1}
    assert figures.lead_times == {
        (BUDGET, REGION): (1, 7.0),
        (BUDGET, ekby): (1, 7.0),
        (PSYCH, REGION): (5, 10.0),  # 4 8 10 20 30
        (PSYCH, ekby): (3, 20.0),
        (PSYCH, sjostad): (2, 6.0),  # the mean of the two middle values
    }
    assert figures.home_visits == {ekby: (3, 2), sjostad: (0, 0)}
    assert figures.plans == {ekby: (3, 4), sjostad: (1, 1)}
    assert figures.first_versions == {REGION: (3, 10.0), ekby: (2, 15.0), sjostad: (1, 3.0)}


def test_small_cells_are_hidden_with_a_complement_so_the_region_total_gives_nothing_away(
    world, settings
):
    settings.STATISTICS_MIN_CELL = 5
    known(world)

    stats = regional_statistics(world.region, START, END)

    eight_months = stats.coverage[0]
    assert eight_months.heading == "8 months"
    lines = {line.label: line.cells[0] for line in eight_months.lines}
    # Sjöstad's 2 children are under the limit; Ekby's 6 would give them away from the
    # region's 8, so Ekby's are hidden too. Screened: 4 and 1 hidden, the 5 in all shown.
    assert (lines["Ekby kommun"].whole, lines["Sjöstad kommun"].whole) == (None, None)
    assert (lines["Ekby kommun"].part, lines["Sjöstad kommun"].part) == (None, None)
    region = lines["Region Statistikland"]
    assert (region.part, region.whole, region.percent) == (5, 8, 62)
    assert [line.total for line in eight_months.lines] == [False, False, True]

    psych = next(block for block in stats.lead_times if block.heading == "Child psychologist")
    cells = {line.label: line.cells[0] for line in psych.lines}
    assert (cells["Ekby kommun"].count, cells["Ekby kommun"].days) == (None, None)
    assert (cells["Sjöstad kommun"].count, cells["Sjöstad kommun"].days) == (None, None)
    assert (cells["Region Statistikland"].count, cells["Region Statistikland"].days) == (5, 10.0)
    budget = next(block for block in stats.lead_times if block.heading != "Child psychologist")
    assert all(line.cells[0].days is None for line in budget.lines)

    # Responses: Sjöstad's 1 is hidden; Ekby's 5 would give it away from the region's 6.
    responses = [line.cells[0] for line in stats.domains]
    assert responses == [None, None, 6]
    # SIP: only the region's 5 active plans reach the limit; with its started count hidden,
    # no median is shown.
    assert [line.cells for line in stats.plans] == [[None] * 3, [None] * 3, [None, 5, None]]


def test_with_a_limit_of_one_only_zeros_and_what_gives_them_away_are_hidden(world, settings):
    settings.STATISTICS_MIN_CELL = 1
    known(world)

    stats = regional_statistics(world.region, START, END)

    home = [(line.label, line.cells[0].part, line.cells[0].whole) for line in stats.home_visits]
    # Sjöstad has no programme: its zeros are hidden, and so are Ekby's counts, which equal
    # the region's total; the total stays.
    assert home == [
        ("Ekby kommun", None, None),
        ("Sjöstad kommun", None, None),
        ("Region Statistikland", 2, 3),
    ]
    plans = [(line.label, line.cells) for line in stats.plans]
    assert plans == [
        ("Ekby kommun", [3, 4, 15.0]),
        ("Sjöstad kommun", [1, 1, 3.0]),
        ("Region Statistikland", [4, 5, 10.0]),
    ]


def test_the_orm_and_the_hand_written_sql_count_the_same(world):
    known(world)
    frame = frame_of(world.region)

    assert collect_figures(frame, START, END) == collect_figures_sql(frame, START, END)
    assert regional_statistics(world.region, START, END) == regional_statistics_sql(
        world.region, START, END
    )


def test_the_children_and_answers_of_a_municipalitys_bvcs_are_added_up(world):
    """Children and screenings are counted per BVC and added up per municipality: a second BVC
    in Ekby adds its own children, responses and home visits, and a child answered for by both
    guardians is still one screened child."""
    from directory.models import Sector
    from tests import factories

    known(world)
    ekby, sjostad = (m.pk for m in world.municipalities)
    o1, o2 = (o.pk for o in world.occasions)
    north = factories.unit("BVC Ekby norra", Sector.CHILD_HEALTH, world.municipalities[0])
    baby = world.child(north, datetime.date(2025, 6, 1))  # in the 8-month window
    world.answer(baby, world.occasions[0], at(datetime.date(2026, 1, 10)), {D.LOW_MOOD})
    world.answer(baby, world.occasions[0], at(datetime.date(2026, 1, 11)), {D.LOW_MOOD}, guardian=1)
    toddler = world.child(north, datetime.date(2024, 9, 1))  # in the 18-month window
    world.answer(toddler, world.occasions[1], at(datetime.date(2026, 6, 1)), {D.LOW_MOOD})
    world.child(north, datetime.date(2025, 6, 1))  # not answered for
    programme = world.region.home_visit_programmes.get()
    newborn = world.child(north, datetime.date(2026, 1, 5))
    world.enrol(newborn, programme, Enrolment.Status.ACCEPTED)
    frame = frame_of(world.region)

    figures = collect_figures(frame, START, END)

    assert figures.coverage == {
        (o1, ekby): (6 + 2, 4 + 1),
        (o1, sjostad): (2, 1),
        (o2, ekby): (1 + 1, 1 + 1),
        (o2, sjostad): (0, 0),
    }
    assert figures.domains[ekby]["responses"] == 5 + 3
    assert figures.domains[ekby][D.LOW_MOOD] == 2 + 3
    assert figures.home_visits == {ekby: (3 + 1, 2 + 1), sjostad: (0, 0)}
    assert figures == collect_figures_sql(frame, START, END)


def test_a_region_without_municipalities_has_empty_figures(world):
    from tests import factories

    empty = factories.organisation("Region Tom", "region")

    figures = collect_figures(frame_of(empty), START, END)

    assert figures == Figures((), ())
    assert regional_statistics(empty, START, END).coverage == []


def _population(w: World, n: int) -> None:
    """`n` children over both municipalities, born over ten months (some in the 8-month
    window, some in the home-visit cohort), with answers, and every other one with a referral
    and a plan: each kind of row grows with n. The guardians are shared, to keep it quick."""
    if not w.consents:
        eldest = w.child(w.bvcs[0], datetime.date(2020, 1, 1))
        w.shared = [present(eldest.guardians.first(), "guardian")]
        w.programme(0, [("99130", ProgrammeArea.Rule.ALL_FAMILIES)], datetime.date(2025, 1, 1))
    programme = w.region.home_visit_programmes.get()
    noticed = at(datetime.date(2026, 2, 1))
    for i in range(n):
        born = datetime.date(2025, 6, 1) + datetime.timedelta(days=i * 7 % 300)
        child = w.child(w.bvcs[i % 2], born, guardians=w.shared)
        w.answer(
            child, w.occasions[0], at(datetime.date(2026, 3, 1)), {D.VIOLENCE} if i % 3 else set()
        )
        if born >= START:
            w.enrol(child, programme, Enrolment.Status.ACCEPTED)
        if i % 2:
            kind = PSYCH if i % 4 == 1 else BUDGET
            w.referral(child, kind, noticed, contact=noticed + datetime.timedelta(days=i % 17))
            w.plan(child, noticed, first_version=noticed + datetime.timedelta(days=i % 20))


def test_the_number_of_queries_does_not_grow_with_the_population(world):
    _population(world, 20)
    with CaptureQueriesContext(connection) as few:
        regional_statistics(world.region, START, END)
    _population(world, 180)
    with CaptureQueriesContext(connection) as many:
        regional_statistics(world.region, START, END)

    assert len(few) == len(many) <= 12
    figures = collect_figures(frame_of(world.region), START, END)
    assert sum(screened for _children, screened in figures.coverage.values()) > 100
    assert sum(eligible for eligible, _enrolled in figures.home_visits.values()) > 20
