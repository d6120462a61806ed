"""Small, stable helpers that build plans straight from the models (no services), for tests.

`sip_family(cast)` is the usual set-up: a child of the cast's BVC and preschool with two
guardians in joint custody, an effective SIP consent that covers social services, and a plan
started by the nurse. `plan_version(...)` saves the next version, as the services would.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TypedDict, Unpack

from django.utils import timezone

from consent.models import Consent
from consent.policy import Purpose
from directory.models import Organisation, Professional, Sector, Unit
from families.models import Child, Guardian
from plans.models import (
    Plan,
    PlanAction,
    PlanGoal,
    PlanIntervention,
    PlanParticipant,
    PlanVersion,
)
from tests import factories


@dataclass
class SipFamily:
    child: Child
    mother: Guardian
    father: Guardian
    consent: Consent
    plan: Plan


def first_unit(person: Professional) -> Unit:
    """The professional's first unit, which the helpers rely on the cast giving everyone."""
    unit = person.units.order_by("pk").first()
    if unit is None:
        raise ValueError(f"{person} has no unit")
    return unit


def plan_for(child: Child, consent: Consent, started_by: Professional, **extra: object) -> Plan:
    """An active plan for `child` under `consent`, started by `started_by` in their first unit."""
    unit = first_unit(started_by)
    today = timezone.localdate()
    fields: dict[str, object] = {
        "requested_by": "Vårdnadshavarna",
        "requested_on": today,
        "first_meeting_due": today + datetime.timedelta(days=21),
        **extra,
    }
    return Plan.objects.create(
        child=child, consent=consent, started_by=started_by, started_unit=unit, **fields
    )


class ChildFields(TypedDict, total=False):
    """What the tests set on the child; the factory fills in the rest."""

    first_name: str
    last_name: str
    birth: datetime.date


def sip_family(
    cast,
    *,
    sectors: tuple[str, ...] = (Sector.SOCIAL_SERVICES,),
    **child_fields: Unpack[ChildFields],
) -> SipFamily:
    """A child of the BVC and the preschool, two custodial guardians, an effective SIP consent
    for `sectors`, and an active plan started by the nurse."""
    child = factories.child(bvc=cast.bvc, school=cast.preschool, **child_fields)
    mother, father = factories.guardian_of(child), factories.guardian_of(child)
    consent = factories.consent(child, cast.nurse, Purpose.SIP, sectors=list(sectors))
    return SipFamily(child, mother, father, consent, plan_for(child, consent, cast.nurse))


def plan_version(
    plan: Plan,
    author: Professional,
    *,
    coordinator: Professional | None = None,
    overall_responsibility: Organisation | None = None,
    next_follow_up: datetime.date | None = None,
    needs: str = "Familjen behöver stöd i vardagen.",
    **fields: object,
) -> PlanVersion:
    """The plan's next version (number + 1), and the plan's counters moved on, as a save does."""
    unit = first_unit(author)
    follow_up = next_follow_up or timezone.localdate() + datetime.timedelta(days=60)
    version = PlanVersion.objects.create(
        plan=plan,
        number=plan.current_number + 1,
        kind=PlanVersion.Kind.FIRST if plan.current_number == 0 else PlanVersion.Kind.REVISION,
        created_by=author,
        created_unit=unit,
        needs=needs,
        overall_responsibility=overall_responsibility or unit.organisation,
        coordinator=coordinator or author,
        next_follow_up=follow_up,
        **fields,
    )
    Plan.objects.filter(pk=plan.pk).update(current_number=version.number, next_follow_up=follow_up)
    plan.current_number, plan.next_follow_up = version.number, follow_up
    return version


def add_participant(plan: Plan, added_by: Professional, **fields: object) -> PlanParticipant:
    """A participant; a professional's kind and unit (their first unit) are filled in."""
    person = fields.get("professional")
    if person is not None:
        fields.setdefault("kind", PlanParticipant.Kind.PROFESSIONAL)
        fields.setdefault("unit", person.units.order_by("pk").first())  # type: ignore[attr-defined]
    return PlanParticipant.objects.create(plan=plan, added_by=added_by, **fields)


def add_goal(version: PlanVersion, text: str) -> PlanGoal:
    return PlanGoal.objects.create(version=version, text=text, position=version.goals.count())


def add_intervention(version: PlanVersion, what: str, **fields: object) -> PlanIntervention:
    if "provider_other" in fields:
        fields.setdefault("provider_kind", PlanIntervention.ProviderKind.OTHER)
    else:
        fields.setdefault("provider_kind", PlanIntervention.ProviderKind.MUNICIPALITY)
    return PlanIntervention.objects.create(version=version, what=what, **fields)


def add_action(version: PlanVersion, what: str, **fields: object) -> PlanAction:
    """An action due in two weeks; the person's unit is their first one unless given."""
    person = fields.get("responsible")
    if person is not None:
        fields.setdefault("unit", person.units.order_by("pk").first())  # type: ignore[attr-defined]
    fields.setdefault("due_date", timezone.localdate() + datetime.timedelta(days=14))
    return PlanAction.objects.create(version=version, what=what, **fields)
