"""A plan as a FHIR R4 CarePlan with a contained CareTeam and Goals, checked against the models
of `fhir.resources` (its R4B package), and who may export it."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.goal import Goal

from audit.models import AccessEvent, Action
from plans.fhir import ACTIVITY_KIND_SYSTEM, PLAN_IDENTIFIER_SYSTEM, care_plan_resource
from plans.models import Plan, PlanAction
from plans.tests.plan_factories import (
    add_action,
    add_goal,
    add_intervention,
    add_participant,
    plan_version,
    sip_family,
)
from screening.fhir import BASE

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(cast):
    family = sip_family(cast, first_name="Zelmira")
    plan, nurse = family.plan, cast.nurse
    version = plan_version(
        plan,
        nurse,
        coordinator=cast.family_therapist,
        overall_responsibility=cast.social.organisation,
        needs="Familjen behöver stöd med sömn och rutiner.",
    )
    add_goal(version, "Sover hela natten")
    add_goal(version, "Trivs på förskolan")
    add_intervention(version, "Föräldrastöd", provider=cast.social.organisation)
    add_intervention(version, "Hämtning på torsdagar", provider_other="Mormor")
    for status in PlanAction.Status.values:
        add_action(version, f"Åtgärd {status}", responsible=cast.family_therapist, status=status)
    add_action(version, "Sömndagbok", responsible_other="Mamma")
    add_action(version, "Samtal med elevhälsan", responsible=cast.school_counsellor)
    add_participant(plan, nurse, professional=nurse, role="BVC-sjuksköterska")
    add_participant(plan, nurse, professional=cast.family_therapist, role="Samordnare")
    add_participant(plan, nurse, professional=cast.school_counsellor, role="Skolkurator")
    add_participant(plan, nurse, kind="guardian", guardian=family.mother, role="Mamma")
    add_participant(plan, nurse, kind="child")
    add_participant(plan, nurse, kind="other", name="Nils Granne", contact="070-999 88 77")
    return family


def resource_of(plan: Plan) -> dict:
    return care_plan_resource(Plan.objects.select_related("child", "consent").get(pk=plan.pk))


def contained(resource: dict, kind: str) -> list[dict]:
    return [r for r in resource["contained"] if r["resourceType"] == kind]


def test_the_care_plan_is_valid_fhir_with_its_team_and_goals(cast, family):
    resource = resource_of(family.plan)

    plan = CarePlan.model_validate(resource)
    (team,) = contained(resource, "CareTeam")
    CareTeam.model_validate(team)
    goals = contained(resource, "Goal")
    for goal in goals:
        Goal.model_validate(goal)

    assert (plan.status, plan.intent) == ("active", "plan")
    assert plan.subject.reference == f"Patient/{family.child.pk}"
    assert plan.identifier[0].system == PLAN_IDENTIFIER_SYSTEM
    assert PLAN_IDENTIFIER_SYSTEM.startswith(BASE)
    assert plan.careTeam[0].reference == f"#{team['id']}"
    assert [g.reference for g in plan.goal] == [f"#{g['id']}" for g in goals]
    assert [g["description"]["text"] for g in goals] == ["Sover hela natten", "Trivs på förskolan"]
    assert plan.author.reference == f"Practitioner/{cast.family_therapist.pk}"
    assert plan.period.start is not None and plan.period.end is None
    assert plan.created is not None and plan.meta.versionId == "1"


def test_each_action_is_an_activity_with_its_status_due_date_and_performers(cast, family):
    resource = resource_of(family.plan)

    actions = [
        a["detail"]
        for a in resource["activity"]
        if a["detail"]["code"]["coding"][0]["code"] == "action"
    ]
    by_text = {a["description"]: a for a in actions}
    assert {text: a["status"] for text, a in by_text.items()} == {
        "Åtgärd planned": "not-started",
        "Åtgärd ongoing": "in-progress",
        "Åtgärd done": "completed",
        "Åtgärd not_done": "stopped",
        "Sömndagbok": "not-started",
    }
    planned = by_text["Åtgärd planned"]
    assert (
        planned["scheduledPeriod"]["end"]
        == family.plan.versions.get().actions.first().due_date.isoformat()
    )
    assert planned["performer"] == [
        {
            "reference": f"Practitioner/{cast.family_therapist.pk}",
            "display": str(cast.family_therapist),
        },
        {"display": "Socialtjänsten Ekby"},
    ]
    assert by_text["Sömndagbok"]["performer"] == [{"display": "Mamma"}]
    interventions = [
        a["detail"]
        for a in resource["activity"]
        if a["detail"]["code"]["coding"][0]["code"] == "intervention"
    ]
    assert [(i["description"], i["performer"][0]["display"]) for i in interventions] == [
        ("Föräldrastöd", "Ekby kommun"),
        ("Hämtning på torsdagar", "Mormor"),
    ]
    assert {a["detail"]["code"]["coding"][0]["system"] for a in resource["activity"]} == {
        ACTIVITY_KIND_SYSTEM
    }


def test_the_team_names_each_participant_by_kind_and_leaves_out_units_outside_the_consent(
    cast, family
):
    (team,) = contained(resource_of(family.plan), "CareTeam")

    members = [p["member"] for p in team["participant"]]
    assert {"reference": f"Patient/{family.child.pk}"} in members
    assert {"reference": f"RelatedPerson/{family.mother.pk}"} in members
    assert {"display": "Nils Granne"} in members
    assert {
        "reference": f"Practitioner/{cast.family_therapist.pk}",
        "display": str(cast.family_therapist),
    } in members
    assert f"Practitioner/{cast.school_counsellor.pk}" not in json.dumps(team)
    therapist = next(
        p
        for p in team["participant"]
        if p["member"].get("reference", "").endswith(f"/{cast.family_therapist.pk}")
    )
    assert therapist["onBehalfOf"] == {"display": "Socialtjänsten Ekby"}
    assert therapist["role"][0]["text"] == "Samordnare"
    assert team["managingOrganization"] == [{"display": "Ekby kommun"}]


def test_the_export_carries_no_name_identity_number_or_address_of_the_family(cast, family):
    text = json.dumps(resource_of(family.plan), ensure_ascii=False)

    child, mother = family.child, family.mother
    for secret in (
        "Zelmira",
        child.last_name,
        child.identity_number,
        child.identifier,
        mother.first_name,
        mother.last_name,
        mother.identity_number,
        "Hemliga gatan",
        "99130",
        "address",
        "Samtal med elevhälsan",  # an action of a unit outside the consent
    ):
        assert secret not in text, secret


def test_a_plan_the_family_ended_is_revoked_with_an_end_and_cancelled_goals(family):
    Plan.objects.filter(pk=family.plan.pk).update(
        status=Plan.Status.ENDED, ended_at=timezone.now(), ended_by_guardian=family.mother
    )

    resource = resource_of(family.plan)
    parsed = CarePlan.model_validate(resource)

    assert parsed.status == "revoked" and parsed.period.end is not None
    assert {g["lifecycleStatus"] for g in contained(resource, "Goal")} == {"cancelled"}
    assert contained(resource, "CareTeam")[0]["status"] == "inactive"


def test_a_plan_without_a_version_is_a_valid_draft(cast):
    family = sip_family(cast)

    resource = resource_of(family.plan)
    parsed = CarePlan.model_validate(resource)

    assert parsed.status == "draft" and parsed.activity is None and parsed.goal is None


def test_the_view_serves_fhir_json_and_is_audited(cast, family, as_user):
    response = as_user(cast.family_therapist).get(
        reverse("plans:fhir_careplan", args=[family.plan.pk])
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    CarePlan.model_validate(json.loads(response.content))
    event = AccessEvent.objects.get(action=Action.PLAN_EXPORT)
    assert (event.actor_username, event.basis, event.basis_reference, event.child_id) == (
        "therapist",
        "consent",
        f"consent:{family.consent.pk}",
        family.child.pk,
    )


def test_the_export_runs_a_fixed_number_of_queries_whatever_the_plans_size(cast, family, as_user):
    client = as_user(cast.nurse)
    url = reverse("plans:fhir_careplan", args=[family.plan.pk])
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries.captured_queries)

    small = count()
    version = family.plan.versions.get()
    for n in range(10):
        add_action(version, f"Extra {n}", responsible=cast.family_therapist)
        add_goal(version, f"Mål {n}")
        add_intervention(version, f"Insats {n}", provider_other="Nätverket")
        add_participant(family.plan, cast.nurse, kind="other", name=f"Person {n}")
    assert count() == small
