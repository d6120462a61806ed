"""Regional statistics for process leaders: per municipality of a region and for the region as
a whole, counted in SQL through Django's ORM.

- BarnSäkert coverage per occasion: children whose age window overlaps the period, and how many
  of them a guardian answered for at that occasion (any time).
- Positive share per screening domain: responses submitted in the period at the region's
  child-health units with a positive answer in the domain, of all those responses.
- Referral lead times: referrals sent in the period with a first contact, per service kind:
  their number and the median days from the concern to the family's first contact.
- Home-visit enrolment: children of the region born in the period who are eligible for a
  programme of the region (`visits.eligibility`), and how many of them are enrolled.
- SIP: plans started in the period, plans active at some time in it, and the median days from
  a plan's start to its first version.

A child, response, referral or plan belongs to the municipality its unit serves (the child's
BVC, the screening's unit, the referring unit, the unit that started the plan). Children and
screenings are counted per BVC (`figures.Frame.bvcs`, looked up once) and added up per
municipality in Python: a child has one BVC and a screening one unit, so distinct counts per
BVC add up.

Every figure family is one query, two for home visits (conditional aggregation, no per-row
work in Python), plus five small look-ups of the region's municipalities, BVCs, occasions and
programmes: twelve queries at most, whatever the population. Small cells are suppressed in
`figures.present`.

What it costs at 2,000,000 children (21 regions; EXPLAIN ANALYZE, BUFFERS): the figures over
children and screenings read the region's rows once, from index ranges, never the country's
tables. That takes three things. The BVCs are constants in the SQL (`bvc_unit_id IN (...)`,
see `figures.frame_of`), so PostgreSQL estimates the region's children and screenings from
their own statistics, not through a join on every unit of the region, which it got wrong up
to seventeen-fold. Counting starts from the side with few rows: a child probed once per
occasion (`EXISTS` per occasion) or a response probed once per domain costs ten times a
`COUNT(DISTINCT ...)` over a join, and such per-row subplans raise the cost estimate over
`jit_above_cost` (11 s of JIT for a 0.35 s query at 200,000 children). The one per-row
subplan left, first-born, is in a CASE (`first_born_per_row`), because as `WHERE NOT EXISTS`
it is planned as a hash anti-join over every custody of the country (4 to 8 s). The domains
read the region's responses of the period from one index (`response_unit_submitted_idx`: each
response carries its screening's unit for that), not every response of the country's period
joined to its screening.

Medians are computed the same way on PostgreSQL and SQLite, which has no `percentile_cont`:
a window query numbers each group's values in order (`ROW_NUMBER() OVER (PARTITION BY group
ORDER BY value)`) beside the group's size (`COUNT(*) OVER (PARTITION BY group)`), and keeps
only the middle rows (n <= 2 rn <= n + 2: one row for an odd n, two for an even n). The
database returns at most two rows per group, one pass over the data; their mean is the median,
exactly what `percentile_cont(0.5)` gives. The region's median comes from the same query with
a second pair of windows partitioned by the group alone.
"""

from __future__ import annotations

import datetime

from django.db import connections
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    FloatField,
    Func,
    OuterRef,
    Q,
    Value,
    When,
    Window,
)
from django.db.models.functions import Replace, RowNumber

from cases.models import Referral
from directory.models import Organisation
from families.models import Child
from plans.models import Plan, PlanVersion
from screening.models import Occasion, Response
from visits.eligibility import area_condition, has_older_sibling
from visits.models import Enrolment, Programme, ProgrammeArea

from .figures import (
    DOMAINS,
    Figures,
    Frame,
    RegionalStatistics,
    born_between,
    complete,
    frame_of,
    lead_medians,
    medians,
    period_bounds,
    present,
)
from .statistics_sql import collect_figures_sql

# Accepted families stay counted as enrolled after their programme has ended.
ENROLLED = (Enrolment.Status.ACCEPTED, Enrolment.Status.ENDED)


class DaysBetween(Func):
    """Days (fractional) from the second timestamp to the first, as a float, on both
    databases: `EXTRACT(EPOCH ...)` on PostgreSQL, `julianday` on SQLite."""

    arity = 2
    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):  # type: ignore[no-untyped-def]
        return self.as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0 AS double precision)",
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):  # type: ignore[no-untyped-def]
        return self.as_sql(
            compiler,
            connection,
            template="(julianday(%(expressions)s))",
            arg_joiner=") - julianday(",
            **extra,
        )


def _coverage(
    bvcs: dict[int, int], occasions: list[Occasion], start: datetime.date, end: datetime.date
) -> dict[tuple[int, int], tuple[int, int]]:
    """One query, per BVC: the children per age window, and how many of them have a screening
    at the occasion that a guardian answered. The children are read once, from one index range
    per BVC, each joined to its answered screenings in the windows (`EXISTS`: one look-up per
    screening, however many guardians answered); a child with two such screenings is two rows,
    hence `COUNT(DISTINCT)`. Two queries instead (children, then screenings joined to children)
    read every child of the windows twice, which took a third longer for the largest region at
    2,000,000 children."""
    windows = {o.pk: born_between(o.min_age_days, o.max_age_days, start, end) for o in occasions}
    overall = (min(lo for lo, _hi in windows.values()), max(hi for _lo, hi in windows.values()))
    in_window = Q()
    for o, window in windows.items():
        in_window |= Q(screenings__occasion=o, birth_date__range=window)
    answered = Exists(Response.objects.filter(screening=OuterRef("answered__pk")))
    counts = {}
    for o, window in windows.items():
        counts[f"c{o}"] = Count("pk", distinct=True, filter=Q(birth_date__range=window))
        counts[f"s{o}"] = Count("pk", distinct=True, filter=Q(answered__occasion=o))
    rows = (
        Child.objects.filter(bvc_unit__in=list(bvcs), birth_date__range=overall)
        .annotate(answered=FilteredRelation("screenings", condition=in_window & Q(answered)))
        .values("bvc_unit")
        .annotate(**counts)
        .order_by()
        .values_list("bvc_unit", *counts)
    )
    found: dict[tuple[int, int], tuple[int, int]] = {}
    for unit, *numbers in rows:
        for i, o in enumerate(windows):
            children, screened = found.get((o, bvcs[unit]), (0, 0))
            found[o, bvcs[unit]] = (children + numbers[2 * i], screened + numbers[2 * i + 1])
    return found


def _domains(
    bvcs: dict[int, int], since: datetime.datetime, until: datetime.datetime
) -> dict[int, dict[str, int]]:
    """One query, per BVC: the responses submitted there in the period, and how many of them
    are positive in each domain, from a LEFT JOIN to their positive answers only (a partial
    index, `answer_positive_idx`, holds just those). The responses are read once, for both."""
    positive = {
        domain: Count("pk", distinct=True, filter=Q(positive__item__domain=domain))
        for domain in DOMAINS
    }
    rows = (
        Response.objects.filter(
            unit__in=list(bvcs), submitted_at__gte=since, submitted_at__lt=until
        )
        .annotate(positive=FilteredRelation("answers", condition=Q(answers__positive=True)))
        .values("unit")
        # A response with two positive answers is two rows: count responses, not rows.
        .annotate(responses=Count("pk", distinct=True), **positive)
        .order_by()
        .values_list("unit", "responses", *DOMAINS)
    )
    found: dict[int, dict[str, int]] = {}
    for unit, *counts in rows:
        place = found.setdefault(bvcs[unit], {})
        for key, n in zip(("responses", *DOMAINS), counts, strict=True):
            place[key] = place.get(key, 0) + n
    return found


def _middle_rows(queryset, place: str, group: str | None, value: Func) -> list[tuple]:  # type: ignore[no-untyped-def]
    """`(place, group, value, rn, n, region_rn, region_n)` for the middle rows only: of each
    group (or of all rows, `group` None) per place and for the region.

    The windows are the ORM's; the filter on them is written around its SQL by hand. Django
    can filter on a window itself (it wraps the query the same way), but rewrites every
    expression to do so: 2 to 3 ms of Python per median query, more than the query itself
    takes at 20,000 children."""
    per_place = [F(place), F(group)] if group else [F(place)]
    per_group = [F(group)] if group else None
    order = [F("value").asc()]
    windows = (
        queryset.annotate(place=F(place), group=F(group) if group else Value(""), value=value)
        .annotate(
            rn=Window(RowNumber(), partition_by=per_place, order_by=order),
            n=Window(Count("pk"), partition_by=per_place),
            region_rn=Window(RowNumber(), partition_by=per_group, order_by=order),
            region_n=Window(Count("pk"), partition_by=per_group),
        )
        .values_list("place", "group", "value", "rn", "n", "region_rn", "region_n")
        .order_by()
    )
    database = connections[windows.db]
    inner, params = windows.query.get_compiler(connection=database).as_sql()
    columns = ", ".join(
        database.ops.quote_name(c)
        for c in ("place", "group", "value", "rn", "n", "region_rn", "region_n")
    )
    middle = (
        f"SELECT {columns} FROM ({inner}) windows"  # noqa: S608
        " WHERE (n <= 2 * rn AND n >= 2 * rn - 2)"
        " OR (region_n <= 2 * region_rn AND region_n >= 2 * region_rn - 2)"
    )
    with database.cursor() as cursor:
        cursor.execute(middle, params)
        return cursor.fetchall()


def _lead_times(
    munis: list[int], since: datetime.datetime, until: datetime.datetime
) -> dict[tuple[str, int], tuple[int, float]]:
    referrals = Referral.objects.filter(
        unit__municipality__in=munis,
        sent_at__gte=since,
        sent_at__lt=until,
        first_contact_at__isnull=False,
    )
    rows = _middle_rows(
        referrals,
        "unit__municipality",
        "service__kind",
        DaysBetween("first_contact_at", "concern__created_at"),
    )
    places: dict = {}
    region: dict = {}
    lead_medians(rows, places, region)
    return medians(places) | medians(region)


def first_born_per_row() -> Case:
    """`visits.eligibility`'s first-born rule as a per-row condition: `CASE WHEN NOT EXISTS
    (...)`. A bare `WHERE NOT EXISTS` becomes an anti-join, which PostgreSQL may plan as a hash
    join over every custody of the country; inside a CASE it stays a look-up per child, asked
    after the cheaper conditions and once per child (not once per count that needs it)."""
    return Case(When(~has_older_sibling(), then=Value(True)), default=Value(False))


def _home_visits(
    bvcs: dict[int, int], programmes: list[Programme], start: datetime.date, end: datetime.date
) -> dict[int, tuple[int, int]]:
    """Eligible children of the region born in the period, per programme, and how many of
    them are enrolled: two queries whatever the number of programmes, one over the areas for
    all families and one over the first-time-parents areas. Each reads only the children of
    the region's BVCs born in the period (an index range per BVC) who live in one of the
    rule's areas; the enrolments are a LEFT JOIN.

    Whether a child is first-born is asked per child left (`first_born_per_row`, three index
    look-ups), not as a bare `WHERE NOT EXISTS`: PostgreSQL turns that into an anti-join and,
    once a vacuumed table makes index-only scans look cheap, plans it as a hash join over
    every custody of the country (4 to 6 s at 2,000,000 children, measured on a vacuumed
    copy)."""
    pks = [p.pk for p in programmes]
    cohort = (
        Child.objects.filter(bvc_unit__in=list(bvcs), birth_date__range=(start, end))
        .annotate(
            postal_digits=Replace("postal_code", Value(" "), Value("")),
            enrolled=FilteredRelation(
                "enrolments",
                condition=Q(enrolments__status__in=ENROLLED, enrolments__programme__in=pks),
            ),
        )
        .order_by()
    )
    result: dict[int, tuple[int, int]] = {}
    for rule in (ProgrammeArea.Rule.ALL_FAMILIES, ProgrammeArea.Rule.FIRST_TIME_PARENTS):
        counts, anywhere = {}, Q()
        for programme in programmes:
            areas = [area for area in programme.areas.all() if area.rule == rule]
            if not areas:
                continue
            where, places = Q(), Q()
            for area in areas:
                where |= area_condition(area)
                places |= Q(postal_digits__startswith=area.postal_code_prefix)
            born = Q(birth_date__gte=programme.children_born_from)
            anywhere |= born & places
            eligible = born & where
            # A child enrolled in two programmes is two rows: count children, not rows.
            counts[f"e{programme.pk}"] = Count("pk", filter=eligible, distinct=True)
            counts[f"n{programme.pk}"] = Count(
                "pk", filter=eligible & Q(enrolled__programme=programme.pk)
            )
        if not counts:
            continue
        children = cohort.filter(anywhere)
        if rule == ProgrammeArea.Rule.FIRST_TIME_PARENTS:
            # Every child left is first-born, so `area_condition` may take that as read.
            children = (
                children.alias(first_born_asked=first_born_per_row())
                .filter(first_born_asked=True)
                .annotate(first_born=Value(True))
            )
        found = children.aggregate(**counts)
        for programme in programmes:
            if f"e{programme.pk}" in found:
                eligible_n, enrolled_n = result.get(programme.municipality_id, (0, 0))
                result[programme.municipality_id] = (
                    eligible_n + found[f"e{programme.pk}"],
                    enrolled_n + found[f"n{programme.pk}"],
                )
    return result


def _plans(
    munis: list[int], since: datetime.datetime, until: datetime.datetime
) -> dict[int, tuple[int, int]]:
    started = Q(started_at__gte=since)
    active = Q(ended_at__isnull=True) | Q(ended_at__gte=since)
    rows = (
        Plan.objects.filter(started_unit__municipality__in=munis, started_at__lt=until)
        .values("started_unit__municipality")
        .annotate(started=Count("pk", filter=started), active=Count("pk", filter=active))
        .order_by()
    )
    return {
        row["started_unit__municipality"]: (row["started"], row["active"])
        for row in rows
        if row["started"] or row["active"]
    }


def _first_versions(
    munis: list[int], since: datetime.datetime, until: datetime.datetime
) -> dict[int, tuple[int, float]]:
    versions = PlanVersion.objects.filter(
        number=1,
        plan__started_unit__municipality__in=munis,
        plan__started_at__gte=since,
        plan__started_at__lt=until,
    )
    rows = _middle_rows(
        versions,
        "plan__started_unit__municipality",
        None,
        DaysBetween("created_at", "plan__started_at"),
    )
    places: dict = {}
    region: dict = {}
    lead_medians(rows, places, region)
    return {place: found for (_group, place), found in (medians(places) | medians(region)).items()}


def collect_figures(
    frame: Frame, period_start: datetime.date, period_end: datetime.date
) -> Figures:
    """The raw, unsuppressed counts over `frame` (never shown as they are): one query per
    figure family. `period_start` and `period_end` are both included."""
    munis, bvcs = frame.municipality_ids, frame.bvcs
    occasions = frame.occasions
    if not munis:
        return complete(Figures((), tuple(o.pk for o in occasions)))
    since, until = period_bounds(period_start, period_end)
    return complete(
        Figures(
            municipalities=tuple(munis),
            occasions=tuple(o.pk for o in occasions),
            coverage=_coverage(bvcs, occasions, period_start, period_end)
            if occasions and bvcs
            else {},
            domains=_domains(bvcs, since, until) if bvcs else {},
            lead_times=_lead_times(munis, since, until),
            home_visits=_home_visits(bvcs, frame.programmes, period_start, period_end)
            if bvcs
            else {},
            plans=_plans(munis, since, until),
            first_versions=_first_versions(munis, since, until),
        )
    )


def regional_statistics(
    region: Organisation, period_start: datetime.date, period_end: datetime.date
) -> RegionalStatistics:
    """The region's figures per municipality and in all, small cells suppressed:
    twelve queries at most, whatever the population."""
    frame = frame_of(region)
    return present(
        frame, collect_figures(frame, period_start, period_end), period_start, period_end
    )


def regional_statistics_sql(
    region: Organisation, period_start: datetime.date, period_end: datetime.date
) -> RegionalStatistics:
    """The same as `regional_statistics`, counted by hand-written SQL (the benchmark's bare
    baseline, and a check on the ORM's queries)."""
    frame = frame_of(region)
    return present(
        frame, collect_figures_sql(frame, period_start, period_end), period_start, period_end
    )
