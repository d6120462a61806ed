"""Views of SIP plans (thin: parse, ask the policy, call a service, render).

Every plan is read through `queries.plan_for_request` (the policy's scope; out of scope is a
404 like a missing plan; each read is logged). A refused act comes back on its form with what
the user typed still in it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.models import Action as AuditAction
from consent import policy
from consent.policy import Purpose
from directory.models import Membership, Organisation
from families.queries import child_for_request

from . import queries, services
from .child_voice import voice_prompt
from .forms import (
    PARTICIPANT_FORMS,
    ActionFormSet,
    AttendanceForm,
    Choices,
    EvaluationFormSet,
    FollowUpForm,
    GoalFormSet,
    InterventionFormSet,
    MeetingForm,
    PlanForm,
    StartForm,
    content_of,
)
from .models import Plan, PlanMeeting, PlanParticipant, PlanVersion
from .services import PlanConflict, PlanError

PAGE_SIZE = 25


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


# --- List and start -------------------------------------------------------------------------


@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    """Every plan the user may open, paginated; each listed child is logged."""
    page = Paginator(queries.plans_for_list(request.user), PAGE_SIZE).get_page(
        request.GET.get("sida")
    )
    plans = list(page.object_list)
    queries.log_listed_plans(request, plans)
    return render(
        request,
        "plans/plan_list.html",
        {"page": page, "plans": plans, "today": timezone.localdate()},
    )


@require_http_methods(["GET", "POST"])
def plan_start(request: HttpRequest, child_pk: int) -> HttpResponse:
    """Start a SIP for a child the user may see, e.g. from a case after an HLT meeting."""
    child, _decision = child_for_request(
        request, child_pk, action=AuditAction.VIEW_CHILD, purpose=Purpose.CARE
    )
    concern = None
    concern_pk = request.POST.get("arende") or request.GET.get("arende")
    if concern_pk and str(concern_pk).isdigit():
        concern = (
            policy.visible_concerns(request.user).filter(pk=int(concern_pk), child=child).first()
        )
    may_start = policy.may_start_plan(request.user, child)
    form = StartForm(
        _posted(request),
        initial={
            "requested_on": timezone.localdate(),
            "requested_by": _("The HLT team") if concern and concern.team_id else "",
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_start(
                request=request,
                child=child,
                requested_by=form.cleaned_data["requested_by"],
                requested_on=form.cleaned_data["requested_on"],
                concern=concern,
            )
        except PlanError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The SIP has been started."))
            return redirect("plans:plan_detail", pk=plan.pk)
    sip_consent = policy.sip_consent(child)
    return render(
        request,
        "plans/plan_start.html",
        {
            "child": child,
            "concern": concern,
            "form": form,
            "may_start": may_start.allowed,
            "has_consent": sip_consent is not None,
            "days": services.first_meeting_days(
                services.region_of_unit(may_start.unit) if may_start.unit else None
            ),
            "existing": list(
                policy.visible_plans(request.user).active().filter(child=child).order_by("pk")
            ),
        },
    )


# --- The plan page --------------------------------------------------------------------------


@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan, decision = queries.plan_for_request(request, pk)
    version = queries.version_for_page(plan, plan.current_number) if plan.current_number else None
    today = timezone.localdate()
    return render(
        request,
        "plans/plan_detail.html",
        {
            "plan": plan,
            "version": version,
            "decision": decision,
            "participants": queries.participants_of(plan),
            "meetings": queries.meetings_of(plan),
            "today": today,
            "first_meeting_overdue": version is None and plan.first_meeting_due < today,
            "follow_up_overdue": plan.next_follow_up is not None and plan.next_follow_up < today,
            "is_active": plan.status == Plan.Status.ACTIVE,
            "consent_in_force": plan.consent.state() == plan.consent.State.EFFECTIVE,
        },
    )


@require_GET
def version_list(request: HttpRequest, pk: int) -> HttpResponse:
    plan, _decision = queries.plan_for_request(request, pk)
    return render(
        request, "plans/version_list.html", {"plan": plan, "versions": queries.versions_of(plan)}
    )


@require_GET
def version_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    plan, decision = queries.plan_for_request(request, pk)
    version = queries.version_for_page(plan, number)
    if version is None:
        raise Http404
    return render(
        request,
        "plans/version_detail.html",
        {
            "plan": plan,
            "version": version,
            "decision": decision,
            "is_current": number == plan.current_number,
        },
    )


# --- Participants ---------------------------------------------------------------------------


def _memberships_for(plan: Plan) -> list[Membership]:
    """Professionals who could take part: current members of units in the municipalities the
    child's own units serve (the service refuses a unit the consent does not cover)."""
    child = plan.child
    areas = {u.municipality_id for u in (child.bvc_unit, child.school_unit) if u is not None}
    areas.add(plan.started_unit.municipality_id)
    return list(
        Membership.objects.current()
        .filter(unit__municipality_id__in=areas, professional__is_active=True, unit__active=True)
        .select_related("professional", "unit")
        .order_by("professional__last_name", "professional__first_name", "unit__name")
    )


def _participant_forms(plan: Plan, bound: forms.Form | None = None) -> dict[str, forms.Form]:
    custodies = list(plan.child.custodies.select_related("guardian").order_by("pk"))
    kwargs: dict[str, dict[str, Any]] = {
        PlanParticipant.Kind.PROFESSIONAL: {"memberships": _memberships_for(plan)},
        PlanParticipant.Kind.GUARDIAN: {"custodies": custodies},
    }
    made: dict[str, forms.Form] = {}
    for kind, form_class in PARTICIPANT_FORMS.items():
        if bound is not None and bound.prefix == kind:
            made[kind] = bound
        else:
            made[kind] = form_class(prefix=kind, **kwargs.get(kind, {}))
    return made


@require_http_methods(["GET", "POST"])
def participants(request: HttpRequest, pk: int) -> HttpResponse:
    """Who takes part, and adding someone: a professional, a guardian, the child, another person."""
    plan, decision = queries.plan_for_request(request, pk)
    bound = None
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        if kind not in PARTICIPANT_FORMS:
            raise Http404
        blank = _participant_forms(plan)[kind]
        init_kwargs: dict[str, Any] = {}
        if kind == PlanParticipant.Kind.PROFESSIONAL:
            init_kwargs = {"memberships": list(blank.by_pk.values())}  # type: ignore[attr-defined]
        elif kind == PlanParticipant.Kind.GUARDIAN:
            init_kwargs = {"custodies": list(plan.child.custodies.select_related("guardian"))}
        bound = PARTICIPANT_FORMS[kind](request.POST, prefix=kind, **init_kwargs)
        if bound.is_valid():
            data = bound.cleaned_data
            membership = data.get("membership")
            try:
                services.plan_participant_add(
                    request=request,
                    plan=plan,
                    kind=kind,
                    professional=membership.professional if membership else None,
                    unit=membership.unit if membership else None,
                    guardian=data.get("guardian"),
                    name=data.get("name", ""),
                    role=data.get("role", ""),
                    contact=data.get("contact", ""),
                    invited=data.get("invited", False),
                )
            except PlanError as error:
                bound.add_error(None, str(error))
            else:
                messages.success(request, _("The participant has been added."))
                return redirect("plans:participants", pk=plan.pk)
    return render(
        request,
        "plans/participants.html",
        {
            "plan": plan,
            "decision": decision,
            "participants": queries.participants_of(plan),
            "forms": _participant_forms(plan, bound),
            "is_active": plan.status == Plan.Status.ACTIVE,
            "error": bound is not None,
        },
    )


def _participant_act(
    request: HttpRequest, pk: int, participant_pk: int, act: Any, done: str
) -> HttpResponse:
    plan, _decision = queries.plan_for_request(request, pk)
    participant = get_object_or_404(PlanParticipant.objects.filter(plan=plan), pk=participant_pk)
    try:
        act(request=request, plan=plan, participant=participant)
    except PlanError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("plans:participants", pk=plan.pk)


@require_http_methods(["POST"])
def participant_remove(request: HttpRequest, pk: int, participant_pk: int) -> HttpResponse:
    return _participant_act(
        request,
        pk,
        participant_pk,
        services.plan_participant_remove,
        _("The person no longer takes part."),
    )


@require_http_methods(["POST"])
def participant_invite(request: HttpRequest, pk: int, participant_pk: int) -> HttpResponse:
    return _participant_act(
        request, pk, participant_pk, services.plan_participant_invite, _("Marked as invited.")
    )


# --- Meetings -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest, pk: int) -> HttpResponse:
    plan, _decision = queries.plan_for_request(request, pk)
    has_first = plan.meetings.filter(kind=PlanMeeting.Kind.FIRST).exists()
    form = MeetingForm(
        _posted(request),
        initial={
            "kind": PlanMeeting.Kind.FOLLOW_UP if has_first else PlanMeeting.Kind.FIRST,
            "day": plan.next_follow_up or plan.first_meeting_due,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_meeting_add(
                request=request,
                plan=plan,
                kind=form.cleaned_data["kind"],
                starts_at=form.starts_at(),
                place=form.cleaned_data["place"],
            )
        except PlanError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The meeting has been scheduled."))
            return redirect("plans:plan_detail", pk=plan.pk)
    return render(request, "plans/meeting_form.html", {"plan": plan, "form": form})


@require_http_methods(["GET", "POST"])
def attendance(request: HttpRequest, pk: int, meeting_pk: int) -> HttpResponse:
    plan, _decision = queries.plan_for_request(request, pk)
    meeting = get_object_or_404(PlanMeeting.objects.filter(plan=plan), pk=meeting_pk)
    active = [p for p in queries.participants_of(plan) if p.removed_at is None]
    present = list(meeting.attendance.filter(present=True).values_list("participant_id", flat=True))
    form = AttendanceForm(_posted(request), initial={"present": present}, participants=active)
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_attendance_set(
                request=request, meeting=meeting, present=set(form.cleaned_data["present"])
            )
        except PlanError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Attendance has been saved."))
            return redirect("plans:plan_detail", pk=plan.pk)
    return render(
        request, "plans/attendance.html", {"plan": plan, "meeting": meeting, "form": form}
    )


# --- The plan's content: a new version ------------------------------------------------------


def _choices(plan: Plan) -> Choices:
    professionals = list(
        plan.participants.filter(kind=PlanParticipant.Kind.PROFESSIONAL, removed_at__isnull=True)
        .select_related("professional", "unit")
        .order_by("pk")
    )
    organisations = list(
        Organisation.objects.filter(
            kind__in=[Organisation.Kind.REGION, Organisation.Kind.MUNICIPALITY]
        ).order_by("name")
    )
    return Choices(participants=professionals, organisations=organisations)


def _initial(plan: Plan, version: PlanVersion | None, user: Any) -> dict[str, Any]:
    if version is None:
        return {
            "based_on": 0,
            "coordinator": user.pk,
            "child_voice_method": PlanVersion.VoiceMethod.NOT_YET,
        }
    return {
        "based_on": version.number,
        "needs": version.needs,
        "family_view": version.family_view,
        "child_voice": version.child_voice,
        "child_voice_method": version.child_voice_method,
        "child_voice_by": version.child_voice_by,
        "overall_responsibility": version.overall_responsibility_id,
        "coordinator": version.coordinator_id,
        "next_follow_up": version.next_follow_up,
    }


def _action_initial(version: PlanVersion, choices: Choices) -> list[dict[str, Any]]:
    by_professional = {(p.professional_id, p.unit_id): p.pk for p in choices.participants}
    rows = []
    for action in version.actions.all():
        if action.status not in services.OPEN:
            continue
        rows.append(
            {
                "what": action.what,
                "participant": by_professional.get((action.responsible_id, action.unit_id)),
                "responsible_other": action.responsible_other,
                "due_date": action.due_date,
                "status": action.status,
                "source": action.pk,
            }
        )
    return rows


def _with_newer_number(data: Any, number: int) -> Any:
    """The user's own text, with the version number moved on: a save from here on builds on
    the newer version (the page links to it, to compare by hand)."""
    data = data.copy()
    data["plan-based_on"] = str(number)
    return data


@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Write the plan: the first version, or a revision between meetings."""
    return _editor(request, pk, follow_up=False)


@require_http_methods(["GET", "POST"])
def follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """A follow-up meeting: evaluate each action, then the plan's next version."""
    return _editor(request, pk, follow_up=True)


def _editor(request: HttpRequest, pk: int, *, follow_up: bool) -> HttpResponse:
    plan, decision = queries.plan_for_request(request, pk)
    if plan.status != Plan.Status.ACTIVE:
        messages.error(request, _("The family has ended the plan: it can no longer be changed."))
        return redirect("plans:plan_detail", pk=plan.pk)
    version = queries.version_for_page(plan, plan.current_number) if plan.current_number else None
    if follow_up and version is None:
        messages.info(request, _("Write the plan's first version before a follow-up."))
        return redirect("plans:plan_edit", pk=plan.pk)
    choices = _choices(plan)
    data = _posted(request)
    open_actions = (
        [a for a in version.actions.all() if a.status in services.OPEN] if version else []
    )
    sources = {a.pk: a for a in (version.actions.all() if version else [])}
    form = PlanForm(
        data, prefix="plan", initial=_initial(plan, version, request.user), choices=choices
    )
    goals = GoalFormSet(
        data,
        prefix="goals",
        initial=[{"text": g.text} for g in version.goals.all()] if version else [],
    )
    interventions = InterventionFormSet(
        data,
        prefix="interventions",
        initial=[
            {
                "what": i.what,
                "provider_kind": i.provider_kind,
                "provider": i.provider_id,
                "provider_other": i.provider_other,
            }
            for i in version.interventions.all()
        ]
        if version
        else [],
        form_kwargs={"choices": choices},
    )
    actions = ActionFormSet(
        data,
        prefix="actions",
        initial=_action_initial(version, choices) if version and not follow_up else [],
        form_kwargs={"choices": choices},
    )
    evaluations = follow_form = None
    meetings: list[PlanMeeting] = []
    if follow_up:
        evaluations = EvaluationFormSet(
            data,
            prefix="evaluations",
            initial=[{"action": a.pk, "status": a.status} for a in open_actions],
        )
        meetings = list(
            plan.meetings.filter(kind=PlanMeeting.Kind.FOLLOW_UP, versions__isnull=True).order_by(
                "starts_at"
            )
        )
        follow_form = FollowUpForm(data, prefix="follow", meetings=meetings)
    all_forms = [form, goals, interventions, actions] + (
        [evaluations, follow_form] if follow_up else []
    )
    if request.method == "POST":
        valid = all([f.is_valid() for f in all_forms])  # type: ignore[union-attr]
        if valid:
            try:
                content = content_of(form, goals, interventions, actions, sources)
                if follow_up:
                    saved = services.plan_follow_up(
                        request=request,
                        plan=plan,
                        based_on=form.cleaned_data["based_on"],
                        meeting=follow_form.cleaned_data["meeting"],  # type: ignore[union-attr]
                        evaluation=follow_form.cleaned_data["evaluation"],  # type: ignore[union-attr]
                        evaluations=[
                            e
                            for e in (f.evaluation_of(sources) for f in evaluations)  # type: ignore[union-attr]
                            if e is not None
                        ],
                        content=content,
                    )
                else:
                    saved = services.plan_save(
                        request=request,
                        plan=plan,
                        based_on=form.cleaned_data["based_on"],
                        content=content,
                    )
            except PlanConflict as conflict:
                form = PlanForm(
                    _with_newer_number(request.POST, conflict.current_number),
                    prefix="plan",
                    choices=choices,
                )
                form.is_valid()
                form.add_error(None, str(conflict))
                form.conflict = conflict.current_number
            except PlanError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("Version %(number)s of the plan has been saved.") % {"number": saved.number},
                )
                return redirect("plans:plan_detail", pk=plan.pk)
    errors = _errors([form, follow_form, evaluations, goals, interventions, actions])
    if evaluations is not None:
        for each in evaluations:
            each.action_obj = sources.get(  # type: ignore[attr-defined]
                each.initial.get("action") or _int(each["action"].value())
            )
    return render(
        request,
        "plans/plan_edit.html",
        {
            "plan": plan,
            "version": version,
            "decision": decision,
            "form": form,
            "goals": goals,
            "interventions": interventions,
            "actions": actions,
            "evaluations": evaluations,
            "follow_form": follow_form,
            "follow_up": follow_up,
            "meetings": meetings,
            "voice_prompt": voice_prompt(plan.child.birth_date),
            "has_professionals": bool(choices.participants),
            "errors": errors,
        },
    )


def _errors(parts: list[Any]) -> list[tuple[str, str]]:
    """One error summary for the plan form and its formsets: (field id, message) pairs."""
    found: list[tuple[str, str]] = []

    def of_form(form: forms.Form) -> None:
        found.extend(("", str(error)) for error in form.non_field_errors())
        for bound in form:
            found.extend((bound.id_for_label, f"{bound.label}: {error}") for error in bound.errors)

    for part in parts:
        if part is None:
            continue
        if isinstance(part, forms.BaseFormSet):
            if not part.is_bound:
                continue
            found.extend(("", str(error)) for error in part.non_form_errors())
            for each in part:
                of_form(each)
        elif part.is_bound:
            of_form(part)
    return found


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0
