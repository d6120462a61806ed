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
BVC, the screening's unit, the referring unit, the unit that started the plan).

Every figure family is one query, two for coverage, domains and home visits (conditional
aggregation, no per-row work in Python), plus four small look-ups of the region's
municipalities, occasions and programmes: thirteen queries at most, whatever the population.
Small cells are suppressed in `figures.present`.

At scale, counting from the side with few rows matters more than anything else: a child that
is probed once per occasion (`EXISTS` per occasion) or a response probed once per domain costs
ten times what a `COUNT(DISTINCT ...)` over the screenings or the positive answers does
(measured with EXPLAIN ANALYZE on a generated population). Such per-row subplans also raise
PostgreSQL's cost estimate over `jit_above_cost`, and JIT compilation then costs seconds (11 s
of JIT for a 0.35 s query at 200,000 children): no figure here uses them.

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

from django.db.models import (
    Count,
    F,
    FilteredRelation,
    FloatField,
    Func,
    Q,
    Value,
    Window,
)
from django.db.models.functions import Replace, RowNumber

from cases.models import Referral
from directory.models import Organisation
from families.models import Child
from plans.models import Plan, PlanVersion
from screening.models import Answer, Occasion, Response
from visits.eligibility import area_condition, has_older_sibling
from visits.models import Enrolment, Programme, ProgrammeArea

from .figures import (
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
    munis: list[int], occasions: list[Occasion], start: datetime.date, end: datetime.date
) -> dict[tuple[int, int], tuple[int, int]]:
    """Two queries: the children per age window (conditional counts over an index range), and
    the screened ones counted from the answers' side (`COUNT(DISTINCT child)`), which touches
    only children with a screening instead of probing every child once per occasion."""
    windows = {o.pk: born_between(o.min_age_days, o.max_age_days, start, end) for o in occasions}
    children = (
        Child.objects.filter(
            bvc_unit__municipality__in=munis,
            birth_date__gte=min(lo for lo, _hi in windows.values()),
            birth_date__lte=max(hi for _lo, hi in windows.values()),
        )
        .values("bvc_unit__municipality")
        .annotate(
            **{f"c{o}": Count("pk", filter=Q(birth_date__range=w)) for o, w in windows.items()}
        )
        .order_by()
    )
    # The overall range first: an index range per unit, then the window per occasion.
    in_window = Q()
    for o, window in windows.items():
        in_window |= Q(screening__occasion=o, screening__child__birth_date__range=window)
    screened = (
        Response.objects.filter(
            in_window,
            screening__child__bvc_unit__municipality__in=munis,
            screening__child__birth_date__gte=min(lo for lo, _hi in windows.values()),
            screening__child__birth_date__lte=max(hi for _lo, hi in windows.values()),
        )
        .values("screening__child__bvc_unit__municipality", "screening__occasion")
        .annotate(n=Count("screening__child", distinct=True))
        .order_by()
        .values_list("screening__child__bvc_unit__municipality", "screening__occasion", "n")
    )
    found = {
        (o, row["bvc_unit__municipality"]): (row[f"c{o}"], 0) for row in children for o in windows
    }
    for muni, occasion, n in screened:
        found[occasion, muni] = (found.get((occasion, muni), (0, 0))[0], n)
    return found


def _domains(
    munis: list[int], since: datetime.datetime, until: datetime.datetime
) -> dict[int, dict[str, int]]:
    """Two queries: the responses per municipality, and the positive ones per domain counted
    from the positive answers' side (few rows), not by probing every response per domain."""
    totals = (
        Response.objects.filter(
            screening__unit__municipality__in=munis,
            submitted_at__gte=since,
            submitted_at__lt=until,
        )
        .values("screening__unit__municipality")
        .annotate(responses=Count("pk"))
        .order_by()
        .values_list("screening__unit__municipality", "responses")
    )
    positive = (
        Answer.objects.filter(
            positive=True,
            response__screening__unit__municipality__in=munis,
            response__submitted_at__gte=since,
            response__submitted_at__lt=until,
        )
        .values("response__screening__unit__municipality", "item__domain")
        .annotate(n=Count("response", distinct=True))
        .order_by()
        .values_list("response__screening__unit__municipality", "item__domain", "n")
    )
    found: dict[int, dict[str, int]] = {muni: {"responses": n} for muni, n in totals}
    for muni, domain, n in positive:
        found.setdefault(muni, {})[domain] = n
    return found


def _middle_rows(queryset, place: str, group: str | None, value: Func):  # type: ignore[no-untyped-def]
    """`(place, group, value, rn, n, region_rn, region_n)` for the middle rows only: of each
    group (or of all rows, `group` None) per place and for the region."""
    per_place = [F(place), F(group)] if group else [F(place)]
    per_group = [F(group)] if group else None
    order = [F("value").asc()]
    return (
        queryset.annotate(place=F(place), group=F(group) if group else Value(""), value=value)
        .annotate(
            rn=Window(RowNumber(), partition_by=per_place, order_by=order),
            n=Window(Count("pk"), partition_by=per_place),
            region_rn=Window(RowNumber(), partition_by=per_group, order_by=order),
            region_n=Window(Count("pk"), partition_by=per_group),
        )
        .filter(
            Q(n__lte=F("rn") * 2, n__gte=F("rn") * 2 - 2)
            | Q(region_n__lte=F("region_rn") * 2, region_n__gte=F("region_rn") * 2 - 2)
        )
        .values_list("place", "group", "value", "rn", "n", "region_rn", "region_n")
        .order_by()
    )


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


def _home_visits(
    munis: list[int], programmes: list[Programme], start: datetime.date, end: datetime.date
) -> dict[int, tuple[int, int]]:
    """Eligible children of the region born in the period, per programme, and how many of
    them are enrolled: two queries whatever the number of programmes, one over the areas for
    all families and one over the first-time-parents areas, whose children are first narrowed
    to the first-born by an anti-join (`WHERE NOT EXISTS`, planned as a join). The enrolments
    are a LEFT JOIN too. A per-child subquery in the select list instead (first-born, enrolled,
    once per programme) costs a subplan per row and column: at 200,000 children that query
    took 0.35 s without JIT and 11 s with it."""
    pks = [p.pk for p in programmes]
    cohort = (
        Child.objects.filter(bvc_unit__municipality__in=munis, birth_date__range=(start, end))
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
    for rule, children in (
        (ProgrammeArea.Rule.ALL_FAMILIES, cohort),
        # Every child left is first-born, so `area_condition` may take that as read.
        (
            ProgrammeArea.Rule.FIRST_TIME_PARENTS,
            cohort.filter(~has_older_sibling()).annotate(first_born=Value(True)),
        ),
    ):
        counts = {}
        for programme in programmes:
            areas = [area for area in programme.areas.all() if area.rule == rule]
            if not areas:
                continue
            where = Q()
            for area in areas:
                where |= area_condition(area)
            eligible = Q(birth_date__gte=programme.children_born_from) & where
            # A child enrolled in two programmes is two rows: count children, not rows.
            counts[f"e{programme.pk}"] = Count("pk", filter=eligible, distinct=True)
            counts[f"n{programme.pk}"] = Count(
                "pk", filter=eligible & Q(enrolled__programme=programme.pk)
            )
        if not counts:
            continue
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
    munis = frame.municipality_ids
    occasions = frame.occasions
    if not munis:
        return complete(Figures((), tuple(o.pk for o in occasions)))
    since, until = period_bounds(period_start, period_end)
    return complete(
        Figures(
            municipalities=tuple(munis),
            occasions=tuple(o.pk for o in occasions),
            coverage=_coverage(munis, occasions, period_start, period_end) if occasions else {},
            domains=_domains(munis, since, until),
            lead_times=_lead_times(munis, since, until),
            home_visits=_home_visits(munis, frame.programmes, period_start, period_end),
            plans=_plans(munis, since, until),
            first_versions=_first_versions(munis, since, until),
        )
    )


def regional_statistics(
    region: Organisation, period_start: datetime.date, period_end: datetime.date
) -> RegionalStatistics:
    """The region's figures per municipality and in all, small cells suppressed:
    thirteen queries at most, whatever the population."""
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
