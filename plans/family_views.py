"""The family's side of a plan: their copy (print view and PDF), the FHIR export, and
recording that the family ends the plan.

Every view reads the plan through `policy.visible_plans` (a plan out of scope is a 404 exactly
like a missing one) and writes an access event, denied attempts too. The copy's language comes
from `?sprak=` (default: the site's language); a language without a catalogue is a 400 that
names the languages there are, before any plan is read.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from audit.models import Action
from audit.services import access_log
from consent import policy
from consent.policy import Decision, Purpose
from families.models import Child, Guardian

from .family import PlanEndError, copy_languages, family_copy, plan_end
from .fhir import care_plan_resource
from .models import Plan

FHIR_JSON = "application/fhir+json; charset=utf-8"
STYLESHEET = "css/family-copy.css"


class CopyLanguageForm(forms.Form):
    sprak = forms.ChoiceField(
        label=gettext_lazy("Language"), choices=copy_languages, required=False
    )


class PlanEndForm(forms.Form):
    guardian = forms.ModelChoiceField(
        label=gettext_lazy("Which guardian ends the plan?"),
        queryset=Guardian.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
    )
    reason = forms.CharField(
        label=gettext_lazy("The family's reason (if they want to give one)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "The guardian has told me that the family wants to end the plan. I understand that "
            "the plan's consent is withdrawn and that other sectors can no longer see the plan."
        ),
        required=True,
    )

    def __init__(self, *args: object, child: Child, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        guardian = self.fields["guardian"]
        guardian.queryset = Guardian.objects.filter(custodies__child=child).order_by("pk")  # type: ignore[attr-defined]
        guardian.label_from_instance = lambda person: person.full_name  # type: ignore[attr-defined]


def _plan_for_request(
    request: HttpRequest, pk: int, *, action: str, log_allowed: bool = True
) -> tuple[Plan, Decision]:
    """The plan `pk` if the user may see it; 404 otherwise, the same for missing and
    forbidden. The attempt is logged before anything is shown (an allowed one only with
    `log_allowed`, when a service logs the access itself)."""
    plan = (
        policy.visible_plans(request.user)
        .select_related("child", "consent", "ended_by_guardian")
        .filter(pk=pk)
        .first()
    )
    decision = Decision.deny() if plan is None else policy.decide_plan(request.user, plan)
    if log_allowed or not decision.allowed:
        access_log(
            request=request,
            action=action,
            purpose=Purpose.SIP,
            decision=decision,
            child=plan.child if plan is not None else None,
        )
    if plan is None or not decision.allowed:
        raise Http404
    return plan, decision


def _copy_language(request: HttpRequest) -> str | HttpResponse:
    """The asked language, or a 400 page listing the languages there are."""
    form = CopyLanguageForm(request.GET)
    if form.is_valid():
        return form.cleaned_data["sprak"] or settings.LANGUAGE_CODE
    return render(
        request,
        "plans/family_copy_language.html",
        {"asked": request.GET.get("sprak", ""), "languages": copy_languages()},
        status=400,
    )


def _copy_context(request: HttpRequest, plan: Plan, language: str) -> dict[str, object]:
    return {
        "plan": plan,
        "copy": family_copy(plan, language),
        "languages": copy_languages(),
        "produced_at": timezone.now(),
        "produced_by": request.user,
    }


@require_GET
def family_copy_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The family's copy as a page to print, in `?sprak=` (sv, en, ...)."""
    language = _copy_language(request)
    if isinstance(language, HttpResponse):
        return language
    plan, _decision = _plan_for_request(request, pk, action=Action.PLAN_FAMILY_COPY)
    with translation.override(language):
        response = render(request, "plans/family_copy.html", _copy_context(request, plan, language))
    response["Content-Language"] = language
    return response


@require_GET
def family_copy_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The family's copy as a PDF (WeasyPrint), styled by the same static stylesheet as the
    print view. The HTML is self-contained: WeasyPrint fetches nothing over the network."""
    from weasyprint import CSS, HTML

    language = _copy_language(request)
    if isinstance(language, HttpResponse):
        return language
    plan, _decision = _plan_for_request(request, pk, action=Action.PLAN_FAMILY_COPY)
    with translation.override(language):
        html = render_to_string(
            "plans/family_copy_pdf.html", _copy_context(request, plan, language), request=request
        )
    stylesheet = finders.find(STYLESHEET)
    pdf = HTML(string=html).write_pdf(stylesheets=[CSS(filename=stylesheet)])
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="sip-{plan.pk}-familjens-kopia-{language}.pdf"'
    )
    response["Content-Language"] = language
    return response


@require_GET
def fhir_careplan(request: HttpRequest, pk: int) -> JsonResponse:
    """The plan's current version as a FHIR R4 CarePlan (see `plans.fhir`)."""
    plan, _decision = _plan_for_request(request, pk, action=Action.PLAN_EXPORT)
    response = JsonResponse(
        care_plan_resource(plan),
        content_type=FHIR_JSON,
        json_dumps_params={"ensure_ascii": False},
    )
    response["Content-Disposition"] = f'inline; filename="sip-{plan.pk}-careplan.json"'
    return response


@require_http_methods(["GET", "POST"])
def plan_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that the family ends the plan. Showing the form is a read of the plan
    (VIEW_PLAN); recording it is PLAN_END, written by `plan_end`."""
    if request.method == "GET":
        plan, decision = _plan_for_request(request, pk, action=Action.VIEW_PLAN)
        form = None if plan.status == Plan.Status.ENDED else PlanEndForm(child=plan.child)
        return render(request, "plans/end.html", {"plan": plan, "form": form})
    plan, decision = _plan_for_request(request, pk, action=Action.PLAN_END, log_allowed=False)
    form = PlanEndForm(request.POST, child=plan.child)
    status = 400
    if plan.status == Plan.Status.ENDED:
        messages.error(request, _("The family has already ended this plan."))
        form, status = None, 409
    elif form.is_valid():
        try:
            plan_end(
                request=request,
                plan=plan,
                guardian=form.cleaned_data["guardian"],
                reason=form.cleaned_data["reason"],
            )
        except PlanEndError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _(
                    "The plan is ended and its consent withdrawn. Other sectors can no longer "
                    "see it."
                ),
            )
            if policy.visible_plans(request.user).filter(pk=plan.pk).exists():
                return redirect("plans:plan_end", pk=plan.pk)
            return redirect(reverse("plans:plan_list"))
    # The page is shown again, with the child's and guardians' names: a read of the plan.
    access_log(
        request=request,
        action=Action.VIEW_PLAN,
        purpose=Purpose.SIP,
        decision=decision,
        child=plan.child,
    )
    return render(request, "plans/end.html", {"plan": plan, "form": form}, status=status)
