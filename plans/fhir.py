"""A plan as FHIR R4: a `CarePlan` of the current version, with its participants as a
`CareTeam` and its goals as `Goal` resources, both contained in the CarePlan.

Why contained and not a Bundle: the team and the goals have no life outside this version of
this plan (the next version may change them), Samverkan serves no endpoint where they could be
read on their own, and one self-contained resource is what a receiving system files as "the
plan". A Bundle would suggest independently addressable resources with ids of their own.

Like the BarnSäkert export (`screening.fhir`), the child is `Patient/<id>` only: no name, no
identity number, and no address of anyone. Guardians are `RelatedPerson/<id>` without a name.
Professionals are named (they act in their role); other people by display only. Participants
and actions of units the plan's consent does not reach are left out, as in the family's copy.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone, translation

from screening.fhir import BASE

from .family import current_version, shared_content
from .models import Plan, PlanAction, PlanParticipant, PlanVersion

PLAN_IDENTIFIER_SYSTEM = f"{BASE}/NamingSystem/sip"
ACTIVITY_KIND_SYSTEM = f"{BASE}/CodeSystem/sip-activity-kind"
PARTICIPANT_KIND_SYSTEM = f"{BASE}/CodeSystem/sip-participant-kind"

# CarePlan.activity.detail.status (R4 value set care-plan-activity-status).
ACTIVITY_STATUS = {
    PlanAction.Status.PLANNED: "not-started",
    PlanAction.Status.ONGOING: "in-progress",
    PlanAction.Status.DONE: "completed",
    PlanAction.Status.NOT_DONE: "stopped",
}
CARE_TEAM_ID = "careteam"


def _patient(plan: Plan) -> dict[str, str]:
    return {"reference": f"Patient/{plan.child_id}"}


def _date(value: Any) -> str:
    return timezone.localdate(value).isoformat()


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def _care_plan_status(plan: Plan, version: PlanVersion | None) -> str:
    if plan.status == Plan.Status.ENDED:
        return "revoked"  # ended by the family before it reached its goals
    return "active" if version is not None else "draft"


def _member(plan: Plan, participant: PlanParticipant) -> dict[str, Any]:
    kind = participant.kind
    if kind == PlanParticipant.Kind.PROFESSIONAL:
        member = {
            "reference": f"Practitioner/{participant.professional_id}",
            "display": str(participant.professional),
        }
    elif kind == PlanParticipant.Kind.GUARDIAN:
        member = {"reference": f"RelatedPerson/{participant.guardian_id}"}
    elif kind == PlanParticipant.Kind.CHILD:
        member = _patient(plan)
    else:
        member = {"display": participant.name}
    entry: dict[str, Any] = {
        "role": [
            {
                "coding": [
                    _coding(PARTICIPANT_KIND_SYSTEM, kind, str(participant.get_kind_display()))
                ],
                **({"text": participant.role} if participant.role else {}),
            }
        ],
        "member": member,
    }
    if participant.unit is not None:
        entry["onBehalfOf"] = {"display": participant.unit.name}
    return entry


def _care_team(
    plan: Plan, version: PlanVersion | None, participants: list[PlanParticipant]
) -> dict[str, Any]:
    team: dict[str, Any] = {
        "resourceType": "CareTeam",
        "id": CARE_TEAM_ID,
        "status": "active" if plan.status == Plan.Status.ACTIVE else "inactive",
        "subject": _patient(plan),
        "participant": [_member(plan, p) for p in participants],
    }
    if version is not None:
        team["managingOrganization"] = [{"display": version.overall_responsibility.name}]
    return team


def _action_activity(action: PlanAction) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "kind": "Task",
        "code": {"coding": [_coding(ACTIVITY_KIND_SYSTEM, "action", "Action")]},
        "status": ACTIVITY_STATUS[PlanAction.Status(action.status)],
        "description": action.what,
        "scheduledPeriod": {"end": action.due_date.isoformat()},
    }
    performers = []
    if action.responsible_id:
        performers.append(
            {
                "reference": f"Practitioner/{action.responsible_id}",
                "display": str(action.responsible),
            }
        )
    if action.responsible_other:
        performers.append({"display": action.responsible_other})
    if action.unit is not None:
        performers.append({"display": action.unit.name})
    detail["performer"] = performers
    activity: dict[str, Any] = {"detail": detail}
    if action.evaluation:
        activity["progress"] = [{"text": action.evaluation}]
    return activity


def _intervention_activities(version: PlanVersion) -> list[dict[str, Any]]:
    """The interventions the plan says are needed, each with who provides it. The plan does
    not track their progress, so their status is `unknown`."""
    activities = []
    for intervention in version.interventions.select_related("provider").order_by("position", "pk"):
        provider = (
            intervention.provider.name
            if intervention.provider is not None
            else intervention.provider_other
        )
        activities.append(
            {
                "detail": {
                    "code": {
                        "coding": [_coding(ACTIVITY_KIND_SYSTEM, "intervention", "Intervention")]
                    },
                    "status": "unknown",
                    "description": intervention.what,
                    "performer": [{"display": provider}],
                }
            }
        )
    return activities


def care_plan_resource(plan: Plan) -> dict[str, Any]:
    """A FHIR R4 CarePlan for `plan`'s current version (a `draft` before the first one).

    Read `plan` with `select_related("child", "consent")`. Texts are as written; labels of
    codes are in English, whatever the reader's language, as a code system's display is fixed.
    """
    with translation.override("en"):
        version = current_version(plan)
        participants, actions = shared_content(plan, version)
        team = _care_team(plan, version, participants)
        resource: dict[str, Any] = {
            "resourceType": "CarePlan",
            "id": str(plan.pk),
            "meta": {"versionId": str(plan.current_number)},
            "identifier": [{"system": PLAN_IDENTIFIER_SYSTEM, "value": str(plan.pk)}],
            "status": _care_plan_status(plan, version),
            "intent": "plan",
            "title": "SIP",
            "subject": _patient(plan),
            "period": {"start": _date(plan.started_at)},
            "created": plan.started_at.isoformat(),
            "careTeam": [{"reference": f"#{CARE_TEAM_ID}"}],
            "contained": [team],
        }
        if plan.ended_at is not None:
            resource["period"]["end"] = _date(plan.ended_at)
        if version is None:
            return resource
        goals = list(version.goals.order_by("position", "pk"))
        lifecycle = "active" if plan.status == Plan.Status.ACTIVE else "cancelled"
        for number, goal in enumerate(goals, start=1):
            resource["contained"].append(
                {
                    "resourceType": "Goal",
                    "id": f"goal-{number}",
                    "lifecycleStatus": lifecycle,
                    "description": {"text": goal.text},
                    "subject": _patient(plan),
                }
            )
        resource["goal"] = [{"reference": f"#goal-{n}"} for n in range(1, len(goals) + 1)]
        resource["description"] = version.needs
        resource["author"] = {
            "reference": f"Practitioner/{version.coordinator_id}",
            "display": str(version.coordinator),
        }
        resource["contributor"] = [{"reference": f"Practitioner/{version.created_by_id}"}]
        resource["activity"] = _intervention_activities(version) + [
            _action_activity(action) for action in actions
        ]
        resource["note"] = [
            {"text": f"Next follow-up: {version.next_follow_up.isoformat()}"},
        ]
        if not resource["activity"]:
            del resource["activity"]
        return resource
