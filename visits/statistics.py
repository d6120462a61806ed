"""Coverage of a home-visit programme: how many eligible families were offered it and took it
up, per area (all families / first-time parents), and how many visits were done on time.

Statistics never identify anyone (architecture invariant 10): every figure goes through
`screening.statistics.suppress`, which hides each count under `settings.STATISTICS_MIN_CELL`
and as many more as needed so that no hidden count can be worked out from totals and subtotals.
A share is shown only when both its counts are. Everything is counted in SQL: the page runs
the same number of queries whatever the number of families.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from samverkan.charts import Chart
from screening.statistics import Share, suppress

from .eligibility import area_condition, eligible_children
from .models import Enrolment, HomeVisit, Programme, ProgrammeArea, ProgrammeVisit

RULES = ProgrammeArea.Rule
# Accepted families stay counted as enrolled after their programme has ended.
ENROLLED = [Enrolment.Status.ACCEPTED, Enrolment.Status.ENDED]
COVERAGE_COLUMNS = ("eligible", "offered", "accepted", "declined", "waiting")
VISIT_COLUMNS = ("due", "done", "on_time")

Key = tuple[str, ...]  # names a cell, e.g. ("area", area pk, column), ("total", "visit", column)
Group = tuple[list[Key], Key]  # cells and the total they add up to


@dataclass(frozen=True)
class Row:
    """One line of a table: a label and its (possibly hidden) counts by column."""

    label: str
    counts: dict[str, int | None]
    kind: str = "area"  # "area" / "visit", "rule" (a subtotal) or "total"

    def share(self, part: str, whole: str) -> Share:
        return Share(self.label, self.counts[part], self.counts[whole])

    @property
    def enrolled(self) -> Share:
        return self.share("accepted", "eligible")

    @property
    def on_time(self) -> Share:
        return self.share("on_time", "due")


@dataclass(frozen=True)
class Coverage:
    programme: Programme
    born_from: datetime.date
    born_to: datetime.date
    today: datetime.date
    min_cell: int
    areas: list[Row]  # per area, each rule followed by its subtotal, then the total
    visits: list[Row]  # per programme visit, then the total
    visits_by_area: list[Row]  # the same visits per area and rule
    chart: Chart = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "chart", coverage_chart(self))


def coverage(
    programme: Programme, born_from: datetime.date, born_to: datetime.date, today: datetime.date
) -> Coverage:
    """The programme's figures for children born `born_from`..`born_to`: five queries."""
    areas = list(programme.areas.all())
    visits = list(programme.visits.all())
    cohort = Q(birth_date__gte=born_from, birth_date__lte=born_to)

    cells: dict[tuple[str, ...], int] = {}
    # Eligible children today, per area: one query (the areas never overlap).
    eligible = (
        eligible_children(programme)
        .filter(cohort)
        .aggregate(
            **{f"a{area.pk}": Count("pk", filter=area_condition(area)) for area in areas},
            none=Count("pk", filter=Q(pk__lt=0)),  # aggregate() needs at least one argument
        )
    )
    # What became of the offers, per area the family was offered it as: one query.
    # values() rows: a TypedDict to the type checker, whose counts (annotations) are Any.
    answers: dict[int, Mapping[str, Any]] = {
        row["area"]: row
        for row in Enrolment.objects.filter(programme=programme)
        .filter(Q(child__birth_date__gte=born_from, child__birth_date__lte=born_to))
        .values("area")
        .annotate(
            offered=Count("pk"),
            accepted=Count("pk", filter=Q(status__in=ENROLLED)),
            declined=Count("pk", filter=Q(status=Enrolment.Status.DECLINED)),
            waiting=Count("pk", filter=Q(status=Enrolment.Status.OFFERED)),
        )
        .order_by()
    }
    for area in areas:
        found = answers.get(area.pk, {})
        cells[("area", str(area.pk), "eligible")] = eligible[f"a{area.pk}"]
        for column in COVERAGE_COLUMNS[1:]:
            cells[("area", str(area.pk), column)] = found.get(column, 0)

    # Visits of enrolled families, per programme visit and area: one query.
    done_day = TruncDate("done_at")
    due = Q(cancelled_at__isnull=True) & (Q(window_end__lt=today) | Q(done_at__isnull=False))
    done = due & Q(done_at__isnull=False)
    on_time = done & Q(done_day__gte=F("window_start"), done_day__lte=F("window_end"))
    counted = (
        HomeVisit.objects.filter(
            enrolment__programme=programme,
            enrolment__status__in=ENROLLED,
            enrolment__child__birth_date__gte=born_from,
            enrolment__child__birth_date__lte=born_to,
        )
        .annotate(done_day=done_day)
        .values("programme_visit", "enrolment__area")
        .annotate(
            due=Count("pk", filter=due),
            done=Count("pk", filter=done),
            on_time=Count("pk", filter=on_time),
        )
        .order_by()
    )
    per_visit: dict[tuple[int, int], Mapping[str, Any]] = {
        (row["programme_visit"], row["enrolment__area"]): row for row in counted
    }
    for column in VISIT_COLUMNS:
        for visit in visits:
            cells[("visit", str(visit.pk), column)] = sum(
                row[column] for (v, _a), row in per_visit.items() if v == visit.pk
            )
        for area in areas:
            cells[("varea", str(area.pk), column)] = sum(
                row[column] for (_v, a), row in per_visit.items() if a == area.pk
            )

    groups = _add_subtotals(cells, areas, visits)
    shown = suppress(cells, groups)
    return Coverage(
        programme=programme,
        born_from=born_from,
        born_to=born_to,
        today=today,
        min_cell=settings.STATISTICS_MIN_CELL,
        areas=_area_rows(shown, areas, "area", COVERAGE_COLUMNS),
        visits=[
            Row(str(visit), {c: shown[("visit", str(visit.pk), c)] for c in VISIT_COLUMNS}, "visit")
            for visit in visits
        ]
        + [Row(_("All visits"), {c: shown[("total", "visit", c)] for c in VISIT_COLUMNS}, "total")],
        visits_by_area=_area_rows(shown, areas, "varea", VISIT_COLUMNS),
    )


def _add_subtotals(
    cells: dict[Key, int], areas: list[ProgrammeArea], visits: list[ProgrammeVisit]
) -> list[Group]:
    """Add the subtotals and totals the tables show to `cells`; return which parts make up
    which total, for the suppression. Visits per programme visit and per area add up to the
    same total, so one hidden cell cannot be worked out from either table."""
    groups: list[Group] = []
    for table, columns in (("area", COVERAGE_COLUMNS), ("varea", VISIT_COLUMNS)):
        for column in columns:
            subtotals: list[Key] = []
            for rule in RULES.values:
                parts: list[Key] = [(table, str(a.pk), column) for a in areas if a.rule == rule]
                if not parts:
                    continue
                key: Key = ("rule", table, rule, column)
                cells[key] = sum(cells[p] for p in parts)
                groups.append((parts, key))
                subtotals.append(key)
            total = ("total", "area" if table == "area" else "visit", column)
            cells[total] = sum(cells[p] for p in subtotals)
            groups.append((subtotals, total))
    for column in VISIT_COLUMNS:
        groups.append(([("visit", str(v.pk), column) for v in visits], ("total", "visit", column)))
    # Within a row of the coverage table: the offers are accepted, declined or awaited.
    for key in [k for k in cells if k[-1] == "offered"]:
        parts = [(*key[:-1], column) for column in ("accepted", "declined", "waiting")]
        groups.append((parts, key))
    return groups


def _area_rows(
    shown: dict[tuple[str, ...], int | None],
    areas: list[ProgrammeArea],
    table: str,
    columns: tuple[str, ...],
) -> list[Row]:
    rows = []
    labels = dict(RULES.choices)
    for rule in RULES.values:
        mine = [a for a in areas if a.rule == rule]
        if not mine:
            continue
        for area in mine:
            rows.append(
                Row(
                    f"{area.name} ({area.postal_code_prefix})",
                    {c: shown[(table, str(area.pk), c)] for c in columns},
                )
            )
        rows.append(
            Row(str(labels[rule]), {c: shown[("rule", table, rule, c)] for c in columns}, "rule")
        )
    total = ("total", "area" if table == "area" else "visit")
    rows.append(Row(_("All areas"), {c: shown[(*total, c)] for c in columns}, "total"))
    return rows


# --- The chart ---------------------------------------------------------------------------------


def coverage_chart(figures: Coverage) -> Chart:
    """Share enrolled per area and share done on time per visit, as bars."""
    chart = Chart(label_width=190, bar_space=300)
    for heading, lines in (
        (_("Share of eligible families enrolled"), [r.enrolled for r in figures.areas]),
        (_("Share of due visits done on time"), [r.on_time for r in figures.visits]),
    ):
        chart.heading(heading)
        for share in lines:
            percent = share.percent
            chart.bar(share.label, None if percent is None else percent / 100, percent)
    return chart
