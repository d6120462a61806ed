"""The nurse's side of BarnSäkert after the kiosk: the worklist, the family's results, the
follow-up conversation, the joint support calendar with social services and the unit's
statistics.

Thin views: parse, ask the policy (through `screening.queries`), call a service, render. A
guardian's answers show only to the child's own BVC, or to another sector under a consent that
explicitly includes them; every read of a child is written to the access log.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import Action
from audit.services import access_log
from cases.models import Referral
from consent import policy
from consent.policy import Basis, Decision, Purpose
from directory.models import Sector, Service, Unit
from directory.queries import suggest_services
from families.models import Child
from families.queries import child_for_request

from . import queries
from .models import FollowUp, Occasion, SupportSlot
from .services import ScreeningError, follow_up_record, occasions_for, region_of
from .statistics import unit_statistics

PAGE_SIZE = 25
SLOT_PAGE_SIZE = 50
MAX_ID = 10**18 - 1
SIDES = {Sector.CHILD_HEALTH, Sector.SOCIAL_SERVICES}


def _occasions_by_unit(units: list[Unit]) -> dict[int, list[Occasion]]:
    """Each BVC unit's occasions: one read per region, however many children."""
    by_region: dict[int, list[Occasion]] = {}
    found: dict[int, list[Occasion]] = {}
    for unit in units:
        region = queries.unit_region(unit)
        if region is None:
            continue
        if region.pk not in by_region:
            by_region[region.pk] = occasions_for(region)
        found[unit.pk] = by_region[region.pk]
    return found


# --- Worklist -------------------------------------------------------------------------------


class WorklistFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Show"),
        required=False,
        choices=[
            ("", gettext_lazy("Everything to do")),
            ("due", gettext_lazy("Due now")),
            ("overdue", gettext_lazy("Overdue")),
            ("never", gettext_lazy("Never screened")),
        ],
    )


@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    """The children of the user's BVC units who are due or overdue for a screening, per
    guardian, and those never screened. A fixed number of queries per page."""
    user = request.user
    units = queries.child_health_units(user)  # type: ignore[arg-type]
    form = WorklistFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    today = timezone.localdate()
    occasions = _occasions_by_unit(units)
    ids = (
        []
        if form.is_bound and not form.is_valid()
        else queries.worklist_children(user, units, occasions, status, today)  # type: ignore[arg-type]
    )
    page = Paginator(ids, PAGE_SIZE).get_page(request.GET.get("sida"))
    rows = queries.worklist_rows(queries.worklist_page(list(page.object_list)), occasions, today)
    if units:
        # Names and numbers of the user's own children: one list event, as on the start page.
        access_log(
            request=request,
            action=Action.LIST_CHILDREN,
            purpose=Purpose.CARE,
            decision=Decision(allowed=True, basis=Basis.OWN_UNIT),
        )
    return render(
        request,
        "screening/worklist.html",
        {"form": form, "page": page, "rows": rows, "units": units, "status": status},
    )


# --- Results --------------------------------------------------------------------------------


@require_GET
def child_results(request: HttpRequest, pk: int) -> HttpResponse:
    """The child's BarnSäkert results. The child's own BVC sees the family overview, each
    guardian side by side; another sector sees the answers only under a consent that includes
    them, the shareable summaries and offers under any other consent, and otherwise a 404."""
    found: dict[str, queries.ScreeningAccess] = {}

    def decide(user: Any, child: Child) -> Decision:
        found["access"] = queries.screening_access(user, child)
        return found["access"].decision

    child, _decision = child_for_request(
        request, pk, action=Action.VIEW_SCREENING, purpose=Purpose.CARE, decide=decide
    )
    access = found["access"]
    overview = None
    if access.level == "answers":
        region = region_of(child)
        overview = queries.family_overview(child, occasions_for(region) if region else [])
    return render(
        request,
        "screening/child_results.html",
        {
            "child": child,
            "access": access,
            "overview": overview,
            "follow_ups": queries.child_follow_ups(child),
        },
    )


# --- Follow-up ------------------------------------------------------------------------------


class ServiceChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Service) -> str:
        return f"{obj.name} ({obj.provider.name})"


class ReferralChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Referral) -> str:
        return f"{obj.service.name}, {timezone.localtime(obj.sent_at):%Y-%m-%d} ({obj.status})"


class FollowUpForm(forms.Form):
    conversation = forms.CharField(
        label=gettext_lazy("The conversation"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("Stays in the child health record; it is never shared."),
    )
    summary = forms.CharField(
        label=gettext_lazy("Summary that may be shared"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "What a consent to share may pass on to other sectors. Never the answers themselves."
        ),
    )
    offered = ServiceChoiceField(
        label=gettext_lazy("Support offered"),
        queryset=Service.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reply = forms.ChoiceField(
        label=gettext_lazy("The guardian's answer"),
        required=False,
        choices=[("", gettext_lazy("No support offered")), *FollowUp.Reply.choices],
        widget=forms.RadioSelect,
    )
    referral = ReferralChoiceField(
        label=gettext_lazy("Referral"),
        queryset=Referral.objects.none(),
        required=False,
        empty_label=gettext_lazy("No referral"),
    )

    def __init__(self, *args: Any, child: Child, suggested: list[Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The suggestions first, in their rank; then the rest of the municipality's services.
        order: list[Any] = ["name", "pk"]
        if suggested:
            rank = Case(
                *[When(pk=service.pk, then=Value(i)) for i, service in enumerate(suggested)],
                default=Value(len(suggested)),
                output_field=IntegerField(),
            )
            order.insert(0, rank)
        municipality = child.bvc_unit.municipality_id if child.bvc_unit else None
        self.fields["offered"].queryset = (  # type: ignore[attr-defined]
            Service.objects.filter(active=True, municipality=municipality)
            .select_related("provider")
            .order_by(*order)
        )
        self.fields["referral"].queryset = (  # type: ignore[attr-defined]
            Referral.objects.filter(child=child).select_related("service").order_by("-sent_at")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        offered, reply = data.get("offered"), data.get("reply")
        if offered and not reply:
            self.add_error("reply", _("Record the guardian's answer to the support offered."))
        if reply and not offered:
            self.add_error("offered", _("Choose the support that was offered."))
        return data


@require_http_methods(["GET", "POST"])
def follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """The nurse documents the conversation with one guardian about their answers."""
    response = queries.response_for_request(request, pk)
    child = response.screening.child
    guardian = response.guardian
    answers = queries.response_answers(response)
    municipality = child.bvc_unit.municipality if child.bvc_unit else None
    suggested = suggest_services(
        answers.positive_domains, municipality, guardian.preferred_language
    )
    form = FollowUpForm(
        request.POST if request.method == "POST" else None, child=child, suggested=suggested
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            follow_up_record(
                request=request,
                response=response,
                conversation=data["conversation"],
                summary=data["summary"],
                offered=list(data["offered"]),
                reply=data["reply"],
                referral=data["referral"],
            )
        except ScreeningError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The follow-up has been saved."))
            return redirect("screening:child_results", pk=child.pk)
    return render(
        request,
        "screening/follow_up.html",
        {
            "child": child,
            "response": response,
            "guardian": guardian,
            "answers": answers,
            "suggested": suggested,
            "suggested_ids": {service.pk for service in suggested},
            "form": form,
        },
    )


# --- The joint support calendar -------------------------------------------------------------


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{obj.name} ({obj.get_sector_display()})"


class SlotForm(forms.Form):
    """A new joint time, from either side: the user's unit and the unit on the other side."""

    unit = UnitChoiceField(label=gettext_lazy("Your unit"), queryset=Unit.objects.none())
    partner = UnitChoiceField(
        label=gettext_lazy("Together with"),
        queryset=Unit.objects.none(),
        help_text=gettext_lazy("The social-services unit or the BVC you keep the time with."),
    )
    date = forms.DateField(
        label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    start = forms.TimeField(
        label=gettext_lazy("From"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.TimeField(label=gettext_lazy("To"), widget=forms.TimeInput(attrs={"type": "time"}))
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=300,
        required=False,
        help_text=gettext_lazy("For example the room. Do not write names."),
    )

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        own = [unit for unit in units if unit.sector in SIDES]
        self.fields["unit"].queryset = Unit.objects.filter(  # type: ignore[attr-defined]
            pk__in=[unit.pk for unit in own]
        ).order_by("name")
        self.fields["partner"].queryset = (  # type: ignore[attr-defined]
            Unit.objects.filter(
                active=True,
                sector__in=SIDES,
                municipality__in={unit.municipality_id for unit in own},
            )
            .exclude(pk__in=[unit.pk for unit in own])
            .order_by("sector", "name")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        unit, partner = data.get("unit"), data.get("partner")
        if unit and partner:
            if {unit.sector, partner.sector} != SIDES:
                self.add_error(
                    "partner", _("A joint time is kept by a BVC and a social-services unit.")
                )
            elif unit.municipality_id != partner.municipality_id:
                self.add_error("partner", _("The units must serve the same municipality."))
            else:
                health, social = (
                    (unit, partner)
                    if unit.sector == Sector.CHILD_HEALTH
                    else (
                        partner,
                        unit,
                    )
                )
                data["health_unit"], data["social_unit"] = health, social
        if data.get("date") and data.get("start") and data.get("end"):
            zone = timezone.get_current_timezone()
            starts = datetime.datetime.combine(data["date"], data["start"], tzinfo=zone)
            ends = datetime.datetime.combine(data["date"], data["end"], tzinfo=zone)
            if ends <= starts:
                self.add_error("end", _("The time must end after it starts."))
            elif starts <= timezone.now():
                self.add_error("date", _("Choose a time in the future."))
            data["starts_at"], data["ends_at"] = starts, ends
        return data


class ChildParamForm(forms.Form):
    barn = forms.IntegerField(min_value=1, max_value=MAX_ID, required=False)


class BookForm(forms.Form):
    child = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    version = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)


class CancelForm(forms.Form):
    version = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)


def _slot_create(form: SlotForm) -> SupportSlot | None:
    """A new free time; None when the two units already have a time starting then."""
    data = form.cleaned_data
    try:
        with transaction.atomic():
            return SupportSlot.objects.create(
                health_unit=data["health_unit"],
                social_unit=data["social_unit"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                note=data["note"],
            )
    except IntegrityError:
        return None


def _slot_book(
    request: HttpRequest, slot: SupportSlot, version: int, child: Child, decision: Decision
) -> bool:
    """Book `slot` for `child` if nobody changed it since `version` (optimistic locking: the
    version check and the write are one UPDATE), audited with the booking."""
    with transaction.atomic():
        updated = SupportSlot.objects.filter(
            pk=slot.pk, version=version, child__isnull=True, starts_at__gt=timezone.now()
        ).update(child=child, booked_by=request.user, version=F("version") + 1)
        if updated:
            access_log(
                request=request,
                action=Action.SCREENING_FOLLOW_UP,
                purpose=Purpose.CARE,
                decision=decision,
                child=child,
            )
    return bool(updated)


def _slot_cancel(slot: SupportSlot, version: int) -> bool:
    """Free a booked time if nobody changed it since `version`."""
    return bool(
        SupportSlot.objects.filter(pk=slot.pk, version=version, child__isnull=False).update(
            child=None, booked_by=None, version=F("version") + 1
        )
    )


def _slots_url(child_id: int | None = None) -> str:
    url = reverse("screening:slots")
    return f"{url}?barn={child_id}" if child_id else url


@require_http_methods(["GET", "POST"])
def slots(request: HttpRequest) -> HttpResponse:
    """The joint support calendar of the user's BVC or social-services units: upcoming times,
    a new time, and (with `?barn=`, from a child's results) booking a free time for the child.
    A booked child's name shows only where the policy lets the user see the child."""
    user = request.user
    units = policy.current_units(user)
    form = SlotForm(request.POST if request.method == "POST" else None, units=units)
    if form.is_bound and form.is_valid():
        if _slot_create(form) is not None:
            messages.success(request, _("The time has been added to the calendar."))
            return redirect(_slots_url())
        form.add_error(None, _("The two units already have a time starting then."))
    param = ChildParamForm(request.GET)
    if not param.is_valid():
        raise Http404  # an impossible child id, like any unknown one
    booking_child = None
    if param.cleaned_data["barn"]:
        booking_child, _decision = child_for_request(
            request,
            param.cleaned_data["barn"],
            action=Action.VIEW_CHILD,
            purpose=Purpose.CARE,
            decide=policy.may_run_screening,
        )
    upcoming = (
        queries.visible_slots(user)  # type: ignore[arg-type]
        .filter(ends_at__gte=timezone.now())
        .select_related("health_unit", "social_unit", "booked_by")
        .order_by("starts_at", "pk")
    )
    page = Paginator(upcoming, SLOT_PAGE_SIZE).get_page(request.GET.get("sida"))
    shown = queries.slot_children_shown(request, list(page.object_list))
    health = {unit.pk for unit in units if unit.sector == Sector.CHILD_HEALTH}
    rows = [
        {
            "slot": slot,
            "child": shown.get(slot.child_id) if slot.child_id else None,
            "may_book": booking_child is not None
            and slot.child_id is None
            and slot.health_unit_id in health,
        }
        for slot in page.object_list
    ]
    return render(
        request,
        "screening/slots.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "booking_child": booking_child,
            "may_create": any(unit.sector in SIDES for unit in units),
        },
    )


@require_POST
def slot_book(request: HttpRequest, pk: int) -> HttpResponse:
    """A BVC nurse books a free time for a child she may screen; a time booked by someone
    else meanwhile is refused, not overwritten."""
    health = [
        unit.pk for unit in policy.current_units(request.user) if unit.sector == Sector.CHILD_HEALTH
    ]
    slot = get_object_or_404(SupportSlot.objects.filter(health_unit__in=health), pk=pk)
    form = BookForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a child and a time to book."))
        return redirect(_slots_url())
    child, decision = child_for_request(
        request,
        form.cleaned_data["child"],
        action=Action.VIEW_CHILD,
        purpose=Purpose.CARE,
        decide=policy.may_run_screening,
    )
    if _slot_book(request, slot, form.cleaned_data["version"], child, decision):
        messages.success(request, _("The time is booked for %(name)s.") % {"name": child.full_name})
    else:
        messages.error(
            request,
            _(
                "Someone else booked or changed this time while you were choosing. "
                "Nothing was booked: choose another time."
            ),
        )
    return redirect(_slots_url(child.pk))


@require_POST
def slot_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Either side frees a booked time; a booking changed meanwhile is left alone."""
    slot = get_object_or_404(queries.visible_slots(request.user), pk=pk)  # type: ignore[arg-type]
    form = CancelForm(request.POST)
    if form.is_valid() and _slot_cancel(slot, form.cleaned_data["version"]):
        messages.success(request, _("The booking has been cancelled; the time is free again."))
    else:
        messages.error(
            request,
            _("The booking was changed by someone else meanwhile. Check the calendar again."),
        )
    return redirect(_slots_url())


# --- Statistics -----------------------------------------------------------------------------


@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    """BarnSäkert figures for one of the user's BVC units; small cells suppressed."""
    units = queries.child_health_units(request.user)  # type: ignore[arg-type]
    wanted = request.GET.get("enhet", "")
    unit = next((u for u in units if str(u.pk) == wanted), None) if wanted else None
    if (wanted and unit is None) or not units:
        raise Http404
    unit = unit or units[0]
    region = queries.unit_region(unit)
    figures = unit_statistics(unit, occasions_for(region) if region else [], timezone.localdate())
    # Unit managers also see their region's figures (`reports`): the way there is from here.
    regional = policy.statistics_regions(request.user).exists()
    return render(
        request,
        "screening/stats.html",
        {"stats": figures, "units": units, "unit": unit, "regional": regional},
    )
