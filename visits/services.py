"""Home-visit programmes: offering, the family's answer, booking and documenting visits.

Each use case is one transaction with its audit entry. Who may do what is asked of
`consent.policy` (`may_offer_programme`, `decide_enrolment`); who the programme is for, of
`visits.eligibility`. A `VisitError` carries a message for the user and changes nothing.

Visits whose window has already closed when the family accepts (a family that joins late) are
still created, so the schedule shows the whole programme, but with `cancelled_at` set at the
acceptance: they are "not applicable", never overdue, and never booked or documented.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import access_log
from consent import policy
from consent.models import GuardianConsent
from consent.policy import Decision, Purpose
from consent.services import ConsentError, consent_give, consent_record, custodial_guardians
from directory.models import Membership, Profession, Sector
from families.models import Child, Guardian

from .eligibility import area_of, eligible_children, is_first_born
from .models import Enrolment, HomeVisit, Programme, ProgrammeVisit, VisitBooking, VisitNote

if TYPE_CHECKING:
    from directory.models import Professional, Unit

# The home-visit consent lasts until the last visit's window has closed, and this much longer
# (time to document the last visit and end the programme).
CONSENT_MARGIN_DAYS = 30

# What each sector documents at a joint visit, in its own record.
TOPICS_BY_SECTOR: dict[str, list[str]] = {
    Sector.CHILD_HEALTH: [
        VisitNote.Topic.FEEDING,
        VisitNote.Topic.GROWTH,
        VisitNote.Topic.HEALTH,
    ],
    Sector.SOCIAL_SERVICES: [
        VisitNote.Topic.PARENTHOOD,
        VisitNote.Topic.COMMUNICATION,
        VisitNote.Topic.SIBLINGS,
    ],
}
# The ways a guardian confirms the programme in person (a signed form is not asked for here).
ACCEPT_METHODS = [GuardianConsent.Method.TABLET, GuardianConsent.Method.VERBAL]


class VisitError(ValueError):
    """A home-visit act that cannot be carried out; the message is for the user."""


class StaleBooking(VisitError):
    """Someone else booked or moved the visit since the user looked at it."""


@dataclass(frozen=True)
class Giving:
    """One custodial guardian's confirmation of the programme (and of the consent it needs)."""

    guardian: Guardian
    method: str
    witness: str = ""


def _now() -> datetime.datetime:
    return timezone.now()


def schedule(programme_visits: list[ProgrammeVisit], birth: datetime.date) -> list[HomeVisit]:
    """Unsaved visits for a child born on `birth`: due on the target age, within the window."""
    visits = []
    for programme_visit in programme_visits:
        due = programme_visit.target_date(birth)
        visits.append(
            HomeVisit(
                programme_visit=programme_visit,
                due_date=due,
                window_start=due - datetime.timedelta(days=programme_visit.window_days_before),
                window_end=due + datetime.timedelta(days=programme_visit.window_days_after),
            )
        )
    return visits


def last_window_end(programme: Programme, birth: datetime.date) -> datetime.date | None:
    """The day the programme's last visit window closes for a child born on `birth`."""
    visits = schedule(list(programme.visits.all()), birth)
    return max((visit.window_end for visit in visits), default=None)


def consent_period(programme: Programme, birth: datetime.date) -> datetime.date:
    """The last day of the home-visit consent: the last visit's window end plus a margin."""
    last = last_window_end(programme, birth) or birth
    return last + datetime.timedelta(days=CONSENT_MARGIN_DAYS)


def _offer_decision(request: HttpRequest, child: Child) -> Decision:
    decision = policy.may_offer_programme(request.user, child)
    if not decision.allowed:
        raise VisitError(_("Only the child's own BVC offers the home-visit programme."))
    return decision


def enrolment_offer(*, request: HttpRequest, child: Child, programme: Programme) -> Enrolment:
    """The child's own BVC offers `programme` to the family. The child must be eligible
    (`eligibility.eligible_children`); what made it so is kept on the enrolment."""
    decision = _offer_decision(request, child)
    if not programme.active:
        raise VisitError(_("This programme is no longer offered."))
    if not eligible_children(programme, Child.objects.filter(pk=child.pk)).exists():
        raise VisitError(_("The child is not eligible for this programme."))
    area = area_of(programme, child)
    if area is None:  # eligible implies an area; this guards a change between the two reads
        raise VisitError(_("The child is not eligible for this programme."))
    last = last_window_end(programme, child.birth_date)
    if last is None:
        raise VisitError(_("The programme has no visits set up yet."))
    if last < timezone.localdate():
        raise VisitError(_("Every visit of this programme is already past for this child."))
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(
                child=child,
                programme=programme,
                unit=decision.through_unit,
                area=area,
                rule=area.rule,
                first_time_parents=is_first_born(child),
                offered_by=policy.acting_professional(request.user),
            )
            access_log(
                request=request,
                action=Action.ENROLMENT_OFFER,
                purpose=Purpose.HOME_VISITS,
                decision=decision,
                child=child,
            )
    except IntegrityError as error:
        raise VisitError(_("The programme has already been offered to this family.")) from error
    return enrolment


def _locked_offer(enrolment: Enrolment) -> Enrolment:
    locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if locked.status != Enrolment.Status.OFFERED:
        raise VisitError(_("The family has already answered this offer."))
    return locked


def enrolment_accept(
    *, request: HttpRequest, enrolment: Enrolment, givings: list[Giving]
) -> Enrolment:
    """The family accepts. Their acceptance is their consent to joint visits: a consent for
    home visits, scoped to the programme's social-services unit and lasting the programme,
    given by every guardian with custody (on the tablet, or verbally with a witness). Then
    one visit per programme visit, scheduled from the birth date."""
    child, programme = enrolment.child, enrolment.programme
    decision = _offer_decision(request, child)
    custodians = custodial_guardians(child)
    if not custodians:
        raise VisitError(_("The child has no guardian with custody registered."))
    given = {giving.guardian.pk for giving in givings}
    if len(given) != len(givings):
        raise VisitError(_("Each guardian confirms once."))
    if given != {guardian.pk for guardian in custodians}:
        raise VisitError(_("Every guardian with custody must confirm that they accept."))
    for giving in givings:
        if giving.method not in ACCEPT_METHODS:
            raise VisitError(_("Confirm on the tablet, or verbally with a witness."))
    now, today = _now(), timezone.localdate()
    programme_visits = list(programme.visits.order_by("number"))
    if not programme_visits:
        raise VisitError(_("The programme has no visits set up yet."))
    valid_until = consent_period(programme, child.birth_date)
    try:
        with transaction.atomic():
            locked = _locked_offer(enrolment)
            consent = consent_record(
                request=request,
                child=child,
                purpose=Purpose.HOME_VISITS,
                units=[programme.partner_unit],
                valid_from=today,
                valid_until=valid_until,
                language=(get_language() or "sv")[:2],
            )
            for giving in givings:
                consent_give(
                    request=request,
                    consent=consent,
                    guardian=giving.guardian,
                    method=giving.method,
                    witness=giving.witness,
                    given_at=now,
                )
            if consent.effective_from is None:
                raise VisitError(_("Every guardian with custody must confirm that they accept."))
            locked.status = Enrolment.Status.ACCEPTED
            locked.decided_at = now
            locked.decided_by = givings[0].guardian
            locked.decision_recorded_by = policy.acting_professional(request.user)
            locked.consent = consent
            locked.save(
                update_fields=[
                    "status",
                    "decided_at",
                    "decided_by",
                    "decision_recorded_by",
                    "consent",
                ]
            )
            visits = schedule(programme_visits, child.birth_date)
            for visit in visits:
                visit.enrolment = locked
                if visit.window_end < today:
                    visit.cancelled_at = now  # not applicable: the family joined too late
            HomeVisit.objects.bulk_create(visits)
            access_log(
                request=request,
                action=Action.ENROLMENT_DECIDE,
                purpose=Purpose.HOME_VISITS,
                decision=decision,
                child=child,
            )
    except ConsentError as error:
        raise VisitError(str(error)) from error
    return locked


def enrolment_decline(
    *,
    request: HttpRequest,
    enrolment: Enrolment,
    guardian: Guardian | None = None,
    reason: str = "",
) -> Enrolment:
    """The family declines the offer; the reason is theirs to give or not."""
    child = enrolment.child
    decision = _offer_decision(request, child)
    if guardian is not None and guardian.pk not in {g.pk for g in custodial_guardians(child)}:
        raise VisitError(_("Only a guardian with custody of the child answers the offer."))
    with transaction.atomic():
        locked = _locked_offer(enrolment)
        locked.status = Enrolment.Status.DECLINED
        locked.decided_at = _now()
        locked.decided_by = guardian
        locked.decision_recorded_by = policy.acting_professional(request.user)
        locked.decline_reason = reason.strip()
        locked.save(
            update_fields=[
                "status",
                "decided_at",
                "decided_by",
                "decision_recorded_by",
                "decline_reason",
            ]
        )
        access_log(
            request=request,
            action=Action.ENROLMENT_DECIDE,
            purpose=Purpose.HOME_VISITS,
            decision=decision,
            child=child,
        )
    return locked


def enrolment_end(*, request: HttpRequest, enrolment: Enrolment, reason: str) -> Enrolment:
    """The child's own BVC ends a programme in progress (the family moved, wants no more
    visits, or the programme is complete), with the reason. The visits not made (without a
    note) are cancelled, and their bookings with them; the visits made and their notes stay.
    The consent to joint visits is the guardians' and runs on to its end date (they can
    withdraw it at any time)."""
    child = enrolment.child
    decision = _offer_decision(request, child)
    reason = reason.strip()
    if not reason:
        raise VisitError(_("Say why the programme ends."))
    now = _now()
    with transaction.atomic():
        locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        if locked.status != Enrolment.Status.ACCEPTED:
            raise VisitError(_("Only a programme the family has accepted can be ended."))
        locked.status = Enrolment.Status.ENDED
        locked.ended_at = now
        locked.end_reason = reason
        locked.save(update_fields=["status", "ended_at", "end_reason"])
        remaining = HomeVisit.objects.filter(
            enrolment=locked, done_at__isnull=True, cancelled_at__isnull=True
        )
        VisitBooking.objects.filter(visit__in=remaining, cancelled_at__isnull=True).update(
            cancelled_at=now, cancel_reason=reason[:300]
        )
        remaining.update(cancelled_at=now)
        access_log(
            request=request,
            action=Action.ENROLMENT_END,
            purpose=Purpose.HOME_VISITS,
            decision=decision,
            child=child,
        )
    return locked


def _work_decision(request: HttpRequest, visit: HomeVisit) -> Decision:
    enrolment = visit.enrolment
    decision = policy.decide_enrolment(request.user, enrolment)
    if not decision.allowed:
        raise VisitError(_("You do not take part in this family's home visits."))
    if enrolment.status != Enrolment.Status.ACCEPTED:
        raise VisitError(_("The family has not accepted the programme."))
    if visit.cancelled_at is not None:
        raise VisitError(_("This visit is not part of the family's programme any more."))
    return decision


def _members(unit: Unit, profession: str) -> QuerySet[Professional]:
    """Professionals of `profession` with a current membership in `unit`."""
    from directory.models import Professional

    return Professional.objects.filter(
        is_active=True,
        profession=profession,
        memberships__in=Membership.objects.current().filter(unit=unit),
    ).order_by("last_name", "first_name", "pk")


def nurses_for(enrolment: Enrolment) -> QuerySet[Professional]:
    """The BVC nurses who may make the family's visits: of the BVC that holds the enrolment."""
    return _members(enrolment.unit, Profession.BVC_NURSE)


def therapists_for(enrolment: Enrolment) -> QuerySet[Professional]:
    """The family therapists of the programme's social-services unit."""
    return _members(enrolment.programme.partner_unit, Profession.FAMILY_THERAPIST)


def _check_person(
    role: str,
    person: Professional | None,
    needed: bool,
    allowed: QuerySet[Professional],
) -> None:
    if needed and person is None:
        raise VisitError(
            _("This visit is made with a BVC nurse: choose one.")
            if role == "nurse"
            else _("This visit is made with a family therapist: choose one.")
        )
    if not needed and person is not None:
        raise VisitError(
            _("No BVC nurse takes part in this visit.")
            if role == "nurse"
            else _("No family therapist takes part in this visit.")
        )
    if person is not None and not allowed.filter(pk=person.pk).exists():
        raise VisitError(
            _("The nurse must work at the BVC that holds the family's programme.")
            if role == "nurse"
            else _("The family therapist must work at the programme's social services unit.")
        )


def _stale() -> StaleBooking:
    return StaleBooking(
        _(
            "Someone else has booked or moved this visit meanwhile. "
            "Look at the new time and try again."
        )
    )


def visit_book(
    *,
    request: HttpRequest,
    visit: HomeVisit,
    starts_at: datetime.datetime,
    nurse: Professional | None,
    therapist: Professional | None,
    expected_booking: VisitBooking | None = None,
    reason: str = "",
) -> VisitBooking:
    """Book the visit with the professions its programme visit names (a joint visit: a nurse
    of the BVC and a family therapist of the partner unit). Rescheduling cancels the booking
    in force, with the reason, and books anew; the old booking is kept.

    `expected_booking` is the booking the user saw (None: none). If someone else booked or
    moved the visit meanwhile, `StaleBooking` is raised and nothing changes."""
    decision = _work_decision(request, visit)
    if visit.done_at is not None:
        raise VisitError(_("This visit has already been made."))
    if starts_at <= _now():
        raise VisitError(_("Choose a time that has not passed yet."))
    professions = set(visit.programme_visit.professions)
    enrolment = visit.enrolment
    _check_person("nurse", nurse, Profession.BVC_NURSE in professions, nurses_for(enrolment))
    _check_person(
        "therapist",
        therapist,
        Profession.FAMILY_THERAPIST in professions,
        therapists_for(enrolment),
    )
    now = _now()
    try:
        with transaction.atomic():
            HomeVisit.objects.select_for_update().filter(pk=visit.pk).first()
            live = (
                VisitBooking.objects.select_for_update()
                .filter(visit=visit, cancelled_at__isnull=True)
                .first()
            )
            expected_pk = expected_booking.pk if expected_booking is not None else None
            if (live.pk if live is not None else None) != expected_pk:
                raise _stale()
            if live is not None:
                if not reason.strip():
                    raise VisitError(_("Say why the visit is moved."))
                live.cancelled_at = now
                live.cancel_reason = reason.strip()[:300]
                live.save(update_fields=["cancelled_at", "cancel_reason"])
            booking = VisitBooking.objects.create(
                visit=visit,
                starts_at=starts_at,
                nurse=nurse,
                therapist=therapist,
                booked_by=policy.acting_professional(request.user),
            )
            access_log(
                request=request,
                action=Action.VISIT_BOOK,
                purpose=Purpose.HOME_VISITS,
                decision=decision,
                child=enrolment.child,
            )
    except IntegrityError as error:  # another live booking slipped in: the constraint holds
        raise _stale() from error
    return booking


def booking_cancel(
    *, request: HttpRequest, visit: HomeVisit, expected_booking: VisitBooking, reason: str
) -> VisitBooking:
    """Cancel the visit's booking without a new time (the family cancelled, or a visitor is
    ill), with the reason; the booking is kept in the history and the visit can be booked
    again. `expected_booking` is the booking the user saw: if someone else moved or cancelled
    it meanwhile, `StaleBooking` is raised and nothing changes."""
    decision = _work_decision(request, visit)
    if visit.done_at is not None:
        raise VisitError(_("This visit has already been made."))
    reason = reason.strip()
    if not reason:
        raise VisitError(_("Say why the booking is cancelled."))
    now, reason = _now(), reason[:300]
    with transaction.atomic():
        HomeVisit.objects.select_for_update().filter(pk=visit.pk).first()
        cancelled = VisitBooking.objects.filter(
            pk=expected_booking.pk, visit=visit, cancelled_at__isnull=True
        ).update(cancelled_at=now, cancel_reason=reason)
        if not cancelled:
            raise _stale()
        access_log(
            request=request,
            action=Action.VISIT_CANCEL,
            purpose=Purpose.HOME_VISITS,
            decision=decision,
            child=visit.enrolment.child,
        )
    expected_booking.cancelled_at, expected_booking.cancel_reason = now, reason
    return expected_booking


def topics_for(unit: Unit) -> list[str]:
    """The topics `unit`'s sector documents at a visit (none for other sectors)."""
    return list(TOPICS_BY_SECTOR.get(unit.sector, []))


def author_unit(request: HttpRequest, visit: HomeVisit) -> Unit:
    """The unit whose record the user's note goes to: the BVC that holds the enrolment, or
    the programme's social-services unit."""
    decision = _work_decision(request, visit)
    enrolment = visit.enrolment
    unit = decision.unit
    if unit is None or unit.pk not in (enrolment.unit_id, enrolment.programme.partner_unit_id):
        raise VisitError(
            _("Only the BVC and the programme's social services unit document these visits.")
        )
    return unit


def visit_document(
    *, request: HttpRequest, visit: HomeVisit, text: str, topics: list[str]
) -> VisitNote:
    """The user documents the visit in their own unit's record (the nurse the child, the
    family therapist the parenthood); the first note marks the visit as made."""
    decision = _work_decision(request, visit)
    unit = author_unit(request, visit)
    text = text.strip()
    if not text:
        raise VisitError(_("Write what was done at the visit."))
    allowed = topics_for(unit)
    if any(topic not in allowed for topic in topics):
        raise VisitError(_("Choose among your own sector's topics."))
    now = _now()
    with transaction.atomic():
        note = VisitNote.objects.create(
            visit=visit,
            author=policy.acting_professional(request.user),
            unit=unit,
            topics=[topic for topic in allowed if topic in topics],
            text=text,
            created_at=now,
        )
        if HomeVisit.objects.filter(pk=visit.pk, done_at__isnull=True).update(done_at=now):
            visit.done_at = now
        access_log(
            request=request,
            action=Action.VISIT_DOCUMENT,
            purpose=Purpose.HOME_VISITS,
            decision=decision,
            child=visit.enrolment.child,
        )
    return note
