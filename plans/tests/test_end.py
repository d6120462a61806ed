"""The family ends the plan: recorded, the consent withdrawn so other sectors lose the plan at
once, the child's own units keep it; only a custodial guardian; never twice; audited."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from audit.models import AccessEvent, Action
from conftest import request_as
from consent.models import Consent
from consent.services import consent_withdraw
from families.models import Guardian
from plans.family import PlanEndError, plan_end
from plans.models import Plan
from plans.tests.plan_factories import sip_family
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Services called directly answer in the active language: these tests read English."""
    with translation.override("en"):
        yield


@pytest.fixture
def family(cast):
    return sip_family(cast)


def fresh(plan: Plan) -> Plan:
    return Plan.objects.select_related("child", "consent").get(pk=plan.pk)


def end_url(plan: Plan) -> str:
    return reverse("plans:plan_end", args=[plan.pk])


def copy_url(plan: Plan) -> str:
    return reverse("plans:family_copy", args=[plan.pk]) + "?sprak=sv"


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_ending_records_who_when_and_why_and_withdraws_the_consent(cast, family):
    plan = plan_end(
        request=request_as(cast.nurse),
        plan=fresh(family.plan),
        guardian=family.mother,
        reason="  Vi klarar oss själva nu.  ",
    )

    stored = Plan.objects.get(pk=family.plan.pk)
    assert stored.status == Plan.Status.ENDED and stored.ended_at is not None
    assert stored.ended_by_guardian == family.mother
    assert stored.end_reason == "Vi klarar oss själva nu."
    assert stored.end_recorded_by == cast.nurse
    assert plan.status == Plan.Status.ENDED
    consent = Consent.objects.get(pk=family.consent.pk)
    assert consent.withdrawn_at is not None and consent.withdrawn_by == family.mother
    assert not Consent.objects.effective().filter(pk=consent.pk).exists()


def test_ending_is_audited_with_the_withdrawal(cast, family):
    plan_end(request=request_as(cast.nurse), plan=fresh(family.plan), guardian=family.father)

    events = list(AccessEvent.objects.order_by("seq").values_list("action", "actor_username"))
    assert events[-2:] == [(Action.CONSENT_WITHDRAW, "nurse"), (Action.PLAN_END, "nurse")]
    end = AccessEvent.objects.get(action=Action.PLAN_END)
    assert (end.child_id, end.basis, end.purpose, end.allowed) == (
        family.child.pk,
        "own_unit",
        "sip",
        True,
    )


def test_other_sectors_lose_the_plan_at_once_and_the_own_units_keep_it(cast, family, as_user):
    therapist = as_user(cast.family_therapist)
    assert therapist.get(copy_url(family.plan)).status_code == 200

    plan_end(request=request_as(cast.nurse), plan=fresh(family.plan), guardian=family.mother)

    assert therapist.get(copy_url(family.plan)).status_code == 404
    assert therapist.get(reverse("plans:fhir_careplan", args=[family.plan.pk])).status_code == 404
    assert as_user(cast.nurse).get(copy_url(family.plan)).status_code == 200
    # The preschool is the child's own unit too.
    assert as_user(cast.special_educator).get(copy_url(family.plan)).status_code == 200


def test_a_guardian_without_custody_cannot_end_the_plan(cast, family):
    other_child = factories.child(bvc=cast.bvc)
    stranger = factories.guardian_of(other_child)

    with pytest.raises(PlanEndError, match="custody"):
        plan_end(request=request_as(cast.nurse), plan=fresh(family.plan), guardian=stranger)

    assert Plan.objects.get(pk=family.plan.pk).status == Plan.Status.ACTIVE
    assert Consent.objects.get(pk=family.consent.pk).withdrawn_at is None
    assert not AccessEvent.objects.filter(action=Action.PLAN_END).exists()


def test_an_ended_plan_cannot_be_ended_again(cast, family):
    plan_end(request=request_as(cast.nurse), plan=fresh(family.plan), guardian=family.mother)

    with pytest.raises(PlanEndError, match="can no longer be changed"):
        plan_end(request=request_as(cast.nurse), plan=fresh(family.plan), guardian=family.father)

    assert Plan.objects.get(pk=family.plan.pk).ended_by_guardian == family.mother
    assert AccessEvent.objects.filter(action=Action.PLAN_END).count() == 1


def test_a_user_the_plan_does_not_reach_cannot_record_the_end(cast, family):
    with pytest.raises(PlanEndError):
        plan_end(request=request_as(cast.outsider), plan=fresh(family.plan), guardian=family.mother)

    assert Plan.objects.get(pk=family.plan.pk).status == Plan.Status.ACTIVE


def test_a_professional_the_consent_reaches_may_record_the_end(cast, family):
    plan_end(
        request=request_as(cast.family_therapist), plan=fresh(family.plan), guardian=family.mother
    )

    end = AccessEvent.objects.get(action=Action.PLAN_END)
    assert (end.basis, end.basis_reference) == ("consent", f"consent:{family.consent.pk}")
    assert Consent.objects.get(pk=family.consent.pk).withdrawn_at is not None


def test_ending_after_the_other_guardian_withdrew_the_consent_still_ends_the_plan(cast, family):
    consent_withdraw(request=request_as(cast.nurse), consent=family.consent, guardian=family.father)

    plan_end(request=request_as(cast.nurse), plan=fresh(family.plan), guardian=family.father)

    assert Plan.objects.get(pk=family.plan.pk).status == Plan.Status.ENDED
    assert Consent.objects.get(pk=family.consent.pk).withdrawn_by == family.father


def test_a_guardian_who_never_gave_the_consent_is_refused_while_it_is_in_force(cast, family):
    """Custody changed after the consent came into force: ending with the new guardian would
    leave the consent in force, so it is refused with a clear message."""
    newcomer = factories.guardian_of(family.child)

    with pytest.raises(PlanEndError, match="has not given"):
        plan_end(request=request_as(cast.nurse), plan=fresh(family.plan), guardian=newcomer)

    assert Plan.objects.get(pk=family.plan.pk).status == Plan.Status.ACTIVE


# --- The page ---------------------------------------------------------------------------------


def test_the_form_offers_the_custodial_guardians_only(cast, family, as_user):
    outsider_guardian = factories.guardian_of(factories.child(bvc=cast.bvc))

    response = english(as_user(cast.nurse)).get(end_url(family.plan))

    body = response.content.decode()
    assert response.status_code == 200
    assert family.mother.full_name in body and family.father.full_name in body
    assert outsider_guardian.full_name not in body
    assert "Hemliga gatan" not in body
    event = AccessEvent.objects.get(actor_username="nurse", action=Action.VIEW_PLAN)
    assert event.allowed and event.child_id == family.child.pk


def test_posting_the_form_ends_the_plan_and_shows_it_ended(cast, family, as_user):
    client = english(as_user(cast.nurse))

    response = client.post(
        end_url(family.plan),
        {"guardian": family.mother.pk, "reason": "Det går bra nu", "confirm": "on"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == end_url(family.plan)
    body = response.content.decode()
    assert "The plan is ended and its consent withdrawn" in body
    assert "The family ended the plan on" in body and "Det går bra nu" in body
    assert Plan.objects.get(pk=family.plan.pk).status == Plan.Status.ENDED
    assert 'name="confirm"' not in body


def test_a_professional_from_another_sector_is_sent_to_the_plan_list_after_ending(
    cast, family, as_user
):
    response = as_user(cast.family_therapist).post(
        end_url(family.plan), {"guardian": family.father.pk, "confirm": "on"}
    )

    assert response.status_code == 302 and response["Location"] == reverse("plans:plan_list")
    assert as_user(cast.family_therapist).get(end_url(family.plan)).status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {"reason": "x"},  # no guardian, not confirmed
        {"guardian": "1", "reason": "x"},  # not confirmed
        {"guardian": "999999", "confirm": "on"},  # no such guardian
        {"guardian": "abc", "confirm": "on"},
        {"confirm": "on", "guardian": "", "reason": "y" * 3000},
    ],
)
def test_bad_input_is_a_form_error_and_changes_nothing(cast, family, as_user, data):
    data = {**data}
    if data.get("guardian") == "1":
        data["guardian"] = str(family.mother.pk)

    response = english(as_user(cast.nurse)).post(end_url(family.plan), data)

    assert response.status_code == 400
    assert "Please correct the following" in response.content.decode()
    assert Plan.objects.get(pk=family.plan.pk).status == Plan.Status.ACTIVE
    assert Consent.objects.get(pk=family.consent.pk).withdrawn_at is None
    assert not AccessEvent.objects.filter(action=Action.PLAN_END).exists()


def test_a_non_custodial_guardian_posted_to_the_form_is_refused(cast, family, as_user):
    stranger = factories.guardian_of(factories.child(bvc=cast.bvc))

    response = english(as_user(cast.nurse)).post(
        end_url(family.plan), {"guardian": stranger.pk, "confirm": "on"}
    )

    assert response.status_code == 400
    assert Plan.objects.get(pk=family.plan.pk).status == Plan.Status.ACTIVE
    assert Guardian.objects.filter(pk=stranger.pk).exists()


def test_posting_again_to_an_ended_plan_is_a_clear_conflict(cast, family, as_user):
    client = english(as_user(cast.nurse))
    data = {"guardian": family.mother.pk, "confirm": "on"}
    client.post(end_url(family.plan), data)

    again = client.post(end_url(family.plan), data)

    assert again.status_code == 409
    assert "The family has already ended this plan." in again.content.decode()
    assert AccessEvent.objects.filter(action=Action.PLAN_END).count() == 1


def test_the_slot_has_no_end_link_once_ended(cast, family):
    from django.template.loader import render_to_string

    plan_end(request=request_as(cast.nurse), plan=fresh(family.plan), guardian=family.mother)
    plan = fresh(family.plan)

    with translation.override("en"):
        html = render_to_string("plans/_family_actions.html", {"plan": plan, "version": None})

    assert "The family ended the plan on" in html
    assert f'href="{end_url(plan)}"' in html  # the details, not the form
    assert ">The family ends the plan<" not in html
