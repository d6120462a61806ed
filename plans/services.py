"""SIP use cases: start a plan, its participants and meetings, save a version, follow up.

Each is one transaction that writes its audit entry. Access is the policy's
(`policy.may_start_plan`, `policy.decide_plan`); these functions never restate it. A plan's
content is saved as a new immutable version; a save names the version it started from and is
refused with `PlanConflict` when someone else saved first (optimistic locking).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Action as AuditAction
from audit.services import access_log
from cases.models import Concern
from consent import policy
from consent.models import Consent
from consent.policy import Decision, Purpose
from directory.models import Organisation, Professional, Unit
from families.models import Child, Guardian

from .models import (
    Plan,
    PlanAction,
    PlanAttendance,
    PlanGoal,
    PlanIntervention,
    PlanMeeting,
    PlanParticipant,
    PlanVersion,
    first_meeting_days,
)


class PlanError(ValueError):
    """A plan act that cannot be carried out; the message is for the user."""


class PlanConflict(PlanError):
    """Someone else saved a newer version of the plan since this user opened it."""

    def __init__(self, current_number: int) -> None:
        super().__init__(
            _(
                "Someone else saved the plan while you were writing: version %(number)s is now "
                "the newest. Nothing you wrote is lost: it is kept below. Compare it with the "
                "newer version and save again."
            )
            % {"number": current_number}
        )
        self.current_number = current_number


def region_of_unit(unit: Unit) -> Organisation | None:
    """The region whose SIP agreement applies to `unit`: its organisation if a region, else
    the region that organisation belongs to."""
    organisation = unit.organisation
    if organisation.kind == Organisation.Kind.REGION:
        return organisation
    return organisation.region


def _log(request: HttpRequest, action: str, decision: Decision, child: Child) -> None:
    access_log(request=request, action=action, purpose=Purpose.SIP, decision=decision, child=child)


def _decide(request: HttpRequest, plan: Plan) -> Decision:
    """The user may act on the plan (else PlanError), and the plan is still active."""
    decision = policy.decide_plan(request.user, plan)
    if not decision.allowed or decision.unit is None:
        raise PlanError(_("You may not change this plan."))
    if plan.status != Plan.Status.ACTIVE:
        raise PlanError(_("The family has ended the plan: it can no longer be changed."))
    return decision


# --- Start ----------------------------------------------------------------------------------


def plan_start(
    *,
    request: HttpRequest,
    child: Child,
    requested_by: str,
    requested_on: datetime.date,
    concern: Concern | None = None,
) -> Plan:
    """Start a SIP for `child` under the guardians' effective SIP consent.

    Records who asked for it and when; the first meeting is due within the region's agreed
    number of days from the request. The starter takes part as a professional.
    """
    user = request.user
    decision = policy.may_start_plan(user, child)
    if not decision.allowed or decision.unit is None:
        if policy.sip_consent(child) is None:
            raise PlanError(
                _(
                    "There is no SIP consent in force for this child: every guardian with "
                    "custody must give it first."
                )
            )
        raise PlanError(_("The guardians' SIP consent does not cover your unit."))
    if not requested_by.strip():
        raise PlanError(_("Say who asked for the plan."))
    if requested_on > timezone.localdate():
        raise PlanError(_("The date of the request cannot be in the future."))
    if concern is not None:
        visible = policy.visible_concerns(user).filter(pk=concern.pk, child=child)
        if not visible.exists():
            raise PlanError(_("That case is not about this child."))
    consent = Consent.objects.get(pk=int(decision.reference.split(":", 1)[1]))
    unit = decision.through_unit
    # The decision has let only a professional of `unit` through.
    professional = policy.acting_professional(user)
    due = requested_on + datetime.timedelta(days=first_meeting_days(region_of_unit(unit)))
    with transaction.atomic():
        plan = Plan.objects.create(
            child=child,
            consent=consent,
            concern=concern,
            requested_by=requested_by.strip(),
            requested_on=requested_on,
            started_by=professional,
            started_unit=unit,
            first_meeting_due=due,
        )
        PlanParticipant.objects.create(
            plan=plan,
            kind=PlanParticipant.Kind.PROFESSIONAL,
            professional=professional,
            unit=unit,
            role=professional.get_profession_display(),
            added_by=professional,
        )
        _log(request, AuditAction.PLAN_START, decision, child)
    return plan


# --- Participants ---------------------------------------------------------------------------


def _active(plan: Plan) -> QuerySet[PlanParticipant]:
    return plan.participants.filter(removed_at__isnull=True)


def plan_participant_add(
    *,
    request: HttpRequest,
    plan: Plan,
    kind: str,
    professional: Professional | None = None,
    unit: Unit | None = None,
    guardian: Guardian | None = None,
    name: str = "",
    role: str = "",
    contact: str = "",
    invited: bool = False,
) -> PlanParticipant:
    """Add someone to the plan: a professional of a unit the SIP consent reaches (or one of the
    child's own units), a guardian with custody, the child, or another person by name."""
    decision = _decide(request, plan)
    fields: dict[str, object] = {"role": role.strip(), "contact": contact.strip()}
    active = _active(plan)
    if kind == PlanParticipant.Kind.PROFESSIONAL:
        if professional is None or unit is None:
            raise PlanError(_("Choose the professional and the unit they represent."))
        if unit not in policy.current_units(professional):
            raise PlanError(
                _("%(person)s does not work in %(unit)s.")
                % {
                    "person": professional,
                    "unit": unit,
                }
            )
        own = unit.pk in plan.child.unit_ids()
        if not own and not policy.unit_covered_by(plan.consent, unit):
            raise PlanError(
                _(
                    "The guardians' SIP consent does not cover %(unit)s: that unit cannot take "
                    "part unless the guardians extend the consent."
                )
                % {"unit": unit}
            )
        if active.filter(professional=professional).exists():
            raise PlanError(_("%(person)s already takes part.") % {"person": professional})
        fields.update(professional=professional, unit=unit)
    elif kind == PlanParticipant.Kind.GUARDIAN:
        if guardian is None or not plan.child.custodies.filter(guardian=guardian).exists():
            raise PlanError(_("Choose one of the child's guardians."))
        if active.filter(guardian=guardian).exists():
            raise PlanError(_("%(person)s already takes part.") % {"person": guardian})
        fields["guardian"] = guardian
    elif kind == PlanParticipant.Kind.CHILD:
        if active.filter(kind=PlanParticipant.Kind.CHILD).exists():
            raise PlanError(_("The child already takes part."))
    elif kind == PlanParticipant.Kind.OTHER:
        if not name.strip():
            raise PlanError(_("Give the person's name."))
        if not role.strip():
            raise PlanError(_("Say who the person is to the family, e.g. a neighbour."))
        fields["name"] = name.strip()
    else:
        raise PlanError(_("Unknown kind of participant."))
    with transaction.atomic():
        participant = PlanParticipant.objects.create(
            plan=plan,
            kind=kind,
            added_by=policy.acting_professional(request.user),
            invited_at=timezone.now() if invited else None,
            **fields,
        )
        _log(request, AuditAction.PLAN_PARTICIPANT, decision, plan.child)
    return participant


def plan_participant_remove(
    *, request: HttpRequest, plan: Plan, participant: PlanParticipant
) -> None:
    """The person no longer takes part. The row stays: earlier versions and attendance name it."""
    decision = _decide(request, plan)
    if participant.plan_id != plan.pk:
        raise PlanError(_("That person does not take part in this plan."))
    with transaction.atomic():
        PlanParticipant.objects.filter(pk=participant.pk, removed_at__isnull=True).update(
            removed_at=timezone.now()
        )
        _log(request, AuditAction.PLAN_PARTICIPANT, decision, plan.child)


def plan_participant_invite(
    *, request: HttpRequest, plan: Plan, participant: PlanParticipant
) -> None:
    """Record that the person has been invited (the first invitation's time stands)."""
    decision = _decide(request, plan)
    if participant.plan_id != plan.pk or participant.removed_at is not None:
        raise PlanError(_("That person does not take part in this plan."))
    with transaction.atomic():
        PlanParticipant.objects.filter(pk=participant.pk, invited_at__isnull=True).update(
            invited_at=timezone.now()
        )
        _log(request, AuditAction.PLAN_PARTICIPANT, decision, plan.child)


# --- Meetings -------------------------------------------------------------------------------


def plan_meeting_add(
    *, request: HttpRequest, plan: Plan, kind: str, starts_at: datetime.datetime, place: str = ""
) -> PlanMeeting:
    """Schedule the first meeting or a follow-up."""
    decision = _decide(request, plan)
    if kind not in PlanMeeting.Kind.values:
        raise PlanError(_("Unknown kind of meeting."))
    if kind == PlanMeeting.Kind.FIRST and plan.meetings.filter(kind=kind).exists():
        raise PlanError(_("The plan already has a first meeting: schedule a follow-up."))
    with transaction.atomic():
        meeting = PlanMeeting.objects.create(
            plan=plan,
            kind=kind,
            starts_at=starts_at,
            place=place.strip(),
            created_by=policy.acting_professional(request.user),
        )
        _log(request, AuditAction.PLAN_MEETING, decision, plan.child)
    return meeting


def plan_attendance_set(*, request: HttpRequest, meeting: PlanMeeting, present: set[int]) -> None:
    """Record who was at the meeting (participants by id); the meeting is then held."""
    plan = meeting.plan
    decision = _decide(request, plan)
    if meeting.starts_at.date() > timezone.localdate() + datetime.timedelta(days=1):
        raise PlanError(_("Attendance is recorded once the meeting has taken place."))
    participants = list(_active(plan).values_list("pk", flat=True))
    unknown = present - set(participants)
    if unknown:
        raise PlanError(_("That person does not take part in this plan."))
    with transaction.atomic():
        for pk in participants:
            PlanAttendance.objects.update_or_create(
                meeting=meeting, participant_id=pk, defaults={"present": pk in present}
            )
        PlanMeeting.objects.filter(pk=meeting.pk).update(held=True)
        _log(request, AuditAction.PLAN_MEETING, decision, plan.child)


# --- Versions -------------------------------------------------------------------------------


@dataclass
class InterventionRow:
    what: str
    provider_kind: str
    provider: Organisation | None = None
    provider_other: str = ""


@dataclass
class ActionRow:
    what: str
    due_date: datetime.date
    participant: PlanParticipant | None = None  # a professional taking part
    responsible_other: str = ""  # a guardian, the child, someone in the network
    status: str = PlanAction.Status.PLANNED
    source: PlanAction | None = None  # the same action in the version this one started from


@dataclass
class Evaluation:
    """At a follow-up: how one action of the previous version went."""

    action: PlanAction
    status: str
    evaluation: str = ""
    continue_until: datetime.date | None = None  # carried over to the new version until then


@dataclass
class PlanContent:
    needs: str
    overall_responsibility: Organisation
    coordinator: Professional
    next_follow_up: datetime.date
    family_view: str = ""
    child_voice: str = ""
    child_voice_method: str = PlanVersion.VoiceMethod.NOT_YET
    child_voice_by: str = ""
    goals: list[str] = field(default_factory=list)
    interventions: list[InterventionRow] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)


# Looked up with a row's provider kind, a plain str (as posted).
PROVIDER_KINDS: dict[str, str] = {
    PlanIntervention.ProviderKind.REGION: Organisation.Kind.REGION,
    PlanIntervention.ProviderKind.MUNICIPALITY: Organisation.Kind.MUNICIPALITY,
}
OPEN = (PlanAction.Status.PLANNED, PlanAction.Status.ONGOING)


def _check_content(plan: Plan, content: PlanContent) -> None:
    if not content.needs.strip():
        raise PlanError(_("Describe the child's needs and background."))
    if content.next_follow_up <= timezone.localdate():
        raise PlanError(_("The next follow-up must be a date after today."))
    if content.child_voice_method not in PlanVersion.VoiceMethod.values:
        raise PlanError(_("Say how the child's voice was gathered."))
    if (
        content.child_voice.strip()
        and content.child_voice_method == PlanVersion.VoiceMethod.NOT_YET
    ):
        raise PlanError(_("Say how the child's voice was gathered."))
    if content.overall_responsibility.kind not in PROVIDER_KINDS.values():
        raise PlanError(_("Overall responsibility lies with a region or a municipality."))
    professionals = _active(plan).filter(kind=PlanParticipant.Kind.PROFESSIONAL)
    if not professionals.filter(professional=content.coordinator).exists():
        raise PlanError(_("The coordinator must be a professional taking part in the plan."))
    for row in content.interventions:
        if row.provider_kind == PlanIntervention.ProviderKind.OTHER:
            if not row.provider_other.strip():
                raise PlanError(_("Say who provides “%(what)s”.") % {"what": row.what.strip()[:60]})
        elif row.provider is None or PROVIDER_KINDS.get(row.provider_kind) != row.provider.kind:
            raise PlanError(
                _("Choose the responsible body that provides “%(what)s”.")
                % {"what": row.what.strip()[:60]}
            )
    for action in content.actions:
        if action.participant is None and not action.responsible_other.strip():
            raise PlanError(_("Say who does “%(what)s”.") % {"what": action.what.strip()[:60]})
        if action.participant is not None and (
            action.participant.plan_id != plan.pk
            or action.participant.kind != PlanParticipant.Kind.PROFESSIONAL
            or action.participant.removed_at is not None
        ):
            raise PlanError(_("Actions are given to professionals taking part in the plan."))
        if action.status not in PlanAction.Status.values:
            raise PlanError(_("Unknown status."))


def _write_version(
    *,
    request: HttpRequest,
    plan: Plan,
    based_on: int,
    kind: str,
    unit: Unit,
    content: PlanContent,
    meeting: PlanMeeting | None = None,
    evaluation: str = "",
    evaluations: Sequence[Evaluation] = (),
) -> PlanVersion:
    """The optimistic lock and the new immutable version (inside the caller's transaction)."""
    updated = Plan.objects.filter(
        pk=plan.pk, current_number=based_on, status=Plan.Status.ACTIVE
    ).update(current_number=based_on + 1, next_follow_up=content.next_follow_up)
    if not updated:
        current = Plan.objects.filter(pk=plan.pk).values_list("status", "current_number").get()
        if current[0] != Plan.Status.ACTIVE:
            raise PlanError(_("The family has ended the plan: it can no longer be changed."))
        raise PlanConflict(current[1])
    version = PlanVersion.objects.create(
        plan=plan,
        number=based_on + 1,
        kind=kind,
        meeting=meeting,
        created_by=policy.acting_professional(request.user),
        created_unit=unit,
        needs=content.needs.strip(),
        family_view=content.family_view.strip(),
        child_voice=content.child_voice.strip(),
        child_voice_method=content.child_voice_method,
        child_voice_by=content.child_voice_by.strip(),
        overall_responsibility=content.overall_responsibility,
        coordinator=content.coordinator,
        next_follow_up=content.next_follow_up,
        evaluation=evaluation.strip(),
    )
    PlanGoal.objects.bulk_create(
        PlanGoal(version=version, text=text.strip(), position=n)
        for n, text in enumerate(t for t in content.goals if t.strip())
    )
    PlanIntervention.objects.bulk_create(
        PlanIntervention(
            version=version,
            what=row.what.strip(),
            provider_kind=row.provider_kind,
            provider=None
            if row.provider_kind == PlanIntervention.ProviderKind.OTHER
            else row.provider,
            provider_other=row.provider_other.strip()
            if row.provider_kind == PlanIntervention.ProviderKind.OTHER
            else "",
            position=n,
        )
        for n, row in enumerate(r for r in content.interventions if r.what.strip())
    )
    rows = []
    for item in evaluations:
        previous = item.action
        rows.append(
            PlanAction(
                version=version,
                what=previous.what,
                unit_id=previous.unit_id,
                responsible_id=previous.responsible_id,
                responsible_other=previous.responsible_other,
                due_date=item.continue_until or previous.due_date,
                status=item.status,
                evaluation=item.evaluation.strip(),
                carried_from=previous,
            )
        )
    for action in (a for a in content.actions if a.what.strip()):
        participant = action.participant
        rows.append(
            PlanAction(
                version=version,
                what=action.what.strip(),
                unit_id=participant.unit_id if participant else None,
                responsible_id=participant.professional_id if participant else None,
                responsible_other="" if participant else action.responsible_other.strip(),
                due_date=action.due_date,
                status=action.status,
                carried_from=action.source,
            )
        )
    for n, row in enumerate(rows):
        row.position = n
    PlanAction.objects.bulk_create(rows)
    return version


def plan_save(
    *, request: HttpRequest, plan: Plan, based_on: int, content: PlanContent
) -> PlanVersion:
    """Save the plan's content as a new version: the first (made at the first meeting) or a
    revision between meetings. `based_on` is the version the user started from; when someone
    else saved after it, PlanConflict and nothing is written."""
    decision = _decide(request, plan)
    _check_content(plan, content)
    if based_on > 0:
        previous = {
            a.pk for a in PlanAction.objects.filter(version__plan=plan, version__number=based_on)
        }
        if any(a.source is not None and a.source.pk not in previous for a in content.actions):
            raise PlanError(_("An action refers to another version of the plan."))
    kind = PlanVersion.Kind.FIRST if based_on == 0 else PlanVersion.Kind.REVISION
    meeting = None
    if kind == PlanVersion.Kind.FIRST:
        meeting = plan.meetings.filter(kind=PlanMeeting.Kind.FIRST).first()
    with transaction.atomic():
        version = _write_version(
            request=request,
            plan=plan,
            based_on=based_on,
            kind=kind,
            unit=decision.through_unit,
            content=content,
            meeting=meeting,
        )
        _log(request, AuditAction.PLAN_SAVE, decision, plan.child)
    return version


def plan_follow_up(
    *,
    request: HttpRequest,
    plan: Plan,
    based_on: int,
    meeting: PlanMeeting,
    evaluation: str,
    evaluations: list[Evaluation],
    content: PlanContent,
) -> PlanVersion:
    """A follow-up meeting: every action of the current version is evaluated (status and how it
    went; carried over with a new date, or finished), the plan as a whole is evaluated, new
    actions are added, and the result is a new version made at the follow-up."""
    decision = _decide(request, plan)
    if based_on < 1:
        raise PlanError(_("A follow-up needs a first version of the plan."))
    if meeting.plan_id != plan.pk or meeting.kind != PlanMeeting.Kind.FOLLOW_UP:
        raise PlanError(_("Choose one of the plan's follow-up meetings."))
    if meeting.versions.exists():
        raise PlanError(_("That meeting has already made its version of the plan."))
    if not evaluation.strip():
        raise PlanError(_("Write how the plan has gone so far."))
    _check_content(plan, content)
    previous = {
        a.pk: a for a in PlanAction.objects.filter(version__plan=plan, version__number=based_on)
    }
    open_before = {pk for pk, a in previous.items() if a.status in OPEN}
    evaluated = {item.action.pk for item in evaluations}
    if not evaluated <= set(previous) or not open_before <= evaluated:
        raise PlanError(_("Evaluate each action of the version the follow-up starts from."))
    for item in evaluations:
        if item.status not in PlanAction.Status.values:
            raise PlanError(_("Unknown status."))
        if item.continue_until is not None:
            if item.status not in OPEN:
                raise PlanError(
                    _("“%(what)s” is finished: it cannot be carried over.")
                    % {"what": item.action.what[:60]}
                )
            if item.continue_until <= timezone.localdate():
                raise PlanError(_("A carried-over action needs a date after today."))
        elif item.status in OPEN:
            raise PlanError(
                _("“%(what)s”: give a new date to carry it over, or mark it done or not done.")
                % {"what": item.action.what[:60]}
            )
    with transaction.atomic():
        version = _write_version(
            request=request,
            plan=plan,
            based_on=based_on,
            kind=PlanVersion.Kind.FOLLOW_UP,
            unit=decision.through_unit,
            content=content,
            meeting=meeting,
            evaluation=evaluation,
            evaluations=evaluations,
        )
        PlanMeeting.objects.filter(pk=meeting.pk).update(held=True)
        meeting.held = True
        _log(request, AuditAction.PLAN_SAVE, decision, plan.child)
    return version
