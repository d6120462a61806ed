"""Recording, giving and withdrawing consent. Each is one transaction with its audit entry."""

from __future__ import annotations

import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import access_log
from directory.models import Service, Team, Unit
from families.ages import age_in_years
from families.models import Child, Guardian

from . import policy
from .models import Consent, ConsentScope, GuardianConsent
from .policy import Purpose


class ConsentError(ValueError):
    """A consent act that cannot be carried out; the message is for the user."""


def _decision(request: HttpRequest, child: Child) -> policy.Decision:
    decision = policy.may_record_consent(request.user, child)
    if not decision.allowed:
        raise ConsentError(_("Only the child's own units record consents."))
    return decision


def receiving_units(units: list[Unit], service: Service | None) -> list[Unit]:
    """The named units, and the referral's receiving service: that is always in scope."""
    if service is not None and service.provider not in units:
        return [*units, service.provider]
    return list(units)


def consent_form_text(
    *,
    child: Child,
    purpose: str,
    team: Team | None,
    service: Service | None,
    sectors: list[str],
    units: list[Unit],
    valid_from: datetime.date,
    valid_until: datetime.date,
    language: str,
    contact: Unit | None = None,
) -> str:
    """The text the guardians agree to: what is shared, with whom, for what, until when, and
    how to withdraw it (`contact`: the unit that records the consent; the sectors named are
    those of its municipality, as `consent_record` scopes them)."""
    from directory.models import Sector

    with translation.override(language):
        return render_to_string(
            "consent/form_text.txt",
            {
                "child": child,
                "purpose": Purpose(purpose).label,
                "team": team,
                "service": service,
                "sectors": [Sector(sector).label for sector in sectors],
                "area": contact.municipality if contact is not None else None,
                "units": units,
                "valid_from": valid_from,
                "valid_until": valid_until,
                "contact": contact,
            },
        ).strip()


def consent_record(
    *,
    request: HttpRequest,
    child: Child,
    purpose: str,
    team: Team | None = None,
    service: Service | None = None,
    sectors: list[str] | None = None,
    units: list[Unit] | None = None,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    child_view: str = "",
    includes_screening_answers: bool = False,
    language: str = "sv",
) -> Consent:
    """Record what a consent covers, before the guardians give it (each one separately)."""
    decision = _decision(request, child)
    sectors, units = list(sectors or []), list(units or [])
    if purpose == Purpose.TEAM_DISCUSSION and team is None:
        raise ConsentError(_("Name the team that may discuss the child."))
    if purpose == Purpose.REFERRAL and service is None:
        raise ConsentError(_("Name the service the family is referred to."))
    units = receiving_units(units, service)
    if not sectors and not units:
        raise ConsentError(_("Name at least one sector or unit that may receive the information."))
    valid_from = valid_from or timezone.localdate()
    valid_until = valid_until or valid_from + relativedelta(months=settings.CONSENT_DEFAULT_MONTHS)
    if valid_until < valid_from:
        raise ConsentError(_("The consent must end after it starts."))
    age = age_in_years(child.birth_date)
    with transaction.atomic():
        consent = Consent.objects.create(
            child=child,
            purpose=purpose,
            team=team,
            service=service,
            valid_from=valid_from,
            valid_until=valid_until,
            recorded_by=policy.acting_professional(request.user),
            recorded_unit=decision.through_unit,
            child_view=child_view,
            includes_screening_answers=includes_screening_answers,
            child_age_years=age,
            form_language=language,
            form_text=consent_form_text(
                child=child,
                purpose=purpose,
                team=team,
                service=service,
                sectors=sectors,
                units=units,
                valid_from=valid_from,
                valid_until=valid_until,
                language=language,
                contact=decision.unit,
            ),
        )
        ConsentScope.objects.bulk_create(
            [
                ConsentScope(
                    consent=consent,
                    sector=sector,
                    municipality_id=decision.through_unit.municipality_id,
                )
                for sector in sectors
            ]
            + [ConsentScope(consent=consent, unit=unit) for unit in units]
        )
        access_log(
            request=request,
            action=Action.CONSENT_RECORD,
            purpose=Purpose(purpose),
            decision=decision,
            child=child,
        )
    return consent


def custodial_guardians(child: Child) -> list[Guardian]:
    return list(Guardian.objects.filter(custodies__child=child).order_by("pk"))


def missing_guardians(
    consent: Consent, *, custodians: list[Guardian] | None = None
) -> list[Guardian]:
    """Custodial guardians who have not (or no longer) given the consent.

    For a list of consents, pass the child's `custodians` (from `custodial_guardians`) and
    prefetch `givings` (`Consent.objects.for_child_consents()`): then no query runs per
    consent, and the answer is as fresh as that prefetch.
    """
    if custodians is None:
        given = set(
            consent.givings.filter(withdrawn_at__isnull=True).values_list("guardian_id", flat=True)
        )
        custodians = custodial_guardians(consent.child)
    else:
        given = {g.guardian_id for g in consent.givings.all() if g.withdrawn_at is None}
    return [g for g in custodians if g.pk not in given]


def consent_give(
    *,
    request: HttpRequest,
    consent: Consent,
    guardian: Guardian,
    method: str,
    witness: str = "",
    document: UploadedFile | None = None,
    given_at: datetime.datetime | None = None,
) -> GuardianConsent:
    """One guardian gives the consent; it comes into force when the last custodial guardian
    has given it."""
    decision = _decision(request, consent.child)
    if consent.withdrawn_at is not None:
        raise ConsentError(_("This consent has been withdrawn; record a new one."))
    if guardian.pk not in {g.pk for g in custodial_guardians(consent.child)}:
        raise ConsentError(_("Only a guardian with custody of the child can give consent."))
    if method == GuardianConsent.Method.VERBAL and not witness.strip():
        raise ConsentError(_("Verbal consent needs a witness."))
    if method == GuardianConsent.Method.SIGNED_FORM and document is None:
        raise ConsentError(_("Upload the signed form."))
    now = given_at or timezone.now()
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        # Checked under the lock: a double-tapped submit finds the first giving here.
        if locked.givings.filter(guardian=guardian).exists():
            raise ConsentError(_("This guardian has already given the consent."))
        giving = GuardianConsent.objects.create(
            consent=locked,
            guardian=guardian,
            method=method,
            witness=witness.strip(),
            document=document or "",
            given_at=now,
            recorded_by=policy.acting_professional(request.user),
        )
        if not missing_guardians(locked):
            locked.effective_from = now
            locked.save(update_fields=["effective_from"])
            consent.effective_from = now
        access_log(
            request=request,
            action=Action.CONSENT_GIVE,
            purpose=Purpose(consent.purpose),
            decision=decision,
            child=consent.child,
        )
    return giving


def consent_withdraw(
    *, request: HttpRequest, consent: Consent, guardian: Guardian
) -> dict[str, Any]:
    """A consenting guardian withdraws: it stops at once, and open referrals under it are
    withdrawn too. What other sectors already documented stays in their own records."""
    from cases.models import Referral

    decision = policy.may_record_withdrawal(request.user, consent)
    if not decision.allowed:
        raise ConsentError(_("You may not record a withdrawal of this consent."))
    giving = consent.givings.filter(guardian=guardian, withdrawn_at__isnull=True).first()
    if giving is None:
        raise ConsentError(_("Only a guardian who gave the consent can withdraw it."))
    now = timezone.now()
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        giving.withdrawn_at = now
        giving.save(update_fields=["withdrawn_at"])
        if locked.withdrawn_at is None:
            locked.withdrawn_at, locked.withdrawn_by = now, guardian
            locked.save(update_fields=["withdrawn_at", "withdrawn_by"])
        consent.withdrawn_at, consent.withdrawn_by = locked.withdrawn_at, locked.withdrawn_by
        withdrawn_referrals = Referral.objects.filter(
            consent=consent, closed_at__isnull=True
        ).update(closed_at=now, outcome=Referral.Outcome.WITHDRAWN)
        access_log(
            request=request,
            action=Action.CONSENT_WITHDRAW,
            purpose=Purpose(consent.purpose),
            decision=decision,
            child=consent.child,
        )
    return {"referrals_withdrawn": withdrawn_referrals}
