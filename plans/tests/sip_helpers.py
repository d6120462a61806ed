"""Shared set-ups of the SIP core tests: a child with two guardians in joint custody, the
guardians' SIP consent, a started plan, and plan content to save."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from conftest import request_as
from consent.policy import Purpose
from directory.models import Organisation, Sector
from families.models import Child
from plans import services
from plans.models import Plan, PlanIntervention, PlanParticipant
from plans.services import ActionRow, InterventionRow, PlanContent
from tests import factories


def family(cast: Any, **extra: Any) -> Child:
    """A child of the cast's BVC and preschool, with two guardians in joint custody."""
    child = factories.child(bvc=cast.bvc, school=cast.preschool, **extra)
    factories.guardian_of(child)
    factories.guardian_of(child)
    return child


def sip_consent(cast: Any, child: Child, *, state: str = "effective", **scope: Any):
    scope.setdefault("sectors", [Sector.SOCIAL_SERVICES])
    return factories.consent(child, cast.nurse, Purpose.SIP, state=state, **scope)


def started(cast: Any, child: Child | None = None, *, by: Any = None, **scope: Any) -> Plan:
    """A plan started by the nurse (or `by`), under an effective SIP consent."""
    child = child or family(cast)
    if not child.consents.filter(purpose=Purpose.SIP).exists():
        sip_consent(cast, child, **scope)
    return services.plan_start(
        request=request_as(by or cast.nurse),
        child=child,
        requested_by="Vårdnadshavarna",
        requested_on=timezone.localdate(),
    )


def with_therapist(cast: Any, plan: Plan) -> PlanParticipant:
    return services.plan_participant_add(
        request=request_as(cast.nurse),
        plan=plan,
        kind=PlanParticipant.Kind.PROFESSIONAL,
        professional=cast.family_therapist,
        unit=cast.social,
        role="Familjebehandlare",
    )


def municipality() -> Organisation:
    return Organisation.objects.get(name="Ekby kommun")


def content(plan: Plan, **overrides: Any) -> PlanContent:
    """Plan content with a goal, an intervention and an action for the nurse."""
    nurse_part = plan.participants.get(professional=plan.started_by)
    values: dict[str, Any] = {
        "needs": "Sover dåligt, oro i förskolan.",
        "overall_responsibility": municipality(),
        "coordinator": plan.started_by,
        "next_follow_up": timezone.localdate() + datetime.timedelta(days=42),
        "child_voice": "Jag vill sova i min egen säng.",
        "child_voice_method": "separately",
        "child_voice_by": "BVC-sjuksköterskan",
        "family_view": "Vi vill ha hjälp med kvällarna.",
        "goals": ["Barnet sover hela natten", ""],
        "interventions": [
            InterventionRow(
                what="Föräldrastöd",
                provider_kind=PlanIntervention.ProviderKind.MUNICIPALITY,
                provider=municipality(),
            ),
            InterventionRow(
                what="Mormor hämtar på tisdagar",
                provider_kind=PlanIntervention.ProviderKind.OTHER,
                provider_other="Mormor",
            ),
        ],
        "actions": [
            ActionRow(
                what="Sömnsamtal med familjen",
                due_date=timezone.localdate() + datetime.timedelta(days=14),
                participant=nurse_part,
            ),
            ActionRow(
                what="Föra sömndagbok",
                due_date=timezone.localdate() + datetime.timedelta(days=30),
                responsible_other="Vårdnadshavarna",
            ),
        ],
    }
    values.update(overrides)
    return PlanContent(**values)


def save(cast: Any, plan: Plan, based_on: int | None = None, by: Any = None, **overrides: Any):
    plan.refresh_from_db()
    return services.plan_save(
        request=request_as(by or cast.nurse),
        plan=plan,
        based_on=plan.current_number if based_on is None else based_on,
        content=content(plan, **overrides),
    )


def english(client):
    """The view tests read English texts: the client chooses English, as a user can."""
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def english_messages():
    """Service messages in English whatever language an earlier request left active."""
    from django.utils import translation

    with translation.override("en"):
        yield
