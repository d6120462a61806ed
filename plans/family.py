"""The family's side of a plan: their copy of the current version, and ending the plan.

The copy is what the family takes home: what will happen, who does what, who holds overall
responsibility, when the next follow-up is, and whom to call. It is built from the plan alone.
It never reads the screening app (a parent's BarnSäkert answers are private to health care,
and one parent's answers must not reach the other through a shared printout), never carries an
address (protected identity), and leaves out participants and actions of units the plan's
consent does not reach: a printout travels further than a screen.

Ending the plan is the family's right at any time (SIP is voluntary). `plan_end` records it
and withdraws the plan's SIP consent in the same transaction, so other sectors lose the plan
at their very next request; the child's own units keep it, as their own record.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import to_language

from audit.models import Action
from audit.services import access_log
from consent import policy
from consent.policy import Purpose
from consent.services import ConsentError, consent_withdraw, custodial_guardians
from families.models import Guardian

from .models import Plan, PlanAction, PlanIntervention, PlanMeeting, PlanParticipant, PlanVersion


class UnknownLanguage(ValueError):
    """The copy has no catalogue in the asked language."""


class PlanEndError(ValueError):
    """Ending the plan cannot be recorded; the message is for the user."""


def copy_languages() -> list[tuple[str, str]]:
    """The languages a family's copy can be made in, as (code, name in that language).

    English (the msgids) and every language with a compiled catalogue in the project's locale
    folders: adding a language is adding its catalogue, not code. The site's default language
    comes first.
    """
    codes = {"en", settings.LANGUAGE_CODE}
    for folder in settings.LOCALE_PATHS:
        for catalogue in Path(folder).glob("*/LC_MESSAGES/django.mo"):
            codes.add(to_language(catalogue.parent.parent.name))
    ordered = sorted(codes, key=lambda code: (code != settings.LANGUAGE_CODE, code))
    return [(code, _language_name(code)) for code in ordered]


def _language_name(code: str) -> str:
    try:
        return str(translation.get_language_info(code)["name_local"])
    except KeyError:
        return code


@dataclass(frozen=True)
class Contact:
    """Someone in the plan, as the family's contact list shows them. Never an address."""

    name: str
    role: str
    unit: str = ""
    phone: str = ""
    email: str = ""
    other: str = ""  # free-text contact details of a non-professional


@dataclass(frozen=True)
class CopyIntervention:
    what: str
    provider: str
    provider_kind: str


@dataclass(frozen=True)
class CopyAction:
    what: str
    who: str
    unit: str
    due_date: datetime.date
    status: str  # code, for styling
    status_label: str


@dataclass(frozen=True)
class NextMeeting:
    starts_at: datetime.datetime
    place: str
    kind: str


@dataclass(frozen=True)
class FamilyCopy:
    """The family's copy of the plan's current version, in one language (plain data)."""

    language: str
    plan_id: int
    child_first_name: str
    child_name: str
    status: str
    status_label: str
    ended_at: datetime.datetime | None
    requested_by: str
    requested_on: datetime.date
    started_at: datetime.datetime
    version_number: int = 0
    version_saved_at: datetime.datetime | None = None
    needs: str = ""
    goals: list[str] = field(default_factory=list)
    interventions: list[CopyIntervention] = field(default_factory=list)
    actions: list[CopyAction] = field(default_factory=list)
    overall_responsibility: str = ""
    coordinator: Contact | None = None
    next_follow_up: datetime.date | None = None
    next_meeting: NextMeeting | None = None
    participants: list[Contact] = field(default_factory=list)
    child_voice: str = ""
    child_voice_method: str = ""
    child_voice_by: str = ""
    family_view: str = ""

    @property
    def has_content(self) -> bool:
        """False before the first version is saved: the copy then says so."""
        return self.version_number > 0

    @property
    def is_ended(self) -> bool:
        return self.status == Plan.Status.ENDED


def current_version(plan: Plan) -> PlanVersion | None:
    """The plan's current version with what the copy shows of it, or None before the first."""
    if not plan.current_number:
        return None
    return (
        PlanVersion.objects.select_related("overall_responsibility", "coordinator")
        .filter(plan=plan, number=plan.current_number)
        .first()
    )


def shared_content(
    plan: Plan, version: PlanVersion | None
) -> tuple[list[PlanParticipant], list[PlanAction]]:
    """The participants and actions that may leave the team: current participants only, and
    only those (and actions) of the child's own units, of no unit, or of a unit the plan's
    consent reaches. Three queries, whatever their number."""
    participants = list(
        plan.participants.filter(removed_at__isnull=True)
        .select_related("professional", "unit", "guardian")
        .order_by("kind", "pk")
    )
    actions = (
        list(
            PlanAction.objects.filter(version=version)
            .select_related("unit", "responsible")
            .order_by("position", "pk")
        )
        if version is not None
        else []
    )
    units = {p.unit for p in participants if p.unit is not None} | {
        a.unit for a in actions if a.unit is not None
    }
    own = plan.child.unit_ids()
    covered = own | policy.units_covered_by(plan.consent, [u for u in units if u.pk not in own])
    return (
        [p for p in participants if p.unit_id is None or p.unit_id in covered],
        [a for a in actions if a.unit_id is None or a.unit_id in covered],
    )


def _contact(participant: PlanParticipant, child_first_name: str) -> Contact:
    role = participant.role
    if participant.kind == PlanParticipant.Kind.PROFESSIONAL:
        person, unit = participant.professional, participant.unit
        if person is None or unit is None:  # never: a check constraint requires both
            raise ValueError(f"participant {participant.pk} has no professional or unit")
        return Contact(
            name=str(person),
            role=role or person.get_profession_display() or person.title,
            unit=unit.name,
            phone=person.phone or unit.phone,
            email=person.email or unit.email,
        )
    if participant.kind == PlanParticipant.Kind.GUARDIAN:
        guardian = participant.guardian
        if guardian is None:  # never: a check constraint requires one
            raise ValueError(f"participant {participant.pk} has no guardian")
        return Contact(
            name=guardian.full_name,
            role=role or _("Guardian"),
            other=participant.contact,
        )
    if participant.kind == PlanParticipant.Kind.CHILD:
        return Contact(name=child_first_name, role=role or str(PlanParticipant.Kind.CHILD.label))
    return Contact(
        name=participant.name,
        role=role or str(PlanParticipant.Kind.OTHER.label),
        other=participant.contact,
    )


def _action(action: PlanAction) -> CopyAction:
    who = str(action.responsible) if action.responsible_id else ""
    if action.responsible_other:
        who = f"{who}, {action.responsible_other}" if who else action.responsible_other
    return CopyAction(
        what=action.what,
        who=who,
        unit=action.unit.name if action.unit is not None else "",
        due_date=action.due_date,
        status=action.status,
        status_label=str(action.get_status_display()),
    )


def _intervention(intervention: PlanIntervention) -> CopyIntervention:
    provider = (
        intervention.provider.name
        if intervention.provider is not None
        else intervention.provider_other
    )
    return CopyIntervention(
        what=intervention.what,
        provider=provider,
        provider_kind=str(intervention.get_provider_kind_display()),
    )


def family_copy(plan: Plan, language: str) -> FamilyCopy:
    """The family's copy of `plan`'s current version in `language` (see the module's
    docstring for what it leaves out). Labels are resolved in `language`.

    Read `plan` with `select_related("child", "consent")`; then it takes a fixed number of
    queries whatever the number of goals, actions and participants. The caller has asked the
    policy and written the audit entry.
    """
    if language not in dict(copy_languages()):
        raise UnknownLanguage(language)
    child = plan.child
    with translation.override(language):
        version = current_version(plan)
        participants, actions = shared_content(plan, version)
        contacts = [_contact(p, child.first_name) for p in participants]
        base = FamilyCopy(
            language=language,
            plan_id=plan.pk,
            child_first_name=child.first_name,
            child_name=child.full_name,
            status=plan.status,
            status_label=str(plan.get_status_display()),
            ended_at=plan.ended_at,
            requested_by=plan.requested_by,
            requested_on=plan.requested_on,
            started_at=plan.started_at,
            participants=contacts,
        )
        if version is None:
            return base
        coordinator = _coordinator(version, participants, contacts)
        return replace(
            base,
            version_number=version.number,
            version_saved_at=version.created_at,
            needs=version.needs,
            goals=[goal.text for goal in version.goals.order_by("position", "pk")],
            interventions=[
                _intervention(i)
                for i in version.interventions.select_related("provider").order_by("position", "pk")
            ],
            actions=[_action(a) for a in actions],
            overall_responsibility=version.overall_responsibility.name,
            coordinator=coordinator,
            next_follow_up=version.next_follow_up,
            next_meeting=_next_meeting(plan) if plan.status == Plan.Status.ACTIVE else None,
            child_voice=version.child_voice,
            child_voice_method=str(version.get_child_voice_method_display()),
            child_voice_by=version.child_voice_by,
            family_view=version.family_view,
        )


def _coordinator(
    version: PlanVersion, participants: list[PlanParticipant], contacts: list[Contact]
) -> Contact:
    """The named coordinator, with the contact details of their place in the plan if they
    take part in it (they should), else their own phone and e-mail."""
    for participant, contact in zip(participants, contacts, strict=True):
        if participant.professional_id == version.coordinator_id:
            return Contact(
                name=contact.name,
                role=_("Coordinator"),
                unit=contact.unit,
                phone=contact.phone,
                email=contact.email,
            )
    person = version.coordinator
    return Contact(name=str(person), role=_("Coordinator"), phone=person.phone, email=person.email)


def _next_meeting(plan: Plan) -> NextMeeting | None:
    meeting = (
        PlanMeeting.objects.filter(plan=plan, held=False, starts_at__gte=timezone.now())
        .order_by("starts_at", "pk")
        .first()
    )
    if meeting is None:
        return None
    return NextMeeting(
        starts_at=meeting.starts_at, place=meeting.place, kind=str(meeting.get_kind_display())
    )


# --- Ending the plan ------------------------------------------------------------------------


def refuse_if_ended(plan: Plan) -> None:
    """An ended plan is closed: nothing is added to it, and it cannot be ended twice."""
    if plan.status == Plan.Status.ENDED:
        raise PlanEndError(
            _("The family ended this plan on %(date)s. It can no longer be changed.")
            % {"date": timezone.localdate(plan.ended_at).isoformat()}
        )


def plan_end(*, request: HttpRequest, plan: Plan, guardian: Guardian, reason: str = "") -> Plan:
    """The family ends the plan (a SIP is voluntary): `guardian`, a custodial guardian of the
    child, has said so to the user, who records it.

    One transaction: the plan is marked ended (when, by whom, why, recorded by whom), its SIP
    consent is withdrawn by that guardian (`consent_withdraw`, which writes its own audit
    entry), and the ending is audited. Other sectors lose the plan at their next request.
    Only a user `decide_plan` allows may record it.
    """
    decision = policy.decide_plan(request.user, plan)
    if not decision.allowed:
        raise PlanEndError(_("You may not record that the family ends this plan."))
    refuse_if_ended(plan)
    if guardian.pk not in {g.pk for g in custodial_guardians(plan.child)}:
        raise PlanEndError(
            _("Only a guardian with custody of the child can end the plan for the family.")
        )
    now = timezone.now()
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        refuse_if_ended(locked)  # checked again under the lock: a double submit ends it once
        locked.status, locked.ended_at = Plan.Status.ENDED, now
        locked.ended_by_guardian, locked.end_reason = guardian, reason.strip()
        locked.end_recorded_by = policy.acting_professional(request.user)
        locked.save(
            update_fields=[
                "status",
                "ended_at",
                "ended_by_guardian",
                "end_reason",
                "end_recorded_by",
            ]
        )
        _withdraw_consent(request, plan, guardian)
        access_log(
            request=request,
            action=Action.PLAN_END,
            purpose=Purpose.SIP,
            decision=decision,
            child=plan.child,
        )
    for name in ("status", "ended_at", "ended_by_guardian", "end_reason", "end_recorded_by"):
        setattr(plan, name, getattr(locked, name))
    return plan


def _withdraw_consent(request: HttpRequest, plan: Plan, guardian: Guardian) -> None:
    """Withdraw the plan's consent in the guardian's name, so sharing stops now. Already
    withdrawn (by this or another guardian): nothing more to do."""
    consent = plan.consent
    consent.refresh_from_db(fields=["withdrawn_at", "withdrawn_by"])
    gave = consent.givings.filter(guardian=guardian, withdrawn_at__isnull=True).exists()
    if consent.withdrawn_at is not None and not gave:
        return
    if not gave:
        # Custody changed after the consent came into force: this guardian never gave it,
        # so cannot withdraw it in the consent service's terms. Refuse rather than leave
        # the plan shared with an ended plan's consent still in force.
        raise PlanEndError(
            _(
                "This guardian has not given the plan's consent. Record the ending with a "
                "guardian who gave it, so that the sharing stops."
            )
        )
    try:
        consent_withdraw(request=request, consent=consent, guardian=guardian)
    except ConsentError as exc:
        raise PlanEndError(str(exc)) from exc
