"""Starting a SIP: under the guardians' effective SIP consent, with who asked and when, and the
first meeting's deadline from the region's agreement."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from cases.models import Concern
from conftest import request_as
from consent.policy import Basis
from directory.models import Sector
from plans import services
from plans.models import Plan, PlanParticipant, RegionPlanSettings
from plans.services import PlanError
from tests import factories

from .sip_helpers import (
    english,
    english_messages,  # noqa: F401 - a fixture
    family,
    sip_consent,
    started,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


def test_the_childs_own_unit_starts_a_plan_and_the_first_meeting_is_due_by_the_regions_days(
    cast,
):
    region = factories.region_of_unit(cast.bvc)
    RegionPlanSettings.objects.create(region=region, first_meeting_days=14)
    child = family(cast)
    consent = sip_consent(cast, child)
    asked = timezone.localdate() - datetime.timedelta(days=2)

    plan = services.plan_start(
        request=request_as(cast.nurse), child=child, requested_by="Mamma", requested_on=asked
    )

    assert plan.consent == consent
    assert (plan.requested_by, plan.requested_on) == ("Mamma", asked)
    assert (plan.started_by, plan.started_unit) == (cast.nurse, cast.bvc)
    assert plan.first_meeting_due == asked + datetime.timedelta(days=14)
    starter = plan.participants.get()
    assert (starter.kind, starter.professional, starter.unit) == (
        PlanParticipant.Kind.PROFESSIONAL,
        cast.nurse,
        cast.bvc,
    )
    event = AccessEvent.objects.get(action=Action.PLAN_START)
    assert (event.child_id, event.allowed, event.purpose) == (child.pk, True, "sip")
    assert event.basis_reference == f"consent:{consent.pk}"


def test_without_a_regional_agreement_the_installations_default_days_apply(cast, settings):
    settings.SIP_FIRST_MEETING_DAYS = 10
    plan = started(cast)
    assert plan.first_meeting_due == plan.requested_on + datetime.timedelta(days=10)


@pytest.mark.parametrize("state", ["none", "one_of_two", "withdrawn", "expired"])
def test_no_plan_starts_without_an_effective_sip_consent(cast, state):
    child = family(cast)
    sip_consent(cast, child, state=state)
    with pytest.raises(PlanError, match="every guardian with custody"):
        services.plan_start(
            request=request_as(cast.nurse),
            child=child,
            requested_by="BVC",
            requested_on=timezone.localdate(),
        )
    assert not Plan.objects.exists()
    assert not AccessEvent.objects.filter(action=Action.PLAN_START).exists()


def test_a_unit_the_sip_consent_reaches_may_start_the_plan(cast):
    child = family(cast)
    sip_consent(cast, child, sectors=[Sector.SOCIAL_SERVICES])
    plan = started(cast, child, by=cast.family_therapist)
    assert plan.started_unit == cast.social
    event = AccessEvent.objects.get(action=Action.PLAN_START)
    assert event.basis == Basis.CONSENT


def test_a_unit_the_consent_does_not_reach_cannot_start_it(cast):
    child = family(cast)
    sip_consent(cast, child, sectors=[Sector.SOCIAL_SERVICES])
    with pytest.raises(PlanError):
        started(cast, child, by=cast.school_counsellor)
    assert not Plan.objects.exists()


def test_a_request_dated_in_the_future_is_refused(cast):
    child = family(cast)
    sip_consent(cast, child)
    with pytest.raises(PlanError):
        services.plan_start(
            request=request_as(cast.nurse),
            child=child,
            requested_by="BVC",
            requested_on=timezone.localdate() + datetime.timedelta(days=1),
        )


def test_the_start_page_without_consent_says_why_and_links_to_the_consents(cast, as_user):
    child = family(cast)
    response = english(as_user(cast.nurse)).get(reverse("plans:plan_start", args=[child.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is no SIP consent in force" in body
    assert reverse("consent:child_consents", args=[child.pk]) in body
    assert '<form method="post"' not in body


def test_a_sip_started_from_a_case_is_linked_to_it(cast, as_user):
    child = family(cast)
    sip_consent(cast, child)
    concern = Concern.objects.create(
        created_by=cast.nurse,
        unit=cast.bvc,
        sector=cast.bvc.sector,
        age_band="0-1",
        worry="Sover dåligt",
        child=child,
        identified_at=timezone.now(),
        identified_by=cast.nurse,
    )
    client = english(as_user(cast.nurse))
    case_page = client.get(reverse("cases:concern_detail", args=[concern.pk])).content.decode()
    start_url = f"{reverse('plans:plan_start', args=[child.pk])}?arende={concern.pk}"
    assert start_url in case_page

    response = client.post(
        start_url,
        {
            "arende": concern.pk,
            "requested_by": "HLT-teamet",
            "requested_on": timezone.localdate().isoformat(),
        },
    )
    plan = Plan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:plan_detail", args=[plan.pk])
    assert plan.concern == concern
    page = client.get(response["Location"]).content.decode()
    assert plan.first_meeting_due.isoformat() in page


def test_bad_start_input_is_a_form_error_and_nothing_is_saved(cast, as_user):
    child = family(cast)
    sip_consent(cast, child)
    response = english(as_user(cast.nurse)).post(
        reverse("plans:plan_start", args=[child.pk]),
        {"requested_by": "", "requested_on": "not a date"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"requested_by", "requested_on"}
    assert not Plan.objects.exists()


def test_the_child_page_offers_to_start_a_sip_or_says_a_consent_is_needed(cast, as_user):
    child = family(cast)
    client = english(as_user(cast.nurse))
    page = client.get(reverse("families:child_detail", args=[child.pk])).content.decode()
    assert reverse("plans:plan_start", args=[child.pk]) not in page
    assert "needs the guardians' SIP consent" in page

    sip_consent(cast, child)
    page = client.get(reverse("families:child_detail", args=[child.pk])).content.decode()
    assert reverse("plans:plan_start", args=[child.pk]) in page
    plan = started(cast, child)
    page = client.get(reverse("families:child_detail", args=[child.pk])).content.decode()
    assert reverse("plans:plan_detail", args=[plan.pk]) in page
