"""Reads of plans, always through the policy's scope (`policy.visible_plans`), always audited.

Out of scope is a 404 exactly like a missing plan: the plan is read through the scoped
queryset, never fetched first and compared afterwards. Lists run a fixed number of queries
whatever their length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import F, Prefetch, QuerySet
from django.http import Http404, HttpRequest

from audit.models import Action as AuditAction
from audit.services import Access, access_log, access_log_many
from consent import policy
from consent.policy import Basis, Decision, Purpose

from .models import (
    Plan,
    PlanAction,
    PlanAttendance,
    PlanIntervention,
    PlanMeeting,
    PlanParticipant,
    PlanVersion,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from directory.models import Professional

WORKLIST_LIMIT = 50


def plan_for_request(
    request: HttpRequest, pk: int, *, action: str = AuditAction.VIEW_PLAN
) -> tuple[Plan, Decision]:
    """The plan `pk` if the user may open it, with the policy's decision; 404 otherwise (the
    same for a missing plan). The access, or the refused attempt, is logged either way."""
    user = request.user
    plan = (
        policy.visible_plans(user)
        .select_related(
            "child__bvc_unit", "child__school_unit", "consent", "started_by", "started_unit"
        )
        .filter(pk=pk)
        .first()
    )
    decision = policy.decide_plan(user, plan) if plan is not None else Decision.deny()
    if plan is None or not decision.allowed:
        access_log(
            request=request,
            action=action,
            purpose=Purpose.SIP,
            decision=Decision(allowed=False, basis=Basis.NONE, reference=f"plan:{pk}"),
            child_id=plan.child_id if plan is not None else None,
        )
        raise Http404
    access_log(
        request=request, action=action, purpose=Purpose.SIP, decision=decision, child=plan.child
    )
    return plan, decision


def participants_of(plan: Plan) -> list[PlanParticipant]:
    """Everyone who takes or took part, with whom and which unit (one query)."""
    return list(
        plan.participants.select_related("professional", "unit", "guardian").order_by(
            "removed_at", "kind", "pk"
        )
    )


def meetings_of(plan: Plan) -> list[PlanMeeting]:
    return list(
        plan.meetings.prefetch_related(
            Prefetch(
                "attendance",
                queryset=PlanAttendance.objects.select_related(
                    "participant__professional", "participant__guardian"
                ).order_by("participant__kind", "participant_id"),
            )
        ).order_by("starts_at", "pk")
    )


def version_for_page(plan: Plan, number: int) -> PlanVersion | None:
    """One version with everything it shows, in a fixed number of queries."""
    return (
        PlanVersion.objects.filter(plan=plan, number=number)
        .select_related(
            "created_by", "created_unit", "overall_responsibility", "coordinator", "meeting"
        )
        .prefetch_related(
            "goals",
            Prefetch("interventions", queryset=_interventions()),
            Prefetch("actions", queryset=_actions()),
        )
        .first()
    )


def _interventions() -> QuerySet[PlanIntervention]:
    return PlanIntervention.objects.select_related("provider").order_by("position", "pk")


def _actions() -> QuerySet[PlanAction]:
    return PlanAction.objects.select_related("unit", "responsible", "carried_from").order_by(
        "position", "pk"
    )


def versions_of(plan: Plan) -> list[PlanVersion]:
    return list(
        plan.versions.select_related("created_by", "created_unit", "meeting").order_by("-number")
    )


def _log_listed(request: HttpRequest, plans: list[Plan]) -> None:
    """Each listed plan names its child: one event per plan, in one append."""
    decisions = policy.decide_plans(request.user, plans)
    access_log_many(
        request=request,
        accesses=[
            Access(AuditAction.VIEW_PLAN, Purpose.SIP, decisions[plan.pk], plan.child)
            for plan in plans
            if decisions[plan.pk].allowed
        ],
    )


def plans_for_list(user: Professional | AnonymousUser) -> QuerySet[Plan]:
    """The plan list: every plan the user may open, active first, soonest follow-up first."""
    return (
        policy.visible_plans(user)
        .select_related("child", "started_unit")
        .order_by("status", F("next_follow_up").asc(nulls_first=True), "first_meeting_due", "pk")
    )


def log_listed_plans(request: HttpRequest, plans: list[Plan]) -> None:
    _log_listed(request, plans)


@dataclass(frozen=True)
class Worklist:
    rows: list[Plan]
    more: bool


def my_plans(request: HttpRequest, limit: int = WORKLIST_LIMIT) -> Worklist:
    """The user's active plans for the "To do" page: those they take part in as a
    professional, or coordinate in the current version; still within the policy's scope (a
    withdrawn consent takes them off at once). Soonest date first; a fixed number of queries."""
    user = request.user
    if not user.is_authenticated:  # never: only signed-in pages show the worklist
        return Worklist(rows=[], more=False)
    # Two indexed paths from the user (a UNION, not an OR of two joins over every plan), read
    # first: the policy then looks up these few plans by their ids (as a subquery, the
    # database went the other way, through every plan of the user's units).
    taking_part = PlanParticipant.objects.filter(professional=user, removed_at__isnull=True)
    coordinating = PlanVersion.objects.filter(coordinator=user, number=F("plan__current_number"))
    mine = set(
        taking_part.order_by()
        .values_list("plan_id", flat=True)
        .union(coordinating.order_by().values_list("plan_id", flat=True))
    )
    plans = list(
        policy.visible_plans(user, among=mine)
        .active()
        .select_related("child")
        .order_by(F("next_follow_up").asc(nulls_first=True), "first_meeting_due", "pk")[: limit + 1]
    )
    rows = plans[:limit]
    _log_listed(request, rows)
    return Worklist(rows=rows, more=len(plans) > limit)
