"""Views of the home-visit programmes (thin: parse, ask the policy, call a service, render).

A family is read through `queries.enrolment_for_request` / `visit_for_request`: scoped to
`policy.visible_enrolments`, audited, and a 404 for anything out of reach, like a missing one.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.models import Action
from consent import policy
from consent.policy import Purpose
from consent.services import consent_form_text, custodial_guardians
from directory.models import Profession
from families.models import Child
from families.queries import child_for_request

from . import queries
from .eligibility import eligible_children
from .forms import (
    AcceptForm,
    BookForm,
    CancelBookingForm,
    DeclineForm,
    DocumentForm,
    EndForm,
    OfferForm,
)
from .models import Enrolment, HomeVisit, Programme
from .services import (
    VisitError,
    author_unit,
    booking_cancel,
    consent_period,
    enrolment_accept,
    enrolment_decline,
    enrolment_end,
    enrolment_offer,
    nurses_for,
    therapists_for,
    topics_for,
    visit_book,
    visit_document,
)

LIST_LIMIT = 50  # newborns to offer and offers awaiting an answer, each
PAGE_SIZE = getattr(settings, "CHILD_LIST_PAGE_SIZE", 25)


@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    """The home-visit worklist. A BVC nurse: newborns of her units to offer the programme,
    offers awaiting the family's answer, and the visits due or overdue. A family therapist:
    the due and overdue visits of the families whose consent reaches her unit. A fixed number
    of queries whatever the number of rows; one list event per page."""
    user = request.user
    today = timezone.localdate()
    units = queries.child_health_units(user)  # type: ignore[arg-type]
    eligible, more_eligible = queries.eligible_not_offered(
        units, queries.active_programmes() if units else [], today, LIST_LIMIT
    )
    offered, more_offered = queries.awaiting_answer(user, LIST_LIMIT)  # type: ignore[arg-type]
    visits = queries.for_worklist(queries.open_visits(user, today))  # type: ignore[arg-type]
    page = Paginator(visits, PAGE_SIZE).get_page(request.GET.get("sida"))
    rows = [
        # live_bookings: the to_attr of for_worklist's Prefetch, unknown to the type checker.
        (visit, queries.visit_status(visit, today), next(iter(visit.live_bookings), None))  # type: ignore[attr-defined]
        for visit in page.object_list
    ]
    queries.log_list(request)
    return render(
        request,
        "visits/worklist.html",
        {
            "units": units,
            "eligible": eligible,
            "more_eligible": more_eligible,
            "offered": offered,
            "more_offered": more_offered,
            "page": page,
            "rows": rows,
            "limit": LIST_LIMIT,
            "today": today,
        },
    )


def _offerable(child: Child) -> list[Programme]:
    """Active programmes the child is eligible for and has not been offered."""
    offered = set(child.enrolments.values_list("programme_id", flat=True))
    return [
        programme
        for programme in queries.active_programmes()
        if programme.pk not in offered
        and eligible_children(programme, type(child).objects.filter(pk=child.pk)).exists()
    ]


@require_http_methods(["GET", "POST"])
def offer(request: HttpRequest, pk: int) -> HttpResponse:
    """The child's own BVC offers a programme the child is eligible for."""
    child, _decision = child_for_request(
        request,
        pk,
        action=Action.VIEW_VISITS,
        purpose=Purpose.HOME_VISITS,
        decide=policy.may_offer_programme,
    )
    programmes = _offerable(child)
    form = OfferForm(request.POST if request.method == "POST" else None, programmes=programmes)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = enrolment_offer(
                request=request, child=child, programme=form.cleaned_data["programme"]
            )
        except VisitError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("The programme has been offered. Record the family's answer when they give it."),
            )
            return redirect("visits:enrolment", pk=enrolment.pk)
    return render(
        request,
        "visits/offer.html",
        {"child": child, "form": form, "programmes": programmes},
    )


@require_GET
def enrolment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One family's programme: the offer and answer, the schedule, every booking with its
    history, and the notes the user may read (another sector's only under a consent)."""
    enrolment, decision = queries.enrolment_for_request(request, pk)
    today = timezone.localdate()
    rows = queries.family_schedule(request, enrolment, today)
    is_bvc = decision.unit is not None and decision.unit.pk == enrolment.unit_id
    return render(
        request,
        "visits/enrolment.html",
        {
            "enrolment": enrolment,
            "child": enrolment.child,
            "decision": decision,
            "rows": rows,
            "is_bvc": is_bvc,
            "answer_open": is_bvc and enrolment.status == Enrolment.Status.OFFERED,
            "working": enrolment.status == Enrolment.Status.ACCEPTED,
            "today": today,
        },
    )


def _answer_context(enrolment: Enrolment) -> dict[str, object]:
    return {"enrolment": enrolment, "child": enrolment.child}


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    """Every custodial guardian confirms the programme; that is their consent to the joint
    visits with the programme's social services, for the programme's span."""
    enrolment, decision = queries.enrolment_for_request(request, pk)
    child = enrolment.child
    if not policy.may_offer_programme(request.user, child).allowed:
        return redirect("visits:enrolment", pk=enrolment.pk)
    guardians = custodial_guardians(child)
    form = AcceptForm(request.POST if request.method == "POST" else None, guardians=guardians)
    is_open = enrolment.status == Enrolment.Status.OFFERED and bool(guardians)
    if request.method == "POST" and is_open and form.is_valid():
        try:
            enrolment_accept(request=request, enrolment=enrolment, givings=form.givings())
        except VisitError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _(
                    "The family has accepted: the consent is in force and the visits are "
                    "scheduled from the birth date."
                ),
            )
            return redirect("visits:enrolment", pk=enrolment.pk)
    today = timezone.localdate()
    text = consent_form_text(
        child=child,
        purpose=Purpose.HOME_VISITS,
        team=None,
        service=None,
        sectors=[],
        units=[enrolment.programme.partner_unit],
        valid_from=today,
        valid_until=consent_period(enrolment.programme, child.birth_date),
        language=(request.LANGUAGE_CODE or "sv")[:2],
        contact=decision.unit,
    )
    return render(
        request,
        "visits/accept.html",
        {**_answer_context(enrolment), "form": form, "is_open": is_open, "text": text},
    )


@require_http_methods(["GET", "POST"])
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    """The family declines; the reason is optional."""
    enrolment, _decision = queries.enrolment_for_request(request, pk)
    child = enrolment.child
    if not policy.may_offer_programme(request.user, child).allowed:
        return redirect("visits:enrolment", pk=enrolment.pk)
    form = DeclineForm(
        request.POST if request.method == "POST" else None, guardians=custodial_guardians(child)
    )
    is_open = enrolment.status == Enrolment.Status.OFFERED
    if request.method == "POST" and is_open and form.is_valid():
        try:
            enrolment_decline(
                request=request,
                enrolment=enrolment,
                guardian=form.cleaned_data["guardian"],
                reason=form.cleaned_data["reason"],
            )
        except VisitError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The family's answer has been recorded: declined."))
            return redirect("visits:enrolment", pk=enrolment.pk)
    return render(
        request,
        "visits/decline.html",
        {**_answer_context(enrolment), "form": form, "is_open": is_open},
    )


@require_http_methods(["GET", "POST"])
def end(request: HttpRequest, pk: int) -> HttpResponse:
    """The child's own BVC ends a programme in progress, with the reason."""
    enrolment, _decision = queries.enrolment_for_request(request, pk)
    if not policy.may_offer_programme(request.user, enrolment.child).allowed:
        return redirect("visits:enrolment", pk=enrolment.pk)
    form = EndForm(request.POST if request.method == "POST" else None)
    is_open = enrolment.status == Enrolment.Status.ACCEPTED
    if request.method == "POST" and is_open and form.is_valid():
        try:
            enrolment_end(request=request, enrolment=enrolment, reason=form.cleaned_data["reason"])
        except VisitError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("The programme has ended; the visits not yet made are cancelled.")
            )
            return redirect("visits:enrolment", pk=enrolment.pk)
    return render(
        request,
        "visits/end.html",
        {**_answer_context(enrolment), "form": form, "is_open": is_open},
    )


def _bookable(visit: HomeVisit) -> bool:
    """A visit of a programme in progress, not made, not cancelled: it can be booked, moved or
    have its booking cancelled."""
    accepted = visit.enrolment.status == Enrolment.Status.ACCEPTED
    return accepted and visit.done_at is None and visit.cancelled_at is None


@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a visit's booking without a new time; it stays in the history."""
    visit, _decision = queries.visit_for_request(request, pk)
    enrolment = visit.enrolment
    live = queries.live_booking(visit)
    form = CancelBookingForm(
        request.POST if request.method == "POST" else None,
        initial={"expected": live.pk if live else None},
    )
    is_open = live is not None and _bookable(visit)
    if request.method == "POST" and is_open and form.is_valid():
        expected = visit.bookings.filter(pk=form.cleaned_data["expected"]).first()
        try:
            if expected is None:
                raise VisitError(_("That booking is not this visit's."))
            booking_cancel(
                request=request,
                visit=visit,
                expected_booking=expected,
                reason=form.cleaned_data["reason"],
            )
        except VisitError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The booking has been cancelled."))
            return redirect("visits:enrolment", pk=enrolment.pk)
    return render(
        request,
        "visits/cancel.html",
        {
            "visit": visit,
            "enrolment": enrolment,
            "child": enrolment.child,
            "live": live,
            "form": form,
            "is_open": is_open,
        },
    )


@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, pk: int) -> HttpResponse:
    """Book the visit, or move it: a moved booking is cancelled with the reason and kept."""
    visit, _decision = queries.visit_for_request(request, pk)
    enrolment = visit.enrolment
    live = queries.live_booking(visit)
    professions = set(visit.programme_visit.professions)
    form = BookForm(
        request.POST if request.method == "POST" else None,
        nurses=nurses_for(enrolment),
        therapists=therapists_for(enrolment),
        needs_nurse=Profession.BVC_NURSE in professions,
        needs_therapist=Profession.FAMILY_THERAPIST in professions,
        live=live,
        initial={"nurse": request.user.pk, "therapist": request.user.pk},
    )
    is_open = _bookable(visit)
    if request.method == "POST" and is_open and form.is_valid():
        data = form.cleaned_data
        expected = data.get("expected")
        try:
            visit_book(
                request=request,
                visit=visit,
                starts_at=data["starts_at"],
                nurse=data.get("nurse"),
                therapist=data.get("therapist"),
                expected_booking=visit.bookings.filter(pk=expected).first() if expected else None,
                reason=data.get("reason", ""),
            )
        except VisitError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("The visit has been moved.") if live else _("The visit has been booked."),
            )
            return redirect("visits:enrolment", pk=enrolment.pk)
    return render(
        request,
        "visits/book.html",
        {
            "visit": visit,
            "enrolment": enrolment,
            "child": enrolment.child,
            "live": live,
            "form": form,
            "is_open": is_open,
        },
    )


@require_http_methods(["GET", "POST"])
def document(request: HttpRequest, pk: int) -> HttpResponse:
    """Document the visit in the user's own unit's record, with that sector's topics."""
    visit, _decision = queries.visit_for_request(request, pk)
    enrolment = visit.enrolment
    try:
        unit = author_unit(request, visit)
    except VisitError as error:
        messages.error(request, str(error))
        return redirect("visits:enrolment", pk=enrolment.pk)
    form = DocumentForm(request.POST if request.method == "POST" else None, topics=topics_for(unit))
    if request.method == "POST" and form.is_valid():
        try:
            visit_document(
                request=request,
                visit=visit,
                text=form.cleaned_data["text"],
                topics=form.cleaned_data["topics"],
            )
        except VisitError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("The note has been saved in the record of %(unit)s.") % {"unit": unit.name},
            )
            return redirect("visits:enrolment", pk=enrolment.pk)
    return render(
        request,
        "visits/document.html",
        {
            "visit": visit,
            "enrolment": enrolment,
            "child": enrolment.child,
            "unit": unit,
            "form": form,
        },
    )
