"""Coverage statistics of a home-visit programme: the right counts per area and rule and per
visit, small cells hidden so that totals cannot give them away, and nothing that identifies a
family; only the programme's own units see them."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from consent import policy
from families.models import Child
from tests import factories
from visits.eligibility import area_of, is_first_born
from visits.models import Enrolment, HomeVisit, Programme, ProgrammeArea
from visits.statistics import COVERAGE_COLUMNS, VISIT_COLUMNS, Row, coverage

from .test_eligibility import child_at, family, make_programme

pytestmark = pytest.mark.django_db

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
TODAY = datetime.date(2026, 6, 15)
NOW = datetime.datetime(2026, 6, 15, 10, 0, tzinfo=STOCKHOLM)
ALL = ProgrammeArea.Rule.ALL_FAMILIES
FIRST = ProgrammeArea.Rule.FIRST_TIME_PARENTS
AREAS = [
    ("Ekby centrum", "99130", ALL),
    ("Ekby norra", "99134", ALL),
    ("Ängby", "99138", FIRST),
]
URL = "/hembesok/statistik/"


@pytest.fixture(autouse=True)
def _frozen():
    # Labels are compared in English here, whatever the catalogues say in Swedish.
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


@pytest.fixture
def programme(cast) -> Programme:
    return make_programme(cast.social, AREAS, born_from=datetime.date(2024, 6, 1))


def enrol(programme: Programme, child: Child, status: str, by) -> Enrolment:
    """An enrolment as the services leave it; accepted ones with their visit schedule."""
    area = area_of(programme, child)
    assert area is not None, "the tests enrol only children living in an area"
    enrolment = Enrolment.objects.create(
        child=child,
        programme=programme,
        unit=by.memberships.first().unit,
        area=area,
        rule=area.rule,
        first_time_parents=is_first_born(child),
        offered_by=by,
        status=status,
        decided_at=None if status == Enrolment.Status.OFFERED else NOW,
    )
    if status == Enrolment.Status.ACCEPTED:
        for visit in programme.visits.all():
            due = visit.target_date(child.birth_date)
            HomeVisit.objects.create(
                enrolment=enrolment,
                programme_visit=visit,
                due_date=due,
                window_start=due - datetime.timedelta(days=visit.window_days_before),
                window_end=due + datetime.timedelta(days=visit.window_days_after),
            )
    return enrolment


def visit(enrolment: Enrolment, number: int) -> HomeVisit:
    return enrolment.visits.get(programme_visit__number=number)


def done(enrolment: Enrolment, number: int, local: datetime.datetime) -> None:
    HomeVisit.objects.filter(pk=visit(enrolment, number).pk).update(
        done_at=local.replace(tzinfo=STOCKHOLM)
    )


def row(rows: list[Row], label: str) -> Row:
    return next(r for r in rows if r.label.startswith(label))


@pytest.fixture
def known(cast, programme):
    """A small known data set (see the counts in the tests)."""
    nurse = cast.nurse
    born = datetime.date(2025, 6, 1)
    # Ekby centrum, all families: four eligible (one with an older sibling), one too old.
    a1 = family(born=born, bvc=cast.bvc)
    a2 = family(born=born, bvc=cast.bvc)
    a3 = family(born=born, bvc=cast.bvc)
    older = family(born=datetime.date(2022, 3, 3), bvc=cast.bvc)
    family(born=datetime.date(2025, 7, 1), bvc=cast.bvc, guardians=list(older.guardians.all()))
    family(born=datetime.date(2024, 5, 1), bvc=cast.bvc)
    # Ängby, first-time parents: two first-borns eligible, a second child not.
    c1 = family(born=born, postal_code="99138", bvc=cast.bvc)
    sibling = family(born=datetime.date(2023, 1, 1), postal_code="99138")
    family(
        born=datetime.date(2025, 8, 1),
        postal_code="99138",
        guardians=list(sibling.guardians.all()),
    )
    c3 = family(born=datetime.date(2025, 9, 1), postal_code="99138", bvc=cast.bvc)
    # Elsewhere: not eligible.
    family(born=born, postal_code="99240")

    e_a1 = enrol(programme, a1, Enrolment.Status.ACCEPTED, nurse)
    enrol(programme, a2, Enrolment.Status.DECLINED, nurse)
    enrol(programme, a3, Enrolment.Status.OFFERED, nurse)
    e_c1 = enrol(programme, c1, Enrolment.Status.ACCEPTED, nurse)
    e_c3 = enrol(programme, c3, Enrolment.Status.ACCEPTED, nurse)

    # a1: visit 1 on the window's last day, late in the evening (local time) -> on time.
    done(e_a1, 1, datetime.datetime(2025, 6, 22, 23, 30))
    # visit 2 just after midnight the day after its window closed (still the 15th in UTC).
    done(e_a1, 2, datetime.datetime(2025, 8, 16, 0, 30))
    # visit 3 never done, its window closed: due and missed. visit 4 at the window's first
    # minutes (the day before in UTC) -> on time. visit 5: its window is still open.
    done(e_a1, 4, datetime.datetime(2026, 1, 11, 0, 10))
    # c1: visit 1 on the day of birth (window start), visit 2 cancelled, visit 3 done before
    # its window opened (not on time), visit 4 missed.
    done(e_c1, 1, datetime.datetime(2025, 6, 1, 14, 0))
    HomeVisit.objects.filter(pk=visit(e_c1, 2).pk).update(cancelled_at=NOW)
    done(e_c1, 3, datetime.datetime(2025, 9, 10, 10, 0))
    # c3: visits 1-3 on time, 4 missed, 5 done long before its window (counted, not on time).
    done(e_c3, 1, datetime.datetime(2025, 9, 5, 10, 0))
    done(e_c3, 2, datetime.datetime(2025, 11, 1, 10, 0))
    done(e_c3, 3, datetime.datetime(2026, 1, 1, 10, 0))
    done(e_c3, 5, datetime.datetime(2026, 6, 10, 10, 0))
    return programme


def _figures(programme: Programme, **period: datetime.date) -> object:
    return coverage(
        programme,
        period.get("born_from", datetime.date(2024, 6, 15)),
        period.get("born_to", TODAY),
        TODAY,
    )


def test_counts_and_shares_per_area_and_rule_are_right_on_a_known_data_set(known, settings):
    settings.STATISTICS_MIN_CELL = 0  # every figure shown, to check the counting itself

    figures = _figures(known)

    def counts(label: str) -> tuple[int | None, ...]:
        found = row(figures.areas, label)
        return tuple(found.counts[c] for c in COVERAGE_COLUMNS)

    # eligible, offered, accepted, declined, awaiting an answer
    assert counts("Ekby centrum") == (4, 3, 1, 1, 1)
    assert counts("Ekby norra") == (0, 0, 0, 0, 0)
    assert counts("Ängby") == (2, 2, 2, 0, 0)
    assert counts(str(ALL.label)) == (4, 3, 1, 1, 1)
    assert counts(str(FIRST.label)) == (2, 2, 2, 0, 0)
    assert counts("All areas") == (6, 5, 3, 1, 1)
    assert row(figures.areas, "Ekby centrum").enrolled.percent == 25
    assert row(figures.areas, "Ängby").enrolled.percent == 100
    assert row(figures.areas, "Ekby norra").enrolled.percent is None  # nothing to share
    assert row(figures.areas, "All areas").enrolled.percent == 50
    # The rule's subtotal follows its areas, all families first.
    assert [r.kind for r in figures.areas] == ["area", "area", "rule", "area", "rule", "total"]


def test_visits_due_done_and_on_time_per_visit_and_per_area(known, settings):
    settings.STATISTICS_MIN_CELL = 0

    figures = _figures(known)

    per_visit = [tuple(r.counts[c] for c in VISIT_COLUMNS) for r in figures.visits]
    # due, done, done on time
    assert per_visit == [
        (3, 3, 3),  # 1: the last evening and the first day of the window both count
        (2, 2, 1),  # 2: cancelled visits are not counted; just after midnight is late
        (3, 2, 1),  # 3: missed, early, on time
        (3, 1, 1),  # 4: the window's first minutes (the day before in UTC) are on time
        (1, 1, 0),  # 5: only the visit done long before its window is due
        (12, 9, 6),
    ]
    assert figures.visits[-1].on_time.percent == 50
    by_area = {r.label: tuple(r.counts[c] for c in VISIT_COLUMNS) for r in figures.visits_by_area}
    assert by_area == {
        "Ekby centrum (99130)": (4, 3, 2),
        "Ekby norra (99134)": (0, 0, 0),
        str(ALL.label): (4, 3, 2),
        "Ängby (99138)": (8, 6, 4),
        str(FIRST.label): (8, 6, 4),
        "All areas": (12, 9, 6),
    }


def test_the_birth_period_limits_every_figure(known, settings):
    settings.STATISTICS_MIN_CELL = 0

    figures = _figures(known, born_from=datetime.date(2025, 8, 15))

    assert row(figures.areas, "All areas").counts["eligible"] == 1  # c3 only
    assert row(figures.areas, "All areas").counts["accepted"] == 1
    assert figures.visits[-1].counts == {"due": 5, "done": 4, "on_time": 3}


def _unrecoverable(rows: list[Row], columns: tuple[str, ...]) -> None:
    """No hidden count can be worked out: in every column, an area group and its subtotal,
    and the subtotals and the total, never have exactly one hidden member."""
    groups: list[list[Row]] = []
    current: list[Row] = []
    for each in rows:
        if each.kind == "total":
            break
        current.append(each)
        if each.kind == "rule":
            groups.append(current)
            current = []
    groups.append([r for r in rows if r.kind in ("rule", "total")])
    for column in columns:
        for group in groups:
            hidden = [r for r in group if r.counts[column] is None]
            assert len(hidden) != 1, (column, [r.label for r in group])


def test_small_cells_are_hidden_and_cannot_be_worked_out_from_the_totals(known):
    figures = _figures(known)  # the default limit: 5

    for rows, columns in (
        (figures.areas, COVERAGE_COLUMNS),
        (figures.visits_by_area, VISIT_COLUMNS),
        (figures.visits, VISIT_COLUMNS),
    ):
        for each in rows:
            for column in columns:
                assert each.counts[column] is None or each.counts[column] >= 5
        if rows is not figures.visits:
            _unrecoverable(rows, columns)
    total = figures.visits[-1]
    assert total.counts == {"due": 12, "done": 9, "on_time": 6}  # large enough to show
    hidden = [r for r in figures.visits[:-1] if any(v is None for v in r.counts.values())]
    assert hidden  # and so every visit's small counts are hidden...
    for column in VISIT_COLUMNS:  # ...at least two per column, or none
        assert sum(r.counts[column] is None for r in figures.visits[:-1]) != 1


def test_a_share_is_shown_only_when_both_of_its_counts_are(known, settings):
    settings.STATISTICS_MIN_CELL = 3

    figures = _figures(known)

    half_hidden = 0
    for each in figures.areas + figures.visits + figures.visits_by_area:
        share = each.enrolled if "eligible" in each.counts else each.on_time
        if share.percent is not None:
            assert share.part is not None and share.whole is not None
        half_hidden += (share.part is None) != (share.whole is None)
    assert half_hidden  # the data set has shares with one count shown and one hidden


def test_the_page_shows_the_figures_and_the_chart_but_no_one_identifiable(
    known, cast, as_user, settings
):
    settings.STATISTICS_MIN_CELL = 0
    response = as_user(cast.nurse).get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("visits:stats") == URL
    assert '<table class="table stats" id="coverage">' in html and "<svg" in html
    assert 'role="img"' in html and '<title id="chart-title">' in html
    assert '<th scope="row">Ekby centrum (99130)</th>' in html
    for child in Child.objects.all():
        assert child.last_name not in html
        assert child.identifier not in html


def test_a_hidden_cell_is_marked_on_the_page_not_printed(known, cast, as_user):
    html = as_user(cast.nurse).get(URL).content.decode()

    assert 'class="cell-suppressed"' in html
    assert ">1<" not in html.split('id="coverage"')[1].split("</table>")[0]


def test_the_period_and_programme_are_chosen_on_the_page(known, cast, as_user, settings):
    settings.STATISTICS_MIN_CELL = 0
    client = as_user(cast.family_therapist)

    response = client.get(
        URL, {"program": known.pk, "fodda_fran": "2025-08-15", "fodda_till": "2026-06-15"}
    )

    assert response.status_code == 200
    assert response.context["stats"].born_from == datetime.date(2025, 8, 15)
    defaults = client.get(URL).context["stats"]
    assert (defaults.born_from, defaults.born_to) == (datetime.date(2024, 6, 15), TODAY)


@pytest.mark.parametrize(
    "query",
    [
        {"fodda_fran": "2026-01-01", "fodda_till": "2025-01-01"},
        {"fodda_fran": "yesterday"},
        {"fodda_fran": "1990-01-01"},
        {"program": "999999"},
    ],
)
def test_a_bad_period_or_programme_gets_a_message_not_an_error(known, cast, as_user, query):
    response = as_user(cast.nurse).get(URL, query)

    assert response.status_code == 200
    assert response.context["form"].errors and response.context["stats"] is None
    assert 'class="error-summary"' in response.content.decode()


@pytest.mark.parametrize("who", ["outsider", "special_educator", "school_counsellor"])
def test_someone_outside_the_programme_sees_no_statistics(known, cast, as_user, who):
    person = getattr(cast, who)

    assert not policy.statistics_programmes(person).exists()
    assert as_user(person).get(URL).status_code == 404


def test_the_programmes_bvc_units_and_its_social_services_unit_see_the_statistics(
    known, cast, as_user
):
    for person in (cast.nurse, cast.manager, cast.family_therapist):
        assert list(policy.statistics_programmes(person)) == [known]
        assert as_user(person).get(URL).status_code == 200
    # Another municipality's programme stays out of sight.
    other = make_programme(cast.other_bvc, [("Sjöstad", "99240", ALL)], name="Sjöstad")
    other.municipality = cast.other_bvc.municipality
    other.save()
    assert list(policy.statistics_programmes(cast.nurse)) == [known]
    response = as_user(cast.nurse).get(URL, {"program": other.pk})
    assert response.context["stats"] is None


def _population(programme: Programme, cast, families: int) -> None:
    for n in range(families):
        postal_code = ["99130", "99134", "99138"][n % 3]
        child = child_at(postal_code, born=datetime.date(2025, 1, 1) + datetime.timedelta(n))
        factories.guardian_of(child)
        status = [Enrolment.Status.ACCEPTED, Enrolment.Status.DECLINED, Enrolment.Status.OFFERED]
        enrolment = enrol(programme, child, status[n % 3], cast.nurse)
        if enrolment.status == Enrolment.Status.ACCEPTED:
            done(enrolment, 1, datetime.datetime.combine(child.birth_date, datetime.time(12)))


def test_the_page_runs_the_same_number_of_queries_for_2_and_40_families(programme, cast, as_user):
    client = as_user(cast.nurse)
    _population(programme, cast, 2)
    client.get(URL)  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    _population(programme, cast, 38)
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL).status_code == 200

    assert len(few) == len(many)
    assert Enrolment.objects.count() == 40
