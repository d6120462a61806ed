"""Views of the cases app (thin: parse, ask the policy, call a service, render).

Every case, report and referral is read through a scoped query (`queries`), so anything out
of the user's scope is a 404 like a missing one. A child's identity shows only where the
policy allows it, and each time it shows it is written to the access log.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audit.models import Action as AuditAction
from audit.services import access_log
from consent import policy
from consent.models import Consent
from consent.policy import Basis, Decision, Purpose
from families.models import Child
from families.queries import child_for_request

from . import queries
from .forms import (
    ConcernForm,
    ConfirmForm,
    IdentifyForm,
    PickChildForm,
    ReferralForm,
    ReferralStepForm,
    ReportOfConcernForm,
)
from .models import Action, Concern, Referral, ReportOfConcern
from .services import (
    CaseError,
    IdentityInText,
    action_complete,
    concern_identify,
    concern_record,
    family_contacted,
    referral_send,
    referral_update,
    report_of_concern_acknowledge,
    report_of_concern_make,
)

PAGE_SIZE = 25
WORKLIST_LIMIT = 50
SEARCH_LIMIT = 20


def _posted(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


# --- Worklist -------------------------------------------------------------------------------


@require_http_methods(["GET"])
def worklist(request: HttpRequest) -> HttpResponse:
    """My actions, my open cases and the families I am to contact: a fixed number of
    queries whatever their number; a child's name only where the policy allows it."""
    user = request.user
    actions = queries.Capped.of(queries.my_open_actions(user), WORKLIST_LIMIT)  # type: ignore[arg-type]
    cases = queries.Capped.of(queries.my_open_cases(user), WORKLIST_LIMIT)  # type: ignore[arg-type]
    contact = queries.Capped.of(queries.families_to_contact(user), WORKLIST_LIMIT)  # type: ignore[arg-type]
    concerns = [a.concern for a in actions.rows if a.concern] + cases.rows + contact.rows
    queries.attach_shown_children(request, concerns)
    return render(
        request,
        "cases/worklist.html",
        {
            "actions": actions,
            "cases": cases,
            "contact": contact,
            "limit": WORKLIST_LIMIT,
            "today": timezone.localdate(),
            "teams": list(policy.teams_of(user).order_by("name")),
            "intake": bool(queries.intake_units(user)),
        },
    )


@require_http_methods(["POST"])
def action_done(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    action = get_object_or_404(
        Action.objects.filter(Q(responsible=user) | Q(team__coordinator=user)),
        pk=pk,
    )
    try:
        action_complete(request=request, action=action)
    except CaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The action is marked as done."))
    return redirect("cases:worklist")


# --- Concerns -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def concern_new(request: HttpRequest) -> HttpResponse:
    """An anonymous concern: an age band and the worry, nothing that identifies the child."""
    return _concern_form(request, child=None)


@require_http_methods(["GET", "POST"])
def concern_new_for_child(request: HttpRequest, child_pk: int) -> HttpResponse:
    """An identified concern, from the page of a child the user may see."""
    child, _decision = child_for_request(
        request, child_pk, action=AuditAction.VIEW_CHILD, purpose=Purpose.CARE
    )
    return _concern_form(request, child=child)


def _concern_form(request: HttpRequest, *, child: Child | None) -> HttpResponse:
    user = request.user
    form = ConcernForm(
        _posted(request),
        units=policy.current_units(user),
        teams=policy.teams_of(user).order_by("name"),
        anonymous=child is None,
    )
    warnings: list[str] = []
    if form.is_bound and form.is_valid():
        try:
            concern = concern_record(request=request, child=child, **form.service_arguments())
        except IdentityInText as warning:
            # Nothing saved: the form comes back with the warnings and the check box.
            warnings = warning.warnings
        except CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The concern has been recorded."))
            return redirect("cases:concern_detail", pk=concern.pk)
    return render(
        request, "cases/concern_form.html", {"form": form, "child": child, "warnings": warnings}
    )


@require_http_methods(["GET"])
def concern_detail(request: HttpRequest, pk: int) -> HttpResponse:
    concern = queries.concern_for_request(request, pk)
    return _concern_page(request, concern)


def _concern_page(
    request: HttpRequest,
    concern: Concern,
    *,
    contacted_form: ConfirmForm | None = None,
    step_form: ReferralStepForm | None = None,
    step_referral: int | None = None,
) -> HttpResponse:
    child, decision = queries.shown_child(request, concern.child_id)
    return render(
        request,
        "cases/concern_detail.html",
        {
            "concern": concern,
            "child": child,
            "decision": decision,
            "themes": list(concern.themes.all()),
            "agenda": list(queries.concern_agenda(concern)),
            "actions": list(
                concern.actions.select_related("responsible").order_by("due_date", "pk")
            ),
            "referrals": list(concern.referrals.select_related("service").order_by("sent_at")),
            "contacted_form": contacted_form or ConfirmForm(),
            "step_form": step_form,
            "step_referral": step_referral,
            "is_contact_person": concern.contact_person_id == request.user.pk,
            "today": timezone.localdate(),
        },
    )


@require_http_methods(["POST"])
def concern_family_contacted(request: HttpRequest, pk: int) -> HttpResponse:
    concern = queries.concern_for_request(request, pk)
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            family_contacted(request=request, concern=concern)
        except CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The family is marked as contacted."))
            return redirect("cases:concern_detail", pk=concern.pk)
    return _concern_page(request, concern, contacted_form=form)


@require_http_methods(["GET", "POST"])
def concern_identify_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Link an anonymous case to its child: search among the children the user may see,
    choose one, then choose the guardians' consent to team discussion that is in force."""
    concern = queries.concern_for_request(request, pk)
    if not concern.is_anonymous:
        messages.info(request, _("The case is already identified."))
        return redirect("cases:concern_detail", pk=concern.pk)
    visible = Child.objects.visible_to(request.user)  # type: ignore[arg-type]
    form = IdentifyForm(_posted(request), children=visible)
    if form.is_bound and form.is_valid():
        try:
            concern_identify(
                request=request,
                concern=concern,
                child=form.cleaned_data["child"],
                consent=form.cleaned_data["consent"],
            )
        except CaseError as error:
            form.add_error("consent", str(error))
        else:
            messages.success(request, _("The case is now linked to the child."))
            return redirect("cases:concern_detail", pk=concern.pk)
    pick = PickChildForm(request.GET)
    pick.is_valid()
    chosen_pk = pick.cleaned_data.get("barn")
    if form.is_bound:
        chosen_pk = form.cleaned_data["child"].pk if form.cleaned_data.get("child") else None
    results = None
    if not chosen_pk and pick.cleaned_data.get("q"):
        results = list(visible.search(pick.cleaned_data["q"]).for_child_list()[:SEARCH_LIMIT])
        access_log(
            request=request,
            action=AuditAction.LIST_CHILDREN,
            purpose=Purpose.CARE,
            decision=Decision(allowed=True, basis=Basis.OWN_UNIT),
        )
    chosen, consents = None, []
    if chosen_pk:
        chosen, _decision = child_for_request(
            request, chosen_pk, action=AuditAction.VIEW_CONSENT, purpose=Purpose.CARE
        )
        consents = list(
            Consent.objects.filter(child=chosen, purpose=Purpose.TEAM_DISCUSSION)
            .select_related("team")
            .order_by("-valid_until", "-pk")
        )
        for consent in consents:
            consent.usable = consent.state() == Consent.State.EFFECTIVE and (  # type: ignore[attr-defined]
                concern.team_id is None or consent.team_id == concern.team_id
            )
        consents.sort(key=lambda consent: not consent.usable)  # type: ignore[attr-defined]
    return render(
        request,
        "cases/concern_identify.html",
        {
            "concern": concern,
            "pick": pick,
            "form": form,
            "results": results,
            "chosen": chosen,
            "consents": consents,
        },
    )


# --- Referrals ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Refer the family of an identified case to a service, under a referral consent."""
    concern = queries.concern_for_request(request, pk)
    child, _decision = queries.shown_child(request, concern.child_id)
    if child is None:
        raise Http404
    form = ReferralForm(_posted(request), child=child)
    if form.is_bound and form.is_valid():
        try:
            referral_send(
                request=request,
                concern=concern,
                service=form.cleaned_data["service"],
                consent=form.cleaned_data["consent"],
                note=form.cleaned_data["note"],
            )
        except CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The referral has been sent."))
            return redirect("cases:concern_detail", pk=concern.pk)
    return render(
        request, "cases/referral_form.html", {"concern": concern, "child": child, "form": form}
    )


@require_http_methods(["POST"])
def referral_update_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the next step of a referral (received, first contact, completed, declined)."""
    visible = policy.visible_children(request.user, purpose=Purpose.REFERRAL)
    referral = (
        Referral.objects.filter(pk=pk, child__in=visible).select_related("child", "concern").first()
    )
    if referral is None:
        access_log(
            request=request,
            action=AuditAction.REFERRAL_UPDATE,
            purpose=Purpose.REFERRAL,
            decision=Decision(allowed=False, basis=Basis.NONE, reference=f"referral:{pk}"),
        )
        raise Http404
    form = ReferralStepForm(request.POST)
    if form.is_valid():
        try:
            referral_update(request=request, referral=referral, step=form.cleaned_data["step"])
        except CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The referral has been updated."))
            return redirect("cases:concern_detail", pk=referral.concern_id)
    concern = queries.concern_for_request(request, referral.concern_id)
    return _concern_page(request, concern, step_form=form, step_referral=referral.pk)


@require_http_methods(["GET"])
def referral_stats(request: HttpRequest, team_pk: int) -> HttpResponse:
    """The team's median lead time per service and quarter; small cells suppressed."""
    team = get_object_or_404(policy.teams_of(request.user), pk=team_pk)
    stats = queries.team_lead_times(team)
    return render(
        request,
        "cases/referral_stats.html",
        {"team": team, "stats": stats, "chart": queries.lead_time_chart(stats)},
    )


# --- Reports of concern ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest, child_pk: int) -> HttpResponse:
    """A mandatory report of concern to social services about a child the user may see."""
    child, _decision = child_for_request(
        request, child_pk, action=AuditAction.VIEW_CHILD, purpose=Purpose.CARE
    )
    form = ReportOfConcernForm(_posted(request))
    if form.is_bound and form.is_valid():
        try:
            report = report_of_concern_make(
                request=request,
                child=child,
                to_unit=form.cleaned_data["to_unit"],
                what=form.cleaned_data["what"],
            )
        except CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The report of concern has been sent."))
            return redirect("cases:report_detail", pk=report.pk)
    return render(request, "cases/report_form.html", {"child": child, "form": form})


@require_http_methods(["GET"])
def report_inbox(request: HttpRequest) -> HttpResponse:
    """Reports of concern to the user's intake units: unacknowledged first, paginated."""
    units = queries.intake_units(request.user)
    if not units:
        raise Http404
    page = Paginator(queries.report_inbox(units), PAGE_SIZE).get_page(request.GET.get("sida"))
    reports = list(page.object_list)
    queries.attach_shown_children(request, reports)
    return render(
        request, "cases/report_inbox.html", {"page": page, "reports": reports, "units": units}
    )


@require_http_methods(["GET"])
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_page(request, queries.report_for_request(request, pk))


def _report_page(
    request: HttpRequest, report: ReportOfConcern, form: ConfirmForm | None = None
) -> HttpResponse:
    child, decision = queries.shown_child(request, report.child_id)
    receiving = report.to_unit in policy.current_units(request.user)
    return render(
        request,
        "cases/report_detail.html",
        {
            "report": report,
            "child": child,
            "decision": decision,
            "receiving": receiving,
            "form": form or ConfirmForm(),
        },
    )


@require_http_methods(["POST"])
def report_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    report = queries.report_for_request(request, pk)
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            report_of_concern_acknowledge(request=request, report=report)
        except CaseError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The report has been acknowledged."))
            return redirect("cases:report_detail", pk=report.pk)
    return _report_page(request, report, form)
