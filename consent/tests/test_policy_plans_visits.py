"""The access policy for SIP plans, home-visit enrolments and cross-sector records.

Property tests: whatever the consent's state and scope and whoever asks, a plan is open exactly
to the child's own units and to those its own SIP consent reaches while in force; the queryset
(`visible_plans`) and the decision (`decide_plan`) agree. A home-visit note stays in its unit's
record unless an information-exchange consent reaches the reader. An enrolment shows to the
programme's social-services unit only while the family's home-visit consent is in force.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from consent import policy
from consent.policy import Basis, Purpose
from directory.models import Sector
from plans.models import Plan
from tests import factories
from visits.models import Enrolment, Programme, ProgrammeArea

pytestmark = pytest.mark.django_db

READERS = ["nurse", "family_therapist", "special_educator", "school_counsellor", "outsider"]
SCOPES = ["social_sector", "social_unit", "preschool_unit", "school_sector"]
HYPOTHESIS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _scope(cast, scope: str) -> dict[str, list]:
    return {
        "sectors": {
            "social_sector": [Sector.SOCIAL_SERVICES],
            "school_sector": [Sector.SCHOOL],
        }.get(scope, []),
        "units": {"social_unit": [cast.social], "preschool_unit": [cast.preschool]}.get(scope, []),
    }


def _covers(cast, scope: str, reader) -> bool:
    """Does a consent with `scope` reach `reader`, worked out by hand from the cast?"""
    return {
        "family_therapist": scope in ("social_sector", "social_unit"),
        "special_educator": scope == "preschool_unit",
        "school_counsellor": False,  # student health is not school
    }.get(reader, False)


def _plan(cast, child, consent) -> Plan:
    today = timezone.localdate()
    return Plan.objects.create(
        child=child,
        consent=consent,
        requested_by="Vårdnadshavarna",
        requested_on=today,
        started_by=cast.nurse,
        started_unit=cast.bvc,
        first_meeting_due=today + datetime.timedelta(days=21),
    )


@HYPOTHESIS
@example(reader="family_therapist", state="effective", scope="social_sector", own_school=False)
@example(reader="family_therapist", state="withdrawn", scope="social_sector", own_school=False)
@example(reader="special_educator", state="none", scope="social_unit", own_school=True)
@example(reader="outsider", state="effective", scope="social_sector", own_school=False)
@given(
    reader=st.sampled_from(READERS),
    state=st.sampled_from(factories.CONSENT_STATES),
    scope=st.sampled_from(SCOPES),
    own_school=st.booleans(),
)
def test_a_plan_is_open_to_the_childs_own_units_and_to_whom_its_consent_reaches_while_in_force(
    cast, reader, state, scope, own_school
):
    with transaction.atomic():
        child = factories.child(bvc=cast.bvc, school=cast.preschool if own_school else None)
        factories.guardian_of(child)
        factories.guardian_of(child)
        consent = factories.consent(
            child, cast.nurse, Purpose.SIP, state=state, **_scope(cast, scope)
        )
        plan = _plan(cast, child, consent)
        user = getattr(cast, reader)

        own = reader == "nurse" or (reader == "special_educator" and own_school)
        expected = own or (state == "effective" and _covers(cast, scope, reader))
        decision = policy.decide_plan(user, plan)
        assert decision.allowed == expected
        assert policy.visible_plans(user).filter(pk=plan.pk).exists() == expected
        # Asked about this plan only (the "To do" page asks about the user's own plans).
        assert policy.visible_plans(user, among=[plan.pk]).exists() == expected
        assert not policy.visible_plans(user, among=[plan.pk + 1000]).exists()
        if decision.allowed:
            assert decision.basis == (Basis.OWN_UNIT if own else Basis.CONSENT)
            if not own:
                assert decision.reference == f"consent:{consent.pk}"
                assert decision.unit is not None
        transaction.set_rollback(True)


def test_only_a_sip_consent_opens_a_plan_to_another_sector(cast):
    child = factories.child(bvc=cast.bvc)
    factories.guardian_of(child)
    sip = factories.consent(child, cast.nurse, Purpose.SIP, sectors=[Sector.PRESCHOOL])
    factories.consent(
        child, cast.nurse, Purpose.INFORMATION_EXCHANGE, sectors=[Sector.SOCIAL_SERVICES]
    )
    plan = _plan(cast, child, sip)
    # The therapist may see the child (information exchange), but not the plan.
    assert policy.decide_child(cast.family_therapist, child, Purpose.CARE).allowed
    assert not policy.decide_plan(cast.family_therapist, plan).allowed
    assert not policy.visible_plans(cast.family_therapist).filter(pk=plan.pk).exists()


@pytest.mark.parametrize("state", factories.CONSENT_STATES)
def test_a_plan_is_started_only_while_a_sip_consent_is_in_force(cast, state):
    child = factories.child(bvc=cast.bvc)
    factories.guardian_of(child)
    factories.guardian_of(child)
    consent = factories.consent(child, cast.nurse, Purpose.SIP, state=state, units=[cast.social])
    for user in (cast.nurse, cast.family_therapist):
        decision = policy.may_start_plan(user, child)
        assert decision.allowed == (state == "effective")
        if decision.allowed:
            assert decision.reference == f"consent:{consent.pk}"
    assert not policy.may_start_plan(cast.outsider, child).allowed
    assert not policy.may_start_plan(cast.special_educator, child).allowed


def test_unit_covered_by_names_the_unit_or_its_sector(cast):
    child = factories.child(bvc=cast.bvc)
    factories.guardian_of(child)
    consent = factories.consent(
        child, cast.nurse, Purpose.SIP, sectors=[Sector.SOCIAL_SERVICES], units=[cast.school]
    )
    assert policy.unit_covered_by(consent, cast.social)
    assert policy.unit_covered_by(consent, cast.school)
    assert not policy.unit_covered_by(consent, cast.preschool)
    assert not policy.unit_covered_by(consent, cast.student_health)


@HYPOTHESIS
@example(note_unit="social", reader="nurse", state="effective", scope="social_sector")
@example(note_unit="social", reader="nurse", state="none", scope="social_sector")
@example(note_unit="bvc", reader="family_therapist", state="effective", scope="social_unit")
@example(note_unit="bvc", reader="family_therapist", state="withdrawn", scope="social_unit")
@given(
    note_unit=st.sampled_from(["bvc", "social"]),
    reader=st.sampled_from(READERS),
    state=st.sampled_from(factories.CONSENT_STATES),
    scope=st.sampled_from([*SCOPES, "bvc_unit"]),
)
def test_a_record_crosses_to_another_unit_only_under_an_information_exchange_consent(
    cast, note_unit, reader, state, scope
):
    with transaction.atomic():
        child = factories.child(bvc=cast.bvc)
        factories.guardian_of(child)
        factories.guardian_of(child)
        scopes = _scope(cast, scope) if scope != "bvc_unit" else {"units": [cast.bvc]}
        consent = factories.consent(
            child, cast.nurse, Purpose.INFORMATION_EXCHANGE, state=state, **scopes
        )
        unit = getattr(cast, note_unit)
        user = getattr(cast, reader)
        own = (note_unit, reader) in {("bvc", "nurse"), ("social", "family_therapist")}
        reaches = {
            "nurse": scope == "bvc_unit",
            "family_therapist": scope in ("social_sector", "social_unit"),
            "special_educator": scope == "preschool_unit",
        }.get(reader, False)
        decision = policy.may_read_record(user, child, unit)
        assert decision.allowed == (own or (state == "effective" and reaches))
        if decision.allowed and not own:
            assert decision.basis == Basis.CONSENT
            assert decision.reference == f"consent:{consent.pk}"
        transaction.set_rollback(True)


def test_the_childs_own_bvc_does_not_read_social_services_notes_without_consent(cast):
    child = factories.child(bvc=cast.bvc)
    factories.guardian_of(child)
    # A home-visit consent lets social services see the family; it shares no records.
    factories.consent(child, cast.nurse, Purpose.HOME_VISITS, units=[cast.social])
    assert not policy.may_read_record(cast.nurse, child, cast.social).allowed
    assert not policy.may_read_record(cast.family_therapist, child, cast.bvc).allowed


@pytest.mark.parametrize("state", factories.CONSENT_STATES)
def test_an_enrolment_shows_to_social_services_only_under_the_home_visit_consent(cast, state):
    region = factories.region_of_unit(cast.bvc)
    programme = Programme.objects.create(
        name="Utökat hembesöksprogram",
        region=region,
        municipality=cast.social.municipality,
        partner_unit=cast.social,
        children_born_from=datetime.date(2020, 1, 1),
    )
    area = ProgrammeArea.objects.create(
        programme=programme, name="Ekby", postal_code_prefix="991", rule="all"
    )
    child = factories.child(bvc=cast.bvc)
    factories.guardian_of(child)
    factories.guardian_of(child)
    consent = factories.consent(
        child, cast.nurse, Purpose.HOME_VISITS, state=state, units=[cast.social]
    )
    enrolment = Enrolment.objects.create(
        child=child,
        programme=programme,
        unit=cast.bvc,
        area=area,
        rule=area.rule,
        first_time_parents=True,
        offered_by=cast.nurse,
        status=Enrolment.Status.ACCEPTED,
        decided_at=timezone.now(),
        consent=consent,
    )
    assert policy.visible_enrolments(cast.nurse).filter(pk=enrolment.pk).exists()
    assert policy.visible_enrolments(cast.family_therapist).filter(pk=enrolment.pk).exists() == (
        state == "effective"
    )
    for outsider in (cast.outsider, cast.special_educator, cast.school_counsellor):
        assert not policy.visible_enrolments(outsider).filter(pk=enrolment.pk).exists()
    assert policy.may_offer_programme(cast.nurse, child).allowed
    assert not policy.may_offer_programme(cast.family_therapist, child).allowed
