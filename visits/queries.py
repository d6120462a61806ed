"""Reads of home-visit data, each named after the screen that uses it.

Every queryset starts from `consent.policy.visible_enrolments`: a visit, a booking or a note
the user may not reach is never fetched. The worklist's reads run a fixed number of queries
whatever the number of rows (one eligibility query per active programme: programmes are
configuration, not data).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from audit.models import Action
from audit.services import Access, access_log, access_log_many
from consent import policy
from consent.policy import Decision, Purpose
from directory.models import Sector
from families.models import Child

from .eligibility import eligible_children
from .models import Enrolment, HomeVisit, Programme, ProgrammeVisit, VisitBooking, VisitNote

if TYPE_CHECKING:
    from directory.models import Professional, Unit


class Status:
    """How a visit stands today, as the schedule and the worklist show it."""

    DONE = "done"
    NOT_APPLICABLE = "not_applicable"
    ENDED = "ended"  # cancelled when the programme ended before it
    OVERDUE = "overdue"
    DUE = "due"
    UPCOMING = "upcoming"


def visit_status(
    visit: HomeVisit, today: datetime.date, ended_at: datetime.datetime | None = None
) -> str:
    """`ended_at`: when the visit's programme ended, if it has (the worklist lists only
    programmes in progress)."""
    if visit.done_at is not None:
        return Status.DONE
    if visit.cancelled_at is not None:
        ended = ended_at is not None and visit.cancelled_at >= ended_at
        return Status.ENDED if ended else Status.NOT_APPLICABLE
    if visit.window_end < today:
        return Status.OVERDUE
    if visit.window_start <= today:
        return Status.DUE
    return Status.UPCOMING


def child_health_units(user: Professional) -> list[Unit]:
    """The user's BVC units: where newborns are offered the programme."""
    return [unit for unit in policy.current_units(user) if unit.sector == Sector.CHILD_HEALTH]


def active_programmes() -> list[Programme]:
    return list(Programme.objects.filter(active=True).prefetch_related("areas").order_by("pk"))


# --- The worklist ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Eligible:
    """A newborn of the user's BVC whom a programme is for and who has not been offered it."""

    child: Child
    programme: Programme


def eligible_not_offered(
    units: list[Unit], programmes: list[Programme], today: datetime.date, limit: int
) -> tuple[list[Eligible], bool]:
    """Newborns of `units` eligible for one of `programmes` (born within its offer period)
    and not yet offered it, youngest first; at most `limit`, and whether there were more."""
    if not units:
        return [], False
    rows: list[Eligible] = []
    more = False
    for programme in programmes:
        newborns = Child.objects.filter(
            bvc_unit__in=[unit.pk for unit in units],
            birth_date__gte=today - datetime.timedelta(weeks=programme.offer_until_weeks),
            birth_date__lte=today,
        ).exclude(enrolments__programme=programme)
        children = list(
            eligible_children(programme, newborns)
            .select_related("bvc_unit")
            .order_by("-birth_date", "last_name", "pk")[: limit + 1]
        )
        more = more or len(children) > limit
        rows.extend(Eligible(child, programme) for child in children[:limit])
    rows.sort(key=lambda row: (-row.child.birth_date.toordinal(), row.child.last_name))
    return rows[:limit], more or len(rows) > limit


def awaiting_answer(user: Professional, limit: int) -> tuple[list[Enrolment], bool]:
    """Offers the family has not answered yet (the BVC's own: no one else sees an offer)."""
    rows = list(
        policy.visible_enrolments(user)
        .filter(status=Enrolment.Status.OFFERED)
        .select_related("child", "programme")
        .order_by("offered_at", "pk")[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


def _visits_with_profession(profession: str, partner_units: list[int]) -> list[int]:
    """Programme visits `profession` takes part in, of the programmes whose partner is one of
    `partner_units` (a partner sees no other programme's visits). Configuration rows, a few
    per unit, and SQLite cannot search a JSON list, so this is read in Python: one query."""
    return [
        visit.pk
        for visit in ProgrammeVisit.objects.filter(programme__partner_unit__in=partner_units).only(
            "pk", "professions"
        )
        if profession in visit.professions
    ]


def open_visits(user: Professional, today: datetime.date) -> QuerySet[HomeVisit]:
    """Visits of accepted families the user takes part in that are not made yet and whose
    window has opened (due, or overdue once it has closed), or that are already booked. The
    BVC holding the enrolment sees all its visits; a partner (the family therapist) only the
    visits their profession takes part in."""
    booked = Exists(VisitBooking.objects.filter(visit=OuterRef("pk"), cancelled_at__isnull=True))
    own_units = policy.current_unit_ids(user)
    return HomeVisit.objects.filter(
        Q(window_start__lte=today) | Q(booked),
        Q(enrolment__unit__in=own_units)
        | Q(programme_visit__in=_visits_with_profession(user.profession, own_units)),
        enrolment__in=policy.visible_enrolments(user).filter(status=Enrolment.Status.ACCEPTED),
        done_at__isnull=True,
        cancelled_at__isnull=True,
    )


def for_worklist(visits: QuerySet[HomeVisit]) -> QuerySet[HomeVisit]:
    """What a worklist row shows: the child, the programme visit and the live booking."""
    return (
        visits.select_related("enrolment__child", "enrolment__programme", "programme_visit")
        .prefetch_related(
            Prefetch(
                "bookings",
                queryset=VisitBooking.objects.filter(cancelled_at__isnull=True).select_related(
                    "nurse", "therapist"
                ),
                to_attr="live_bookings",
            )
        )
        .order_by("window_end", "pk")
    )


@dataclass(frozen=True)
class Counts:
    due: int
    overdue: int
    takes_part: bool  # the user works in a BVC or a programme's social-services unit


def worklist_counts(user: Professional) -> Counts:
    """Due and overdue visits for the "To do" page: one count query, one membership query."""
    units = policy.current_units(user)
    today = timezone.localdate()
    numbers = (
        open_visits(user, today)
        .filter(window_start__lte=today)
        .aggregate(
            due=Count("pk", filter=Q(window_end__gte=today)),
            overdue=Count("pk", filter=Q(window_end__lt=today)),
        )
    )
    takes_part = any(unit.sector == Sector.CHILD_HEALTH for unit in units) or (
        Programme.objects.filter(active=True, partner_unit__in=[u.pk for u in units]).exists()
    )
    return Counts(numbers["due"] or 0, numbers["overdue"] or 0, takes_part)


def log_list(request: HttpRequest) -> None:
    """The worklist names children: one list event per page, as the start page does."""
    units = policy.current_units(request.user)
    own = any(unit.sector == Sector.CHILD_HEALTH for unit in units)
    access_log(
        request=request,
        action=Action.VISITS_LIST,
        purpose=Purpose.HOME_VISITS,
        decision=Decision(
            allowed=True, basis=policy.Basis.OWN_UNIT if own else policy.Basis.CONSENT
        ),
    )


# --- One family -----------------------------------------------------------------------------


def enrolment_for_request(
    request: HttpRequest, pk: int, *, action: str = Action.VIEW_VISITS
) -> tuple[Enrolment, Decision]:
    """The enrolment `pk` through the user's scope, audited; a 404 for one the user may not
    reach, the same as for a missing one (the refusal is logged against its child)."""
    enrolment = (
        policy.visible_enrolments(request.user)
        .select_related("child", "programme__partner_unit", "unit", "area", "consent")
        .filter(pk=pk)
        .first()
    )
    decision = (
        policy.decide_enrolment(request.user, enrolment)
        if enrolment is not None
        else Decision.deny()
    )
    child_id = (
        enrolment.child_id
        if enrolment is not None
        else Enrolment.objects.filter(pk=pk).values_list("child_id", flat=True).first()
    )
    access_log(
        request=request,
        action=action,
        purpose=Purpose.HOME_VISITS,
        decision=decision,
        child=enrolment.child if enrolment is not None else None,
        child_id=child_id,
    )
    if enrolment is None or not decision.allowed:
        raise Http404
    return enrolment, decision


def visit_for_request(
    request: HttpRequest, pk: int, *, action: str = Action.VIEW_VISITS
) -> tuple[HomeVisit, Decision]:
    """The visit `pk` through the user's scope, audited like `enrolment_for_request`."""
    visit = (
        HomeVisit.objects.filter(enrolment__in=policy.visible_enrolments(request.user))
        .select_related(
            "programme_visit",
            "enrolment__child",
            "enrolment__programme__partner_unit",
            "enrolment__unit",
        )
        .filter(pk=pk)
        .first()
    )
    decision = (
        policy.decide_enrolment(request.user, visit.enrolment)
        if visit is not None
        else Decision.deny()
    )
    child_id = (
        visit.enrolment.child_id
        if visit is not None
        else HomeVisit.objects.filter(pk=pk).values_list("enrolment__child_id", flat=True).first()
    )
    access_log(
        request=request,
        action=action,
        purpose=Purpose.HOME_VISITS,
        decision=decision,
        child=visit.enrolment.child if visit is not None else None,
        child_id=child_id,
    )
    if visit is None or not decision.allowed:
        raise Http404
    return visit, decision


def live_booking(visit: HomeVisit) -> VisitBooking | None:
    return (
        visit.bookings.filter(cancelled_at__isnull=True)
        .select_related("nurse", "therapist")
        .first()
    )


@dataclass
class Record:
    """The notes one unit wrote about the family's visits, and whether the user reads them."""

    unit: Unit
    readable: bool
    count: int = 0


@dataclass
class ScheduleRow:
    visit: HomeVisit
    status: str
    live: VisitBooking | None
    bookings: list[VisitBooking]
    notes: list[VisitNote] = field(default_factory=list)  # the ones the user may read
    hidden: list[Record] = field(default_factory=list)  # other records with notes


def family_schedule(
    request: HttpRequest, enrolment: Enrolment, today: datetime.date
) -> list[ScheduleRow]:
    """The family's visits, each with every booking (cancelled ones too) and the notes the
    user may read. Another sector's notes show only under `policy.may_read_record`; each
    such read is written to the access log. A fixed number of queries."""
    visits = list(
        enrolment.visits.select_related("programme_visit")
        .prefetch_related(
            Prefetch(
                "bookings",
                queryset=VisitBooking.objects.select_related(
                    "nurse", "therapist", "booked_by"
                ).order_by("booked_at", "pk"),
            ),
            Prefetch(
                "notes",
                queryset=VisitNote.objects.select_related("author", "unit").order_by(
                    "created_at", "pk"
                ),
            ),
        )
        .order_by("due_date", "pk")
    )
    units = {note.unit_id: note.unit for visit in visits for note in visit.notes.all()}
    decisions = {
        unit_id: policy.may_read_record(request.user, enrolment.child, unit)
        for unit_id, unit in units.items()
    }
    reads = [
        Access(Action.VIEW_VISITS, Purpose.INFORMATION_EXCHANGE, decision, child=enrolment.child)
        for decision in decisions.values()
        if decision.allowed and decision.basis != policy.Basis.OWN_UNIT
    ]
    access_log_many(request=request, accesses=reads)
    rows = []
    for visit in visits:
        bookings = list(visit.bookings.all())
        row = ScheduleRow(
            visit=visit,
            status=visit_status(visit, today, enrolment.ended_at),
            live=next((b for b in bookings if b.cancelled_at is None), None),
            bookings=bookings,
        )
        hidden: dict[int, Record] = {}
        for note in visit.notes.all():
            if decisions[note.unit_id].allowed:
                row.notes.append(note)
            else:
                record = hidden.setdefault(note.unit_id, Record(note.unit, readable=False))
                record.count += 1
        row.hidden = list(hidden.values())
        rows.append(row)
    return rows
