"""The regional figures, raw and as shown: what both ways of counting return, and the one step
that turns raw counts into tables with small cells suppressed.

`statistics.collect_figures` (Django's ORM) and `statistics_sql.collect_figures_sql`
(hand-written SQL) each fill a `Figures`; `present` turns either into `RegionalStatistics`,
hiding every count under `settings.STATISTICS_MIN_CELL` and, through
`screening.statistics.suppress`, as many more as needed so that no hidden count can be worked
out from the municipalities and the region's total (architecture invariant 10).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from directory.models import Organisation, Sector, Service, Unit
from samverkan.charts import Chart
from screening.models import Domain, Occasion
from screening.statistics import Share, suppress
from visits.models import Programme

REGION = 0  # the place key of the region as a whole (municipality keys are their pks)
DOMAINS = tuple(Domain.values)
KINDS = tuple(Service.Kind.values)


@dataclass(frozen=True)
class Frame:
    """What the figures are counted over: the region's municipalities, its child-health units
    (BVCs, as `{unit pk: municipality pk}`), its screening occasions and its home-visit
    programmes (with their areas prefetched)."""

    region: Organisation
    municipalities: list[Organisation]
    occasions: list[Occasion]
    programmes: list[Programme]
    bvcs: dict[int, int] = field(default_factory=dict)

    @property
    def municipality_ids(self) -> list[int]:
        return [m.pk for m in self.municipalities]


def frame_of(region: Organisation) -> Frame:
    """Five small queries, whatever the population.

    The BVCs are looked up here, once, so that the figures over children and screenings name
    them as constants (`bvc_unit_id IN (...)`): PostgreSQL then estimates the region's rows
    from the column's own statistics and walks the `(bvc_unit, birth_date)` and `unit` indexes.
    Through a join on the municipality instead it sees every unit of the region (about 17 for
    each BVC: schools, preschools, social services), estimates the region's screenings at a
    seventeenth of what they are, and then reads the whole children table or probes the
    responses once per screening (measured at 2,000,000 children)."""
    municipalities = list(
        Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY, region=region).order_by(
            "name", "pk"
        )
    )
    if not municipalities:
        return Frame(region, [], list(Occasion.objects.filter(region=region).order_by("order")), [])
    return Frame(
        region=region,
        municipalities=municipalities,
        occasions=list(Occasion.objects.filter(region=region).order_by("order")),
        programmes=list(
            Programme.objects.filter(region=region, municipality__in=municipalities)
            .prefetch_related("areas")
            .order_by("pk")
        ),
        # A child's BVC and a screening's unit are child-health units: registration sets the
        # BVC only to one, and a screening is run by the child's BVC (`may_run_screening`).
        bvcs=dict(
            Unit.objects.filter(municipality__in=municipalities, sector=Sector.CHILD_HEALTH)
            .order_by("pk")
            .values_list("pk", "municipality_id")
        ),
    )


def period_bounds(
    period_start: datetime.date, period_end: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    """The period as aware datetimes [start, end): from the start day's midnight to the
    midnight after the end day, in the project's time zone (both days are included)."""
    zone = timezone.get_current_timezone()
    since = datetime.datetime.combine(period_start, datetime.time(), tzinfo=zone)
    until = datetime.datetime.combine(
        period_end + datetime.timedelta(days=1), datetime.time(), tzinfo=zone
    )
    return since, until


def born_between(
    min_age_days: int, max_age_days: int, period_start: datetime.date, period_end: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """Birth dates of the children whose age window [min, max] overlaps the period."""
    return (
        period_start - datetime.timedelta(days=max_age_days),
        period_end - datetime.timedelta(days=min_age_days),
    )


def median_of_middle(values: list[float]) -> float:
    """The median from the one or two middle values that the window query returned."""
    return round(sum(values) / len(values), 3)


def is_middle(row_number: int, count: int) -> bool:
    """Row `row_number` (1-based, ordered) is a middle row of `count` rows: the middle one of
    an odd count, either of the two middle ones of an even count (n <= 2 rn <= n + 2)."""
    return count <= 2 * row_number <= count + 2


@dataclass(frozen=True)
class Figures:
    """Raw counts, unsuppressed: never shown as they are. Keys are pks; `REGION` is the whole
    region where a figure does not add up from the municipalities (a median)."""

    municipalities: tuple[int, ...]
    occasions: tuple[int, ...]
    # (occasion, municipality) -> (children in the age window in the period, screened)
    coverage: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    # municipality -> {"responses": n, domain: responses positive in it}
    domains: dict[int, dict[str, int]] = field(default_factory=dict)
    # (service kind, place) -> (referrals with a first contact, median days concern -> contact)
    lead_times: dict[tuple[str, int], tuple[int, float]] = field(default_factory=dict)
    # municipality -> (eligible, enrolled) for home visits
    home_visits: dict[int, tuple[int, int]] = field(default_factory=dict)
    # municipality -> (plans started in the period, plans active during it)
    plans: dict[int, tuple[int, int]] = field(default_factory=dict)
    # place -> (plans started in the period with a first version, median days to it)
    first_versions: dict[int, tuple[int, float]] = field(default_factory=dict)


def complete(figures: Figures) -> Figures:
    """Every municipality and occasion present, zero where nothing was found, so that two ways
    of counting compare equal and the tables have every line."""
    munis, occasions = figures.municipalities, figures.occasions
    return Figures(
        municipalities=munis,
        occasions=occasions,
        coverage={(o, m): figures.coverage.get((o, m), (0, 0)) for o in occasions for m in munis},
        domains={
            m: {key: figures.domains.get(m, {}).get(key, 0) for key in ("responses", *DOMAINS)}
            for m in munis
        },
        lead_times=dict(sorted(figures.lead_times.items())),
        home_visits={m: figures.home_visits.get(m, (0, 0)) for m in munis},
        plans={m: figures.plans.get(m, (0, 0)) for m in munis},
        first_versions=dict(sorted(figures.first_versions.items())),
    )


def lead_medians(rows: Iterable[tuple], place_median: dict, region_median: dict) -> None:
    """Collect the middle values of a window query's rows `(place, group, value, rn, n, rrn,
    rn_n)` into `{(group, place): (n, [values])}` per municipality and per region."""
    for place, group, value, rn, n, region_rn, region_n in rows:
        if is_middle(rn, n):
            place_median.setdefault((group, place), (n, []))[1].append(float(value))
        if is_middle(region_rn, region_n):
            region_median.setdefault((group, REGION), (region_n, []))[1].append(float(value))


def medians(collected: dict) -> dict:
    return {key: (n, median_of_middle(values)) for key, (n, values) in collected.items()}


# --- What is shown -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Median:
    """A count and the median of its values; the median is shown only with a shown count."""

    label: str
    count: int | None
    days: float | None


@dataclass(frozen=True)
class Line:
    """One line of a table: a municipality or the whole region (`total`)."""

    label: str
    cells: list
    total: bool = False


@dataclass(frozen=True)
class Block:
    """A group of lines under a heading (an occasion, a service kind)."""

    heading: str
    lines: list[Line]


@dataclass(frozen=True)
class RegionalStatistics:
    region_name: str
    period_start: datetime.date
    period_end: datetime.date
    min_cell: int
    coverage: list[Block]  # per occasion: a Share (screened of children) per place
    domain_labels: list[str]
    domains: list[Line]  # per place: [responses, Share per domain]
    lead_times: list[Block]  # per service kind: a Median per place
    home_visits: list[Line]  # per place: [Share enrolled of eligible]
    plans: list[Line]  # per place: [started, active, median days to the first version]
    chart: Chart


def present(
    frame: Frame, figures: Figures, period_start: datetime.date, period_end: datetime.date
) -> RegionalStatistics:
    """The tables, every count under the limit hidden together with what would give it away.
    Counts add up from the municipalities to the region, so each column is a suppression group
    (`suppress` hides the next smallest municipality, or the total, when one would be
    recoverable). A median is shown only beside a shown count of at least the limit."""
    figures = complete(figures)
    region = frame.region
    names = {m.pk: m.name for m in frame.municipalities}
    occasion_names = {o.pk: str(o) for o in frame.occasions}
    munis = list(figures.municipalities)
    places = [*munis, REGION]
    cells: dict[tuple, int] = {}
    columns: list[tuple] = []  # a column's key prefix: its cells are prefix + (place,)

    def column(prefix: tuple, values: dict[int, int]) -> None:
        for m in munis:
            cells[(*prefix, m)] = values.get(m, 0)
        cells[(*prefix, REGION)] = sum(values.get(m, 0) for m in munis)
        columns.append(prefix)

    for o in figures.occasions:
        column(("cov", o, "children"), {m: figures.coverage[o, m][0] for m in munis})
        column(("cov", o, "screened"), {m: figures.coverage[o, m][1] for m in munis})
    for key in ("responses", *DOMAINS):
        column(("dom", key), {m: figures.domains[m][key] for m in munis})
    kinds = [k for k in KINDS if any(g == k for g, _p in figures.lead_times)]
    for kind in kinds:
        column(("lead", kind), {m: figures.lead_times.get((kind, m), (0, 0))[0] for m in munis})
    column(("hv", "eligible"), {m: figures.home_visits[m][0] for m in munis})
    column(("hv", "enrolled"), {m: figures.home_visits[m][1] for m in munis})
    column(("sip", "started"), {m: figures.plans[m][0] for m in munis})
    column(("sip", "active"), {m: figures.plans[m][1] for m in munis})
    shown = suppress(cells, [([(*c, m) for m in munis], (*c, REGION)) for c in columns])

    def label(place: int) -> str:
        return region.name if place == REGION else names[place]

    def lines(make) -> list[Line]:  # type: ignore[no-untyped-def]
        return [Line(label(p), make(p), total=p == REGION) for p in places]

    limit = settings.STATISTICS_MIN_CELL

    def median(count: int | None, found: tuple[int, float] | None) -> float | None:
        if count is None or found is None or found[0] < limit:
            return None
        return round(found[1], 1)

    coverage = [
        Block(
            occasion_names[o],
            lines(
                lambda p, o=o: [
                    Share(
                        label(p),
                        shown[("cov", o, "screened", p)],
                        shown[("cov", o, "children", p)],
                    )
                ]
            ),
        )
        for o in figures.occasions
    ]
    domain_lines = lines(
        lambda p: [
            shown[("dom", "responses", p)],
            *[
                Share(label(p), shown[("dom", d, p)], shown[("dom", "responses", p)])
                for d in DOMAINS
            ],
        ]
    )
    kind_labels = dict(Service.Kind.choices)
    lead = [
        Block(
            str(kind_labels[kind]),
            lines(
                lambda p, kind=kind: [
                    Median(
                        label(p),
                        shown[("lead", kind, p)],
                        median(shown[("lead", kind, p)], figures.lead_times.get((kind, p))),
                    )
                ]
            ),
        )
        for kind in kinds
    ]
    home_visits = lines(
        lambda p: [Share(label(p), shown[("hv", "enrolled", p)], shown[("hv", "eligible", p)])]
    )

    def plan_cells(p: int) -> list:
        started = shown[("sip", "started", p)]
        days = median(started, figures.first_versions.get(p))
        return [started, shown[("sip", "active", p)], days]

    return RegionalStatistics(
        region_name=region.name,
        period_start=period_start,
        period_end=period_end,
        min_cell=limit,
        coverage=coverage,
        domain_labels=[str(label) for label in Domain.labels],
        domains=domain_lines,
        lead_times=lead,
        home_visits=home_visits,
        plans=lines(plan_cells),
        chart=coverage_chart(coverage),
    )


# --- The chart ---------------------------------------------------------------------------------


def coverage_chart(coverage: list[Block]) -> Chart:
    """BarnSäkert coverage per occasion as bars of 0-100 %, a bar per municipality and one for
    the region: the eye finds the municipality that lags faster than in the table."""
    chart = Chart(label_width=200, bar_space=300)
    for block in coverage:
        chart.heading(block.heading)
        for line in block.lines:
            percent = line.cells[0].percent
            chart.bar(line.label, None if percent is None else percent / 100, percent)
    return chart
