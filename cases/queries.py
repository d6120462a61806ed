"""Reads of cases, always scoped by the access policy.

A case can be opened without the child's identity being shown: the case and the child are
decided apart. Every identity that is shown is written to the access log at the point of
access, one event per child, in one append however many children a page shows.
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from audit.models import Action as AuditAction
from audit.services import Access, access_log, access_log_many
from consent import policy
from consent.policy import Basis, Decision, Purpose
from families.models import Child
from samverkan.charts import Chart

from .models import Action, Concern, Referral, ReportOfConcern

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from directory.models import Professional, Team, Unit
    from meetings.models import AgendaItem

STATS_QUARTERS = 8


def min_cell() -> int:
    """Statistics never identify anyone: cells with fewer referrals than this are not shown."""
    return settings.STATISTICS_MIN_CELL


def concern_for_request(request: HttpRequest, pk: int) -> Concern:
    """The case `pk` if the user may open it; 404 otherwise, the same for missing and
    forbidden, and the refused attempt is logged."""
    concern = (
        policy.visible_concerns(request.user)
        .select_related("created_by", "unit", "team", "contact_person")
        .filter(pk=pk)
        .first()
    )
    if concern is None:
        access_log(
            request=request,
            action=AuditAction.VIEW_CONCERN,
            purpose=Purpose.CARE,
            decision=Decision(allowed=False, basis=Basis.NONE, reference=f"concern:{pk}"),
        )
        raise Http404
    return concern


def shown_children(
    request: HttpRequest, child_ids: Iterable[int | None], *, action: str = AuditAction.VIEW_CONCERN
) -> dict[int, tuple[Child, Decision]]:
    """The children among `child_ids` whose identity the user may see, with the decision:
    read through the policy's queryset, decided in one batch, each one logged as shown.
    A fixed number of queries however many children."""
    wanted = {pk for pk in child_ids if pk is not None}
    if not wanted:
        return {}
    user = request.user
    children = list(
        Child.objects.visible_to(user, among=wanted).select_related("bvc_unit", "school_unit")  # type: ignore[arg-type]
    )
    decisions = policy.decide_children(user, children, Purpose.CARE)
    shown = {child.pk: (child, decisions[child.pk]) for child in children}
    shown = {pk: pair for pk, pair in shown.items() if pair[1].allowed}
    access_log_many(
        request=request,
        accesses=[
            Access(action, Purpose.CARE, decision, child) for child, decision in shown.values()
        ],
    )
    return shown


def shown_child(
    request: HttpRequest, child_id: int | None, *, action: str = AuditAction.VIEW_CONCERN
) -> tuple[Child | None, Decision]:
    """The one child of a case or report, if the user may see it (logged when shown)."""
    return shown_children(request, [child_id], action=action).get(
        child_id or 0, (None, Decision.deny())
    )


def attach_shown_children(request: HttpRequest, rows: Iterable[Concern | ReportOfConcern]) -> None:
    """Set `shown_child` on each row: its child where the policy lets the user see it, else
    None (the row then shows only what is anonymous). One batch for the whole page."""
    rows = list(rows)
    shown = shown_children(request, [row.child_id for row in rows])
    for row in rows:
        pair = shown.get(row.child_id) if row.child_id else None
        row.shown_child = pair[0] if pair else None  # type: ignore[union-attr]


def concern_agenda(concern: Concern) -> QuerySet[AgendaItem]:
    """The case's discussions at team meetings, oldest first (read-only here)."""
    from meetings.models import AgendaItem

    return (
        AgendaItem.objects.filter(concern=concern)
        .select_related("meeting__team")
        .order_by("meeting__starts_at", "pk")
    )


# --- Worklists ------------------------------------------------------------------------------


def my_open_actions(user: Professional) -> QuerySet[Action]:
    return (
        Action.objects.filter(responsible=user, done_at__isnull=True)
        .select_related("concern", "team")
        .order_by("due_date", "pk")
    )


def my_open_cases(user: Professional) -> QuerySet[Concern]:
    return (
        Concern.objects.filter(
            Q(created_by=user) | Q(contact_person=user), status=Concern.Status.OPEN
        )
        .select_related("team")
        .order_by("-created_at", "-pk")
    )


def families_to_contact(user: Professional) -> QuerySet[Concern]:
    """Cases whose family this user is to contact and has not yet: soonest due first."""
    return (
        Concern.objects.filter(contact_person=user, family_contacted_at__isnull=True)
        .select_related("team")
        .order_by(F("feedback_due").asc(nulls_last=True), "created_at", "pk")
    )


@dataclass(frozen=True)
class Capped:
    """At most `limit` rows of a list, and whether there were more (no count query)."""

    rows: list
    more: bool

    @classmethod
    def of(cls, queryset: QuerySet, limit: int) -> Capped:
        rows = list(queryset[: limit + 1])
        return cls(rows[:limit], len(rows) > limit)


# --- Reports of concern ---------------------------------------------------------------------


def intake_units(user: Professional | AnonymousUser) -> list[Unit]:
    """The user's units that receive reports of concern."""
    return [unit for unit in policy.current_units(user) if unit.receives_reports_of_concern]


def report_inbox(units: list[Unit]) -> QuerySet[ReportOfConcern]:
    """Reports to `units`: unacknowledged first, newest first within each."""
    return (
        ReportOfConcern.objects.filter(to_unit__in=[unit.pk for unit in units])
        .select_related("reporter_unit", "to_unit")
        .order_by(F("acknowledged_at").desc(nulls_first=True), "-sent_at", "-pk")
    )


def visible_reports(user: Professional | AnonymousUser) -> QuerySet[ReportOfConcern]:
    """Reports the user made, and reports to a unit the user is a member of."""
    if not user.is_authenticated:
        return ReportOfConcern.objects.none()
    units = policy.current_unit_ids(user)
    return ReportOfConcern.objects.filter(Q(to_unit__in=units) | Q(reporter=user))


def report_for_request(request: HttpRequest, pk: int) -> ReportOfConcern:
    """The report `pk` if the user made it or their unit received it; 404 otherwise (logged)."""
    report = (
        visible_reports(request.user)
        .select_related("reporter", "reporter_unit", "to_unit", "acknowledged_by")
        .filter(pk=pk)
        .first()
    )
    if report is None:
        access_log(
            request=request,
            action=AuditAction.VIEW_CONCERN,
            purpose=Purpose.CARE,
            decision=Decision(allowed=False, basis=Basis.NONE, reference=f"report:{pk}"),
        )
        raise Http404
    return report


# --- Lead times -----------------------------------------------------------------------------


def quarter_of(moment: datetime.datetime) -> tuple[int, int]:
    local = timezone.localtime(moment)
    return local.year, (local.month - 1) // 3 + 1


def quarter_label(quarter: tuple[int, int]) -> str:
    return f"{quarter[0]} Q{quarter[1]}"


def _quarter_start(year: int, quarter: int) -> datetime.datetime:
    return datetime.datetime(year, 3 * (quarter - 1) + 1, 1, tzinfo=timezone.get_current_timezone())


@dataclass(frozen=True)
class Cell:
    count: int
    median_days: float | None  # None when the cell is too small to show

    @property
    def suppressed(self) -> bool:
        return self.median_days is None


@dataclass(frozen=True)
class LeadTimes:
    quarters: list[str]  # columns, oldest first: only quarters with data
    rows: list[tuple[str, list[Cell | None]]]  # (service name, a cell per quarter or None)
    min_cell: int

    @property
    def longest(self) -> float:
        return max(
            (cell.median_days or 0 for _name, cells in self.rows for cell in cells if cell),
            default=0,
        )


def team_lead_times(team: Team, *, today: datetime.date | None = None) -> LeadTimes:
    """The team's median lead time (concern recorded -> family's first contact) per service
    and quarter of the first contact, over the last quarters. One query; cells with fewer
    than `min_cell()` referrals are suppressed so that no family can be recognised."""
    today = today or timezone.localdate()
    limit = min_cell()
    year, quarter = today.year, (today.month - 1) // 3 + 1
    first = year * 4 + quarter - 1 - (STATS_QUARTERS - 1)
    since = _quarter_start(first // 4, first % 4 + 1)
    found = (
        Referral.objects.filter(
            concern__team=team, first_contact_at__isnull=False, first_contact_at__gte=since
        )
        .values_list("service_id", "service__name", "first_contact_at", "concern__created_at")
        .order_by("service__name", "service_id")
    )
    days: dict[tuple[int, tuple[int, int]], list[float]] = defaultdict(list)
    names: dict[int, str] = {}
    for service_id, name, contact, noticed in found:
        if contact is None:  # never: the filter leaves such referrals out
            continue
        names[service_id] = name
        days[service_id, quarter_of(contact)].append((contact - noticed).total_seconds() / 86400)
    quarters = sorted({q for _service, q in days})
    rows = []
    for service_id, name in names.items():
        cells: list[Cell | None] = []
        for q in quarters:
            values = days.get((service_id, q))
            if not values:
                cells.append(None)
            elif len(values) < limit:
                cells.append(Cell(len(values), None))
            else:
                cells.append(Cell(len(values), round(statistics.median(values), 1)))
        rows.append((name, cells))
    return LeadTimes([quarter_label(q) for q in quarters], rows, limit)


def lead_time_chart(stats: LeadTimes) -> Chart:
    """Bars scale to the longest median; a suppressed cell gets no bar, only the dash."""
    chart = Chart(label_width=80, bar_space=440)
    for name, cells in stats.rows:
        chart.heading(name)
        for quarter, cell in zip(stats.quarters, cells, strict=True):
            if cell is None:
                continue
            median = cell.median_days
            fraction = (median or 0) / stats.longest if stats.longest else 0
            chart.bar(quarter, fraction, median)
    return chart
