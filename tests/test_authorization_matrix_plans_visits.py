"""Every page of a SIP and of a home-visit family x the cast x the state of the consent.

A SIP: a child of the BVC and the preschool under a SIP consent that names social services. The
child's own units (BVC nurse, preschool special educator) always open the plan; the family
therapist only while the consent is in force; nobody else ever. A home-visit family: the BVC
that enrolled it always; the programme's family therapist only while the family's home-visit
consent is in force. A refused page is a 404 like a missing one, and every attempt is logged.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AccessEvent
from conftest import request_as
from consent.models import Consent
from consent.policy import Purpose
from consent.services import consent_withdraw
from directory.models import Sector
from plans.tests.plan_factories import add_action, plan_for, plan_version
from tests import factories
from visits.tests import core_fixtures as fx
from visits.tests.core_fixtures import accepted, newborn

# The home-visit fixtures (a programme, time frozen), shared with the visits app's tests.
frozen, programme = fx.frozen, fx.programme

USERS = [
    "nurse",
    "special_educator",
    "family_therapist",
    "school_counsellor",
    "coordinator",
    "outsider",
]
CHILD_NAME = "Matrisplansson"
PLAN_VIEWS = [
    "plans:plan_detail",
    "plans:version_list",
    "plans:version_detail",
    "plans:plan_edit",
    "plans:participants",
    "plans:family_copy",
    "plans:family_copy_pdf",
    "plans:fhir_careplan",
    "plans:plan_end",
]
VISIT_VIEWS = ["visits:enrolment", "visits:book", "visits:cancel", "visits:document"]


def _mismatches(client, urls: list[tuple[str, str]], allowed: bool) -> list[str]:  # type: ignore[no-untyped-def]
    found = []
    for view, url in urls:
        before = AccessEvent.objects.count()
        response = client.get(url)
        status = 200 if allowed else 404
        if response.status_code != status:
            found.append(f"{view}: {response.status_code}, expected {status}")
            continue
        body = response.content.decode("utf-8", errors="replace")
        shown = CHILD_NAME in body
        if view not in {"plans:family_copy_pdf", "plans:fhir_careplan"} and shown != allowed:
            found.append(f"{view}: child's name shown={shown}")
        events = AccessEvent.objects.filter(seq__gt=before)
        if not events.filter(allowed=allowed).exists():
            found.append(f"{view}: no {'allowed' if allowed else 'denied'} access event")
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["effective", "withdrawn", "expired"])
def test_every_plan_page_opens_exactly_to_own_units_and_the_consent_while_in_force(
    cast, as_user, state
):
    child = factories.child(bvc=cast.bvc, school=cast.preschool, last_name=CHILD_NAME)
    factories.guardian_of(child)
    factories.guardian_of(child)
    consent = factories.consent(
        child, cast.nurse, Purpose.SIP, state=state, sectors=[Sector.SOCIAL_SERVICES]
    )
    plan = plan_for(child, consent, cast.nurse)
    version = plan_version(plan, cast.nurse)
    add_action(version, "Träffa logoped", responsible=cast.nurse)
    urls = [
        (view, reverse(view, args=[plan.pk, 1] if view == "plans:version_detail" else [plan.pk]))
        for view in PLAN_VIEWS
    ]
    mismatches = []
    for user in USERS:
        allowed = user in {"nurse", "special_educator"} or (
            user == "family_therapist" and state == "effective"
        )
        found = _mismatches(as_user(getattr(cast, user)), urls, allowed)
        mismatches += [f"{user} ({state}) {text}" for text in found]
    assert mismatches == []


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["effective", "withdrawn"])
def test_every_home_visit_page_opens_to_the_bvc_and_to_the_therapist_under_consent(
    cast,
    as_user,
    programme,
    state,
):
    child = newborn(cast, last_name=CHILD_NAME)
    enrolment = accepted(cast, child, programme)
    if state == "withdrawn":
        consent = Consent.objects.get(pk=enrolment.consent_id)
        consent_withdraw(
            request=request_as(cast.nurse),
            consent=consent,
            guardian=consent.givings.order_by("pk").first().guardian,
        )
    visit = enrolment.visits.order_by("due_date").first()
    urls = [
        ("visits:enrolment", reverse("visits:enrolment", args=[enrolment.pk])),
        ("visits:book", reverse("visits:book", args=[visit.pk])),
        ("visits:cancel", reverse("visits:cancel", args=[visit.pk])),
        ("visits:document", reverse("visits:document", args=[visit.pk])),
    ]
    mismatches = []
    for user in USERS:
        allowed = user == "nurse" or (user == "family_therapist" and state == "effective")
        found = _mismatches(as_user(getattr(cast, user)), urls, allowed)
        mismatches += [f"{user} ({state}) {text}" for text in found]
    assert mismatches == []
