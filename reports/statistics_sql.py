"""The regional figures counted by hand-written SQL: one statement per figure family, every
value bound as a parameter, the same text on PostgreSQL and SQLite except for the number of
days between two timestamps.

This is the benchmark's bare baseline for `statistics.regional_statistics` (what the ORM's
queries cost above the SQL they need) and a check on them: a test asserts that both count the
same on generated populations. The definitions are those in `statistics`' docstring; medians
use the same window query (see there).

Only fixed fragments of this module and `%s` placeholders are formatted into the statements
(hence the `noqa: S608`); every value, from a municipality id to a postal-code prefix, is bound.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from typing import TypeAlias

from django.db import connection

from visits.models import Enrolment, ProgrammeArea

from .figures import (
    DOMAINS,
    Figures,
    Frame,
    born_between,
    complete,
    lead_medians,
    medians,
    period_bounds,
)

# A value bound to a placeholder; dates and timestamps as the backend adapts them (a string on
# SQLite, the value itself on PostgreSQL).
Param: TypeAlias = int | str | datetime.date | None

EMPTY = "''"
ENROLLED = (Enrolment.Status.ACCEPTED, Enrolment.Status.ENDED)


def _days(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0 AS double precision)"
    return f"(julianday({later}) - julianday({earlier}))"


def _in(values: Collection[object]) -> str:
    return "(" + ", ".join(["%s"] * len(values)) + ")"


def _moment(value: datetime.datetime) -> Param:
    return connection.ops.adapt_datetimefield_value(value)


def _day(value: datetime.date) -> Param:
    return connection.ops.adapt_datefield_value(value)


def _rows(sql: str, params: Sequence[Param]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _coverage(frame: Frame, start: datetime.date, end: datetime.date) -> dict:
    bvcs, occasions = frame.bvcs, frame.occasions
    windows = [born_between(o.min_age_days, o.max_age_days, start, end) for o in occasions]
    columns = ", ".join(
        [
            "COUNT(DISTINCT CASE WHEN ch.birth_date BETWEEN %s AND %s THEN ch.id END),"
            " COUNT(DISTINCT CASE WHEN s.occasion_id = %s THEN ch.id END)"
        ]
        * len(occasions)
    )
    in_window = " OR ".join(
        ["(s.occasion_id = %s AND ch.birth_date BETWEEN %s AND %s)"] * len(occasions)
    )
    sql = (
        f"SELECT ch.bvc_unit_id, {columns}"  # noqa: S608
        " FROM families_child ch"
        f" LEFT JOIN screening_screening s ON s.child_id = ch.id AND ({in_window})"
        " AND EXISTS (SELECT 1 FROM screening_response r WHERE r.screening_id = s.id)"
        f" WHERE ch.bvc_unit_id IN {_in(bvcs)} AND ch.birth_date BETWEEN %s AND %s"
        " GROUP BY ch.bvc_unit_id"
    )
    counted, joined = [], []
    for occasion, (lo, hi) in zip(occasions, windows, strict=True):
        counted += [_day(lo), _day(hi), occasion.pk]
        joined += [occasion.pk, _day(lo), _day(hi)]
    overall = [_day(min(lo for lo, _ in windows)), _day(max(hi for _, hi in windows))]
    found: dict[tuple[int, int], tuple[int, int]] = {}
    for unit, *numbers in _rows(sql, [*counted, *joined, *bvcs, *overall]):
        for i, occasion in enumerate(occasions):
            children, screened = found.get((occasion.pk, bvcs[unit]), (0, 0))
            found[occasion.pk, bvcs[unit]] = (
                children + numbers[2 * i],
                screened + numbers[2 * i + 1],
            )
    return found


def _domains(bvcs: dict[int, int], since: datetime.datetime, until: datetime.datetime) -> dict:
    positive = ", ".join(["COUNT(DISTINCT CASE WHEN i.domain = %s THEN r.id END)"] * len(DOMAINS))
    sql = (
        f"SELECT r.unit_id, COUNT(DISTINCT r.id), {positive}"  # noqa: S608
        " FROM screening_response r"
        " LEFT JOIN screening_answer a ON a.response_id = r.id AND a.positive"
        " LEFT JOIN screening_item i ON i.id = a.item_id"
        f" WHERE r.unit_id IN {_in(bvcs)} AND r.submitted_at >= %s AND r.submitted_at < %s"
        " GROUP BY r.unit_id"
    )
    found: dict[int, dict[str, int]] = {}
    for unit, *counts in _rows(sql, [*DOMAINS, *bvcs, _moment(since), _moment(until)]):
        place = found.setdefault(bvcs[unit], {})
        for key, n in zip(("responses", *DOMAINS), counts, strict=True):
            place[key] = place.get(key, 0) + n
    return found


def _middle(inner: str, place: str, group: str | None, value: str) -> str:
    """Only the middle rows of each group (or of all rows, `group` None), ordered by value,
    per place and for the region."""
    per_place = f"{place}, {group}" if group else place
    per_group = f"PARTITION BY {group} " if group else ""
    return (
        "SELECT place, grp, value, rn, n, region_rn, region_n FROM ("  # noqa: S608
        f" SELECT {place} AS place, {group or EMPTY} AS grp, {value} AS value,"
        f" ROW_NUMBER() OVER (PARTITION BY {per_place} ORDER BY {value}) AS rn,"
        f" COUNT(*) OVER (PARTITION BY {per_place}) AS n,"
        f" ROW_NUMBER() OVER ({per_group}ORDER BY {value}) AS region_rn,"
        f" COUNT(*) OVER ({per_group.strip()}) AS region_n"
        f" {inner}) ordered"
        " WHERE (n <= 2 * rn AND n >= 2 * rn - 2)"
        " OR (region_n <= 2 * region_rn AND region_n >= 2 * region_rn - 2)"
    )


def _lead_times(munis: list[int], since: datetime.datetime, until: datetime.datetime) -> dict:
    inner = (
        "FROM cases_referral f"
        " JOIN cases_concern c ON c.id = f.concern_id"
        " JOIN directory_unit u ON u.id = f.unit_id"
        " JOIN directory_service v ON v.id = f.service_id"
        f" WHERE u.municipality_id IN {_in(munis)}"
        " AND f.sent_at >= %s AND f.sent_at < %s AND f.first_contact_at IS NOT NULL"
    )
    sql = _middle(inner, "u.municipality_id", "v.kind", _days("f.first_contact_at", "c.created_at"))
    places: dict = {}
    region: dict = {}
    lead_medians(_rows(sql, [*munis, _moment(since), _moment(until)]), places, region)
    return medians(places) | medians(region)


def _home_visits(frame: Frame, start: datetime.date, end: datetime.date) -> dict:
    """Two statements: the areas for all families, and the first-time-parents areas, each over
    the children of the region's BVCs born in the period who live in one of the rule's areas;
    first-born asked per child (inside a CASE, see `statistics.first_born_per_row`), enrolments
    joined."""
    first_born = (
        " AND CASE WHEN NOT EXISTS (SELECT 1 FROM families_custody older"
        " JOIN families_custody mine ON mine.guardian_id = older.guardian_id"
        " JOIN families_child o ON o.id = older.child_id"
        " WHERE mine.child_id = ch.id AND o.birth_date < ch.birth_date) THEN TRUE ELSE FALSE END"
    )
    bvcs = frame.bvcs
    pks = [p.pk for p in frame.programmes]
    result: dict[int, tuple[int, int]] = {}
    for rule, narrowed in (
        (ProgrammeArea.Rule.ALL_FAMILIES, ""),
        (ProgrammeArea.Rule.FIRST_TIME_PARENTS, first_born),
    ):
        columns, params, anywhere, where, counted = [], [], [], [], []
        for programme in frame.programmes:
            prefixes = [a.postal_code_prefix for a in programme.areas.all() if a.rule == rule]
            if not prefixes:
                continue
            places = " OR ".join(["REPLACE(ch.postal_code, ' ', '') LIKE %s"] * len(prefixes))
            eligible = f"ch.birth_date >= %s AND ({places})"
            columns.append(f"COUNT(DISTINCT CASE WHEN {eligible} THEN ch.id END)")
            columns.append(f"COUNT(CASE WHEN {eligible} AND e.programme_id = %s THEN 1 END)")
            anywhere.append(f"({eligible})")
            born_from = _day(programme.children_born_from)
            likes = [prefix + "%" for prefix in prefixes]
            params += [born_from, *likes, born_from, *likes, programme.pk]
            where += [born_from, *likes]
            counted.append(programme)
        if not counted:
            continue
        sql = (
            f"SELECT {', '.join(columns)}"  # noqa: S608
            " FROM families_child ch"
            " LEFT JOIN visits_enrolment e ON e.child_id = ch.id"
            f" AND e.status IN {_in(ENROLLED)} AND e.programme_id IN {_in(pks)}"
            f" WHERE ch.bvc_unit_id IN {_in(bvcs)} AND ch.birth_date BETWEEN %s AND %s"
            f" AND ({' OR '.join(anywhere)}){narrowed}"
        )
        period = [_day(start), _day(end)]
        (counts,) = _rows(sql, [*params, *ENROLLED, *pks, *bvcs, *period, *where])
        for i, programme in enumerate(counted):
            eligible_n, enrolled_n = result.get(programme.municipality_id, (0, 0))
            result[programme.municipality_id] = (
                eligible_n + counts[2 * i],
                enrolled_n + counts[2 * i + 1],
            )
    return result


def _plans(munis: list[int], since: datetime.datetime, until: datetime.datetime) -> dict:
    sql = (
        "SELECT u.municipality_id,"  # noqa: S608
        " COUNT(CASE WHEN p.started_at >= %s THEN 1 END),"
        " COUNT(CASE WHEN p.ended_at IS NULL OR p.ended_at >= %s THEN 1 END)"
        " FROM plans_plan p JOIN directory_unit u ON u.id = p.started_unit_id"
        f" WHERE u.municipality_id IN {_in(munis)} AND p.started_at < %s"
        " GROUP BY u.municipality_id"
    )
    rows = _rows(sql, [_moment(since), _moment(since), *munis, _moment(until)])
    return {muni: (started, active) for muni, started, active in rows if started or active}


def _first_versions(munis: list[int], since: datetime.datetime, until: datetime.datetime) -> dict:
    inner = (
        "FROM plans_planversion pv"
        " JOIN plans_plan p ON p.id = pv.plan_id"
        " JOIN directory_unit u ON u.id = p.started_unit_id"
        f" WHERE pv.number = 1 AND u.municipality_id IN {_in(munis)}"
        " AND p.started_at >= %s AND p.started_at < %s"
    )
    sql = _middle(inner, "u.municipality_id", None, _days("pv.created_at", "p.started_at"))
    places: dict = {}
    region: dict = {}
    lead_medians(_rows(sql, [*munis, _moment(since), _moment(until)]), places, region)
    return {place: found for (_group, place), found in (medians(places) | medians(region)).items()}


def collect_figures_sql(
    frame: Frame, period_start: datetime.date, period_end: datetime.date
) -> Figures:
    """The raw counts over `frame`, as `statistics.collect_figures` counts them."""
    munis, bvcs = frame.municipality_ids, frame.bvcs
    occasions = tuple(o.pk for o in frame.occasions)
    if not munis:
        return complete(Figures((), occasions))
    since, until = period_bounds(period_start, period_end)
    return complete(
        Figures(
            municipalities=tuple(munis),
            occasions=occasions,
            coverage=_coverage(frame, period_start, period_end) if occasions and bvcs else {},
            domains=_domains(bvcs, since, until) if bvcs else {},
            lead_times=_lead_times(munis, since, until),
            home_visits=_home_visits(frame, period_start, period_end) if bvcs else {},
            plans=_plans(munis, since, until),
            first_versions=_first_versions(munis, since, until),
        )
    )
