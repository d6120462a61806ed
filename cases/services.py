"""Concerns, referrals, reports of concern and actions: one transaction each, audited."""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Action as AuditAction
from audit.services import access_log
from consent import policy
from consent.models import Consent
from consent.policy import Basis, Decision, Purpose
from directory.models import Professional, Service, Team, Unit
from families.identity import normalise_identity_number
from families.models import Child, Guardian

from .models import Action, AgeBand, Concern, Referral, ReportOfConcern, Theme

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class CaseError(ValueError):
    """A case act that cannot be carried out; the message is for the user."""


class IdentityInText(CaseError):
    """An anonymous text looks as if it identifies someone; the user must check it."""

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(" ".join(warnings))
        self.warnings = warnings


NUMBER_LIKE = re.compile(r"(?<!\d)(\d{6}|\d{8})[-+ ]?(\d{4})(?!\d)")
WORD = re.compile(r"\b[A-ZÅÄÖÉ][a-zåäöéü]+(?:-[A-ZÅÄÖ][a-zåäö]+)?\b")


def identity_warnings(text: str) -> list[str]:
    """Why a free text may identify someone: a valid identity number, or a name that is in
    the family register. Says *that*, never *whose*: the warning must not leak the register."""
    warnings = []
    for match in NUMBER_LIKE.finditer(text):
        try:
            normalise_identity_number(match.group(1) + match.group(2))
        except ValidationError:
            continue  # not an identity number: nothing to warn about
        warnings.append(_("The text seems to contain a personal identity number."))
        break
    words = set(WORD.findall(text))
    if words:
        in_register = (
            Child.objects.filter(first_name__in=words).exists()
            or Child.objects.filter(last_name__in=words).exists()
            or Guardian.objects.filter(last_name__in=words).exists()
        )
        if in_register:
            warnings.append(_("The text seems to contain a name that is in the family register."))
    return warnings


def _own_unit(user: Professional | AnonymousUser, unit: Unit) -> Unit:
    if unit not in policy.current_units(user):
        raise CaseError(_("Choose one of your own units."))
    return unit


def concern_record(
    *,
    request: HttpRequest,
    unit: Unit,
    worry: str,
    setting: str = "",
    themes: list[Theme] | None = None,
    team: Team | None = None,
    child: Child | None = None,
    age_band: str = "",
    text_checked: bool = False,
) -> Concern:
    """Record a concern: anonymous (an age band only) or about a child the user may see."""
    user = request.user
    _own_unit(user, unit)
    if team is not None and team not in policy.teams_of(user):
        raise CaseError(_("You are not a member of that team."))
    decision = None
    if child is not None:
        decision = policy.decide_child(user, child, Purpose.CARE)
        if not decision.allowed:
            raise CaseError(_("You may not record concerns about this child."))
        age_band = AgeBand.of(child.birth_date)
    else:
        if age_band not in AgeBand.values:
            raise CaseError(_("Choose the child's age band."))
        warnings = identity_warnings(f"{setting}\n{worry}")
        if warnings and not text_checked:
            raise IdentityInText(warnings)
    # _own_unit has let only a professional of the unit through.
    professional = policy.acting_professional(user)
    with transaction.atomic():
        concern = Concern.objects.create(
            created_by=professional,
            unit=unit,
            sector=unit.sector,
            setting=setting,
            age_band=age_band,
            worry=worry,
            team=team,
            child=child,
            identified_at=timezone.now() if child else None,
            identified_by=professional if child else None,
            contact_person=professional,
        )
        concern.themes.set(themes or [])
        if child is not None and decision is not None:
            access_log(
                request=request,
                action=AuditAction.CONCERN_RECORD,
                purpose=Purpose.CARE,
                decision=decision,
                child=child,
            )
    return concern


def _effective(consent: Consent, child: Child, purpose: Purpose) -> None:
    if consent.child_id != child.pk or consent.purpose != purpose:
        raise CaseError(_("That consent is not for this child and purpose."))
    if consent.state() != Consent.State.EFFECTIVE:
        raise CaseError(_("The consent is not in force: every guardian with custody must give it."))


def concern_identify(
    *, request: HttpRequest, concern: Concern, child: Child, consent: Consent
) -> Concern:
    """Link an anonymous concern to its child, once the guardians' consent is in force.

    The concern keeps its history (when noticed, where, the worry, earlier discussions).
    """
    user = request.user
    if not concern.is_anonymous:
        raise CaseError(_("The case is already identified."))
    decision = policy.decide_child(user, child, Purpose.CARE)
    if not decision.allowed:
        raise CaseError(_("You may not see this child."))
    _effective(consent, child, Purpose.TEAM_DISCUSSION)
    if concern.team_id and consent.team_id != concern.team_id:
        raise CaseError(_("The consent is for another team."))
    with transaction.atomic():
        updated = Concern.objects.filter(pk=concern.pk, child__isnull=True).update(
            child=child,
            identified_at=timezone.now(),
            identified_by=user,
            identifying_consent=consent,
        )
        if not updated:
            raise CaseError(_("The case is already identified."))
        access_log(
            request=request,
            action=AuditAction.CONCERN_IDENTIFY,
            purpose=Purpose.TEAM_DISCUSSION,
            decision=decision,
            child=child,
        )
    concern.refresh_from_db()
    return concern


def referral_send(
    *, request: HttpRequest, concern: Concern, service: Service, consent: Consent, note: str = ""
) -> Referral:
    """Route the family to a service, under a referral consent naming that service."""
    user = request.user
    if concern.child is None:
        raise CaseError(_("A referral needs an identified case."))
    decision = policy.decide_child(user, concern.child, Purpose.CARE)
    if not decision.allowed:
        raise CaseError(_("You may not see this child."))
    _effective(consent, concern.child, Purpose.REFERRAL)
    if consent.service_id != service.pk:
        raise CaseError(_("The consent names another service."))
    with transaction.atomic():
        referral = Referral.objects.create(
            concern=concern,
            child=concern.child,
            service=service,
            consent=consent,
            created_by=policy.acting_professional(user),
            unit=decision.through_unit,
            note=note,
            sent_at=timezone.now(),
        )
        access_log(
            request=request,
            action=AuditAction.REFERRAL_SEND,
            purpose=Purpose.REFERRAL,
            decision=decision,
            child=concern.child,
        )
    return referral


REFERRAL_STEPS = ("received", "first_contact", "completed", "declined")


def referral_update(
    *, request: HttpRequest, referral: Referral, step: str, at: datetime.datetime | None = None
) -> Referral:
    """Move a referral on: received, first contact, then completed or declined."""
    if step not in REFERRAL_STEPS:
        raise CaseError(_("Unknown step."))
    decision = policy.decide_child(request.user, referral.child, Purpose.REFERRAL)
    if not decision.allowed:
        raise CaseError(_("You may not update this referral."))
    if referral.closed_at is not None:
        raise CaseError(_("The referral is closed."))
    at = at or timezone.now()
    fields: dict[str, object] = {}
    if step == "received":
        fields["received_at"] = referral.received_at or at
    elif step == "first_contact":
        # The first recorded contact stands: a repeated step must not move the lead time.
        fields = {
            "received_at": referral.received_at or at,
            "first_contact_at": referral.first_contact_at or at,
        }
    else:
        fields = {"closed_at": at, "outcome": step}
    with transaction.atomic():
        Referral.objects.filter(pk=referral.pk, closed_at__isnull=True).update(**fields)
        access_log(
            request=request,
            action=AuditAction.REFERRAL_UPDATE,
            purpose=Purpose.REFERRAL,
            decision=decision,
            child=referral.child,
        )
    referral.refresh_from_db()
    return referral


def report_of_concern_make(
    *, request: HttpRequest, child: Child, to_unit: Unit, what: str
) -> ReportOfConcern:
    """A mandatory report to social services. No consent is asked for: the law demands it."""
    user = request.user
    decision = policy.decide_child(user, child, Purpose.CARE)
    if not decision.allowed:
        raise CaseError(_("You may not see this child."))
    if not to_unit.receives_reports_of_concern:
        raise CaseError(_("That unit does not receive reports of concern."))
    if not what.strip():
        raise CaseError(_("Describe what you have seen or heard."))
    with transaction.atomic():
        report = ReportOfConcern.objects.create(
            child=child,
            reporter=policy.acting_professional(user),
            reporter_unit=decision.through_unit,
            to_unit=to_unit,
            what=what,
        )
        access_log(
            request=request,
            action=AuditAction.REPORT_OF_CONCERN,
            purpose=Purpose.CARE,
            decision=decision,
            child=child,
        )
    return report


def report_of_concern_acknowledge(*, request: HttpRequest, report: ReportOfConcern) -> None:
    user = request.user
    if report.to_unit not in policy.current_units(user):
        raise CaseError(_("Only the receiving unit acknowledges a report."))
    decision = Decision(
        allowed=True,
        basis=Basis.REPORT_OF_CONCERN,
        unit=report.to_unit,
        reference=f"report:{report.pk}",
    )
    with transaction.atomic():
        ReportOfConcern.objects.filter(pk=report.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=user
        )
        access_log(
            request=request,
            action=AuditAction.REPORT_ACKNOWLEDGE,
            purpose=Purpose.CARE,
            decision=decision,
            child=report.child,
        )


def action_complete(*, request: HttpRequest, action: Action) -> None:
    user = request.user
    team = action.team
    if action.responsible_id != user.pk and not (team and policy.may_run_meeting(user, team)):
        raise CaseError(_("Only the responsible person or the coordinator marks it done."))
    Action.objects.filter(pk=action.pk, done_at__isnull=True).update(done_at=timezone.now())


def family_contacted(*, request: HttpRequest, concern: Concern) -> None:
    if concern.contact_person_id != request.user.pk:
        raise CaseError(_("Only the person who contacts the family marks it done."))
    Concern.objects.filter(pk=concern.pk, family_contacted_at__isnull=True).update(
        family_contacted_at=timezone.now()
    )
