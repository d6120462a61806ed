"""Views of the consent app (thin: parse, ask the policy, call a service, render).

Every page reads the child through `families.queries.child_for_request`, so each access is
audited and a child (or consent) the user may not reach is a 404, the same as a missing one.
Recording, giving and withdrawing are for the child's own units (`policy.may_record_consent`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from audit.models import Action
from audit.services import access_log
from families.ages import age_in_years
from families.models import Child, Guardian
from families.queries import child_for_request

from . import policy
from .forms import (
    FORM_LANGUAGES,
    ConsentRecordForm,
    ConsentScopeForm,
    FormLanguageForm,
    GiveForm,
    WithdrawForm,
)
from .models import Consent, GuardianConsent
from .policy import Decision, Purpose
from .services import (
    ConsentError,
    consent_form_text,
    consent_give,
    consent_record,
    consent_withdraw,
    custodial_guardians,
    missing_guardians,
    receiving_units,
)

if TYPE_CHECKING:
    from directory.models import Professional


@dataclass(frozen=True)
class ConsentRow:
    """One consent as the child's consent page shows it."""

    consent: Consent
    state: Consent.State
    given: list[GuardianConsent]  # givings in force
    withdrawn: list[GuardianConsent]  # givings withdrawn later
    missing: list[Guardian]
    may_give: bool
    may_withdraw: bool


def _consent_for_request(
    request: HttpRequest,
    pk: int,
    *,
    decide: Callable[[Professional, Child], Decision] | None = None,
) -> tuple[Consent, Decision]:
    """The consent `pk`, read through its child's access check: audited, and a 404 for a
    consent the user may not reach, the same as for a missing one."""
    # Only the id of the child it is about: the policy decides on that child, and a refused
    # attempt is logged against it. Nothing of the consent is read before the decision.
    child_id = Consent.objects.filter(pk=pk).values_list("child_id", flat=True).first()
    if child_id is None:
        access_log(
            request=request,
            action=Action.VIEW_CONSENT,
            purpose=Purpose.CARE,
            decision=Decision.deny(),
        )
        raise Http404
    child, decision = child_for_request(
        request, child_id, action=Action.VIEW_CONSENT, purpose=Purpose.CARE, decide=decide
    )
    consent = child.consents.for_child_consents().get(pk=pk)
    consent.child = child
    return consent, decision


def _is_open(state: Consent.State) -> bool:
    """Guardians can still give it: not withdrawn, not past its end."""
    return state not in (Consent.State.WITHDRAWN, Consent.State.EXPIRED)


def _active_givers(consent: Consent) -> list[Guardian]:
    return [g.guardian for g in consent.givings.all() if g.withdrawn_at is None]


@require_GET
def child_consents(request: HttpRequest, pk: int) -> HttpResponse:
    """The child's consents: what each covers, its state, who has given it, who is missing."""
    child, decision = child_for_request(
        request, pk, action=Action.VIEW_CONSENT, purpose=Purpose.CARE
    )
    may_record = policy.may_record_consent(request.user, child).allowed
    custodians = custodial_guardians(child)
    now = timezone.now()
    rows = []
    for consent in child.consents.for_child_consents():
        consent.child = child
        state = consent.state(now)
        givings = list(consent.givings.all())
        missing = missing_guardians(consent, custodians=custodians)
        given = [g for g in givings if g.withdrawn_at is None]
        rows.append(
            ConsentRow(
                consent=consent,
                state=state,
                given=given,
                withdrawn=[g for g in givings if g.withdrawn_at is not None],
                missing=missing,
                may_give=may_record and _is_open(state) and bool(missing),
                # Whoever a consent reaches may record its withdrawal (the service checks
                # exactly which consent); the link shows for the consent that let them in.
                may_withdraw=bool(given)
                and (may_record or decision.reference == f"consent:{consent.pk}"),
            )
        )
    return render(
        request,
        "consent/child_consents.html",
        {
            "child": child,
            "decision": decision,
            "rows": rows,
            "custodians": custodians,
            "may_record": may_record,
            "languages": FORM_LANGUAGES,
        },
    )


@require_http_methods(["GET", "POST"])
def record(request: HttpRequest, pk: int) -> HttpResponse:
    """Record what a consent covers; each guardian then gives it on the next page."""
    child, decision = child_for_request(
        request,
        pk,
        action=Action.VIEW_CONSENT,
        purpose=Purpose.CARE,
        decide=policy.may_record_consent,
    )
    form = ConsentRecordForm(
        request.POST if request.method == "POST" else None,
        child=child,
        area=decision.through_unit.municipality,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            consent = consent_record(
                request=request,
                child=child,
                purpose=data["purpose"],
                team=data["team"],
                service=data["service"],
                sectors=data["sectors"],
                units=list(data["units"]),
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
                child_view=data["child_view"],
                includes_screening_answers=data["includes_screening_answers"],
                language=data["lang"],
            )
        except ConsentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("The consent has been recorded. Now record each guardian's consent.")
            )
            return redirect("consent:give", pk=consent.pk)
    return render(
        request,
        "consent/record.html",
        {"child": child, "form": form, "age": age_in_years(child.birth_date)},
    )


@require_http_methods(["GET", "POST"])
def give(request: HttpRequest, pk: int) -> HttpResponse:
    """A guardian gives the consent: on the tablet, on a signed form, or verbally with a witness."""
    consent, _decision = _consent_for_request(request, pk, decide=policy.may_record_consent)
    state = consent.state()
    missing = missing_guardians(consent)
    is_open = _is_open(state) and bool(missing)
    form = GiveForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        guardians=missing,
    )
    if request.method == "POST" and is_open and form.is_valid():
        data = form.cleaned_data
        try:
            consent_give(
                request=request,
                consent=consent,
                guardian=data["guardian"],
                method=data["method"],
                witness=data["witness"],
                document=data["document"],
            )
        except ConsentError as error:
            form.add_error(None, str(error))
        else:
            still_missing = missing_guardians(consent)
            messages.success(
                request,
                _("%(name)s's consent has been recorded.") % {"name": data["guardian"].full_name},
            )
            if still_missing:
                messages.info(
                    request,
                    _("Still missing: %(names)s.")
                    % {"names": ", ".join(g.full_name for g in still_missing)},
                )
                return redirect("consent:give", pk=consent.pk)
            if consent.state() == Consent.State.EFFECTIVE:
                messages.success(
                    request, _("Every guardian has given it: the consent is in force.")
                )
            return redirect("consent:child_consents", pk=consent.child_id)
    return render(
        request,
        "consent/give.html",
        {
            "consent": consent,
            "child": consent.child,
            "state": state,
            "missing": missing,
            "is_open": is_open,
            "form": form,
        },
    )


@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """A consenting guardian withdraws: the consent stops at once, open referrals with it."""
    # Anyone the consent reaches may record a withdrawal; the service asks the policy.
    consent, _decision = _consent_for_request(request, pk)
    givers = _active_givers(consent)
    form = WithdrawForm(request.POST if request.method == "POST" else None, guardians=givers)
    if request.method == "POST" and givers and form.is_valid():
        try:
            result = consent_withdraw(
                request=request, consent=consent, guardian=form.cleaned_data["guardian"]
            )
        except ConsentError as error:
            form.add_error(None, str(error))
        else:
            count = result["referrals_withdrawn"]
            messages.success(
                request,
                _("The consent has been withdrawn. It stopped at once: nothing more is shared."),
            )
            messages.info(
                request,
                ngettext(
                    "%(count)d open referral under it was withdrawn.",
                    "%(count)d open referrals under it were withdrawn.",
                    count,
                )
                % {"count": count},
            )
            return redirect("consent:child_consents", pk=consent.child_id)
    return render(
        request,
        "consent/withdraw.html",
        {"consent": consent, "child": consent.child, "givers": givers, "form": form},
    )


def _text_in(consent: Consent, language: str) -> str:
    """The consent's text rendered anew in `language` (a translation for reading, not the
    text the guardians agreed to: that is `consent.form_text`)."""
    scopes = list(consent.scopes.all())
    return consent_form_text(
        child=consent.child,
        purpose=consent.purpose,
        team=consent.team,
        service=consent.service,
        sectors=[scope.sector for scope in scopes if scope.unit_id is None],
        units=[scope.unit for scope in scopes if scope.unit_id is not None],  # type: ignore[misc]
        valid_from=consent.valid_from,
        valid_until=consent.valid_until,
        language=language,
        contact=consent.recorded_unit,
    )


@require_GET
def printable_form(request: HttpRequest, pk: int) -> HttpResponse:
    """The consent form of a recorded consent, to print: the text as agreed, and a line for
    each custodial guardian's signature. In the other language it is a translation."""
    consent, _decision = _consent_for_request(request, pk)
    form = FormLanguageForm(request.GET if "lang" in request.GET else None)
    lang = form.cleaned_data["lang"] if form.is_valid() else consent.form_language
    agreed = lang == consent.form_language
    return render(
        request,
        "consent/printable_form.html",
        {
            "consent": consent,
            "child": consent.child,
            "form": form,
            "lang": lang,
            "agreed": agreed,
            "agreed_language": dict(FORM_LANGUAGES).get(consent.form_language, ""),
            "text": consent.form_text if agreed else _text_in(consent, lang),
            "guardians": custodial_guardians(consent.child),
            "languages": FORM_LANGUAGES,
        },
    )


@require_GET
def blank_form(request: HttpRequest, pk: int) -> HttpResponse:
    """A consent form to print before recording, for the choices made on this page."""
    child, decision = child_for_request(
        request,
        pk,
        action=Action.VIEW_CONSENT,
        purpose=Purpose.CARE,
        decide=policy.may_record_consent,
    )
    form = ConsentScopeForm(
        request.GET or None, child=child, area=decision.through_unit.municipality
    )
    text, lang = "", ""
    if form.is_valid():
        data = form.cleaned_data
        lang = data["lang"]
        text = consent_form_text(
            child=child,
            purpose=data["purpose"],
            team=data["team"],
            service=data["service"],
            sectors=data["sectors"],
            units=receiving_units(list(data["units"]), data["service"]),
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
            language=lang,
            contact=decision.unit,
        )
    return render(
        request,
        "consent/blank_form.html",
        {
            "child": child,
            "form": form,
            "text": text,
            "lang": lang,
            "guardians": custodial_guardians(child) if text else [],
            "languages": FORM_LANGUAGES,
        },
    )
