"""Consent as a basis of access: a property test over custody, consent histories and scopes.

The family therapist works in social services and has no link to the child's own units, so a
consent is the only way in. Whatever happened, access is granted exactly when some consent is
in force (every custodial guardian gave it, nobody withdrew it, today is within its period)
and covers social services (the sector, or the therapist's unit by name); a team-discussion
consent also needs the therapist in that team. The queryset and the decision always agree.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import request_as
from consent import policy
from consent.models import Consent, GuardianConsent
from consent.policy import Basis, Purpose
from consent.services import consent_give, consent_record, consent_withdraw
from directory.models import Sector, Team
from families.models import Child, Custody
from tests import factories

pytestmark = pytest.mark.django_db

# Who a consent names as receivers, besides a referral's service.
SCOPES = ["social_sector", "social_unit", "school_sector", "preschool_unit"]
PERIODS = {  # days from today: (valid_from, valid_until)
    "past": (-400, -1),
    "now": (0, 365),
    "ends_today": (-30, 0),
    "future": (1, 365),
}


@dataclass(frozen=True)
class History:
    purpose: str
    team: str  # for team discussion: "with" (the therapist sits in it) or "without"
    service: str  # for a referral: "social" (provided by social services) or "other"
    scope: str
    givers: tuple[bool, bool]  # which of (up to) two guardians gave it
    withdrawer: int | None  # index of the giver who withdrew, if any
    period: str


# Weighted towards consents that could be in force, so that each rule decides some examples.
histories = st.builds(
    History,
    purpose=st.sampled_from(
        [Purpose.INFORMATION_EXCHANGE, Purpose.TEAM_DISCUSSION, Purpose.REFERRAL, Purpose.SIP]
    ),
    team=st.sampled_from(["with", "without"]),
    service=st.sampled_from(["social", "other"]),
    scope=st.sampled_from(SCOPES),
    givers=st.sampled_from([(True, True)] * 4 + [(True, False), (False, True), (False, False)]),
    withdrawer=st.sampled_from([None, None, None, 0, 1]),
    period=st.sampled_from(["now", "now", "now", "ends_today", "past", "future"]),
)


def _h(**changes: object) -> History:
    """A consent that reaches the therapist, but for `changes`."""
    base = {
        "purpose": Purpose.INFORMATION_EXCHANGE,
        "team": "with",
        "service": "other",
        "scope": "social_sector",
        "givers": (True, True),
        "withdrawer": None,
        "period": "now",
    }
    return History(**{**base, **changes})  # type: ignore[arg-type]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Each rule decides at least one pinned example, whatever the random search finds.
@example(custody="joint_two", consents=[_h()])
@example(custody="joint_two", consents=[_h(givers=(True, False))])
@example(custody="joint_one_registered", consents=[_h(givers=(True, False))])
@example(custody="sole", consents=[_h(scope="social_unit", purpose=Purpose.SIP)])
@example(custody="joint_two", consents=[_h(withdrawer=1)])
@example(custody="joint_two", consents=[_h(period="past")])
@example(custody="joint_two", consents=[_h(period="future")])
@example(custody="joint_two", consents=[_h(period="ends_today")])
@example(custody="joint_two", consents=[_h(scope="school_sector")])
@example(custody="joint_two", consents=[_h(scope="preschool_unit")])
@example(custody="joint_two", consents=[_h(purpose=Purpose.TEAM_DISCUSSION)])
@example(custody="joint_two", consents=[_h(purpose=Purpose.TEAM_DISCUSSION, team="without")])
@example(
    custody="joint_two",
    consents=[_h(purpose=Purpose.REFERRAL, service="social", scope="school_sector")],
)
@example(
    custody="joint_two",
    consents=[_h(purpose=Purpose.REFERRAL, service="other", scope="school_sector")],
)
@example(custody="joint_two", consents=[_h(withdrawer=0), _h(purpose=Purpose.SIP)])
@given(
    custody=st.sampled_from(["sole", "joint_one_registered", "joint_two"]),
    consents=st.lists(histories, min_size=1, max_size=3),
)
def test_another_sector_sees_the_child_exactly_when_a_covering_consent_is_in_force(
    cast, custody, consents
):
    therapist = cast.family_therapist
    today = timezone.localdate()
    with transaction.atomic():
        # A team the therapist does not sit in (the cast's BHT Plus team has them).
        other_team = Team.objects.filter(name="Utan terapeuten").first() or factories.team(
            "Utan terapeuten", Team.Model.OTHER, cast.coordinator, [(cast.nurse, cast.bvc)]
        )
        child = factories.child(bvc=cast.bvc, school=cast.preschool)
        kind = Custody.Kind.SOLE if custody == "sole" else Custody.Kind.JOINT
        guardians = [factories.guardian_of(child, kind=kind)]
        if custody == "joint_two":
            guardians.append(factories.guardian_of(child))
        request = request_as(cast.nurse)

        expected: dict[str, set[int]] = {"any": set()}
        for history in consents:
            start, end = PERIODS[history.period]
            team = service = None
            if history.purpose == Purpose.TEAM_DISCUSSION:
                team = cast.bht_team if history.team == "with" else other_team
            if history.purpose == Purpose.REFERRAL:
                service = (
                    cast.budget_counselling
                    if history.service == "social"
                    else cast.child_psychologist
                )
            consent = consent_record(
                request=request,
                child=child,
                purpose=history.purpose,
                team=team,
                service=service,
                sectors={
                    "social_sector": [Sector.SOCIAL_SERVICES],
                    "school_sector": [Sector.SCHOOL],
                }.get(history.scope, []),
                units={"social_unit": [cast.social], "preschool_unit": [cast.preschool]}.get(
                    history.scope, []
                ),
                valid_from=today + datetime.timedelta(days=start),
                valid_until=today + datetime.timedelta(days=end),
            )
            givers = [g for g, gave in zip(guardians, history.givers, strict=False) if gave]
            for guardian in givers:
                consent_give(
                    request=request,
                    consent=consent,
                    guardian=guardian,
                    method=GuardianConsent.Method.TABLET,
                )
            withdrawn = history.withdrawer is not None and history.withdrawer < len(givers)
            if withdrawn:
                consent_withdraw(
                    request=request, consent=consent, guardian=givers[history.withdrawer]
                )

            # What the rules say, worked out from the history alone.
            in_force = len(givers) == len(guardians) and not withdrawn and start <= 0 <= end
            covers_social = history.scope in ("social_sector", "social_unit") or (
                service is not None and service.provider == cast.social
            )
            in_team = team is None or team == cast.bht_team
            if in_force and covers_social and in_team:
                expected["any"].add(consent.pk)
                expected.setdefault(history.purpose, set()).add(consent.pk)

        for purpose in [Purpose.CARE, *{h.purpose for h in consents}]:
            reaching = expected["any"] if purpose == Purpose.CARE else expected.get(purpose, set())
            decision = policy.decide_child(therapist, child, purpose)
            visible = policy.visible_children(therapist, Child.objects.all(), purpose)
            assert decision.allowed == bool(reaching), (purpose, consents)
            assert visible.filter(pk=child.pk).exists() == decision.allowed, (purpose, consents)
            ids = policy.visible_child_ids(therapist, purpose)
            assert [row["pk"] for row in ids] == ([child.pk] if decision.allowed else [])
            asked = policy.visible_children(therapist, purpose=purpose, among=[child.pk])
            assert asked.exists() == decision.allowed, (purpose, consents)
            assert ids.count() == int(decision.allowed)
            if decision.allowed:
                assert decision.basis == Basis.CONSENT and decision.unit == cast.social
                assert decision.reference in {f"consent:{pk}" for pk in reaching}
                assert Consent.objects.get(pk=int(decision.reference.split(":")[1])).state() == (
                    Consent.State.EFFECTIVE
                )
            else:
                assert decision == policy.Decision.deny()
        assert Child.objects.visible_to(therapist).filter(pk=child.pk).exists() == bool(
            expected["any"]
        )
        # Consents never reach anyone outside: the other municipality's nurse sees nothing.
        assert not Child.objects.visible_to(cast.outsider).filter(pk=child.pk).exists()
        transaction.set_rollback(True)
