"""The access policy: own unit sees, nobody else; visible_to and decide_child always agree."""

import datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent import policy
from consent.policy import Basis, Purpose
from directory.models import Membership, Sector
from families.models import Child, ProtectionLevel
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_professional_sees_the_children_of_their_own_unit(cast):
    own = factories.child(bvc=cast.bvc)
    factories.child(bvc=cast.other_bvc)
    assert list(Child.objects.visible_to(cast.nurse)) == [own]
    decision = policy.decide_child(cast.nurse, own, Purpose.CARE)
    assert decision.allowed and decision.basis == Basis.OWN_UNIT and decision.unit == cast.bvc


def test_another_sector_in_the_same_municipality_sees_nothing_without_consent(cast):
    child = factories.child(bvc=cast.bvc)
    assert not Child.objects.visible_to(cast.family_therapist).exists()
    assert policy.decide_child(cast.family_therapist, child, Purpose.CARE) == policy.Decision.deny()


def test_the_preschool_sees_its_own_children(cast):
    child = factories.child(bvc=cast.bvc, school=cast.preschool)
    assert list(Child.objects.visible_to(cast.special_educator)) == [child]


def test_an_ended_membership_gives_no_access(cast):
    child = factories.child(bvc=cast.bvc)
    Membership.objects.filter(professional=cast.nurse).update(
        valid_until=datetime.date.today() - datetime.timedelta(days=1)
    )
    cast.nurse.refresh_from_db()
    assert not Child.objects.visible_to(cast.nurse).exists()
    assert not policy.decide_child(cast.nurse, child, Purpose.CARE).allowed


def test_inactive_and_anonymous_users_see_nothing(cast):
    from django.contrib.auth.models import AnonymousUser

    child = factories.child(bvc=cast.bvc)
    cast.nurse.is_active = False
    assert not Child.objects.visible_to(cast.nurse).exists()
    assert not policy.decide_child(AnonymousUser(), child, Purpose.CARE).allowed
    assert not Child.objects.visible_to(AnonymousUser()).exists()


def test_a_superuser_without_membership_sees_no_child(cast):
    factories.child(bvc=cast.bvc)
    admin = factories.professional("admin", is_superuser=True, is_staff=True)
    assert not Child.objects.visible_to(admin).exists()


def test_a_protected_address_shows_only_inside_the_childs_own_units(cast):
    child = factories.child(bvc=cast.bvc, protection=ProtectionLevel.PROTECTED_ADDRESS)
    assert policy.may_see_address(cast.nurse, child)
    assert not policy.may_see_address(cast.outsider, child)
    assert not policy.may_see_address(cast.family_therapist, child)


def test_only_a_manager_of_the_childs_unit_produces_a_log_extract(cast):
    child = factories.child(bvc=cast.bvc)
    assert policy.may_produce_log_extract(cast.manager, child).allowed
    assert not policy.may_produce_log_extract(cast.nurse, child).allowed
    assert not policy.may_produce_log_extract(cast.outsider, child).allowed


SECTORS = [Sector.CHILD_HEALTH, Sector.PRESCHOOL, Sector.SCHOOL, Sector.SOCIAL_SERVICES]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    unit_count=st.integers(min_value=1, max_value=4),
    memberships=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from([None, -1, 1])),
        max_size=8,
    ),
    children=st.lists(
        st.tuples(st.one_of(st.none(), st.integers(0, 3)), st.one_of(st.none(), st.integers(0, 3))),
        max_size=8,
    ),
    active=st.lists(st.booleans(), min_size=4, max_size=4),
    asked=st.sets(st.integers(0, 8)),
)
def test_access_is_never_granted_without_a_current_own_unit_membership(
    db, unit_count, memberships, children, active, asked
):
    """Random users, units, memberships (current, ended, future) and children."""
    today = datetime.date.today()
    with transaction.atomic():
        units = [factories.unit(sector=SECTORS[i]) for i in range(unit_count)]
        users = [factories.professional(is_active=active[i]) for i in range(4)]
        current: dict[int, set[int]] = {u.pk: set() for u in users}
        for user_index, unit_index, ended in memberships:
            user, unit = users[user_index], units[unit_index % unit_count]
            valid_until = None if ended is None else today + datetime.timedelta(days=ended)
            _, created = Membership.objects.get_or_create(
                professional=user, unit=unit, defaults={"valid_until": valid_until}
            )
            if created and (valid_until is None or valid_until >= today) and user.is_active:
                current[user.pk].add(unit.pk)
        kids = [
            factories.child(
                bvc=units[b % unit_count] if b is not None else None,
                school=units[s % unit_count] if s is not None else None,
            )
            for b, s in children
        ]
        names = {kid.pk: kid.last_name for kid in kids}
        for user in users:
            visible = set(Child.objects.visible_to(user).values_list("pk", flat=True))
            # The ids behind the queryset, which also count the list: each child once, even
            # when reached by both its BVC and its school.
            ids = policy.visible_child_ids(user)
            assert {row["pk"] for row in ids} == visible and ids.count() == len(visible)
            # With the names the start page sorts by: the same children, each once.
            named = list(policy.visible_child_ids(user, columns=("last_name", "first_name")))
            assert sorted(row["pk"] for row in named) == sorted(visible)
            assert all(row["last_name"] == names[row["pk"]] for row in named)
            # Asked about a few children only (as a page that names them asks): the same
            # answer for each of them, and nothing about any other child.
            among = [kids[i].pk for i in asked if i < len(kids)] + [0]  # 0: no such child
            narrowed = Child.objects.visible_to(user, among=among)
            assert set(narrowed.values_list("pk", flat=True)) == visible & set(among)
            assert policy.visible_child_ids(user, among=among).count() == len(visible & set(among))
            for kid in kids:
                decision = policy.decide_child(user, kid, Purpose.CARE)
                expected = bool(current[user.pk] & kid.unit_ids())
                assert (kid.pk in visible) == expected == decision.allowed
                if decision.allowed:
                    assert decision.basis == Basis.OWN_UNIT and decision.unit.pk in kid.unit_ids()
                else:
                    assert decision.basis == Basis.NONE and decision.unit is None
        transaction.set_rollback(True)


def test_a_team_discussion_consent_reaches_only_its_own_teams_meetings(cast):
    child = factories.child(bvc=cast.bvc)
    factories.guardian_of(child)
    factories.guardian_of(child)
    factories.consent(
        child,
        cast.nurse,
        "team_discussion",
        team=cast.hlt_team,
        sectors=[Sector.SOCIAL_SERVICES],
    )
    # The family therapist sits in both teams: the HLT consent shows the child at HLT only.
    at_hlt = policy.decide_children(
        cast.family_therapist, [child], Purpose.TEAM_DISCUSSION, team=cast.hlt_team
    )
    at_bht = policy.decide_children(
        cast.family_therapist, [child], Purpose.TEAM_DISCUSSION, team=cast.bht_team
    )
    assert at_hlt[child.pk].allowed and at_hlt[child.pk].basis == Basis.CONSENT
    assert not at_bht[child.pk].allowed


def test_a_report_of_concern_opens_the_child_to_the_receiving_unit_only(cast):
    from cases.services import report_of_concern_make
    from conftest import request_as

    child = factories.child(bvc=cast.bvc)
    assert not policy.decide_child(cast.family_therapist, child, Purpose.CARE).allowed
    report_of_concern_make(
        request=request_as(cast.nurse), child=child, to_unit=cast.social, what="Blåmärken."
    )
    decision = policy.decide_child(cast.family_therapist, child, Purpose.CARE)
    assert decision.allowed and decision.basis == Basis.REPORT_OF_CONCERN
    assert Child.objects.visible_to(cast.family_therapist).filter(pk=child.pk).exists()
    assert not policy.decide_child(cast.special_educator, child, Purpose.CARE).allowed


def test_teams_are_those_sat_in_or_coordinated_each_once(cast):
    # The coordinator both leads and sits in both teams; the therapist sits in both.
    assert list(policy.teams_of(cast.coordinator).order_by("name")) == [
        cast.bht_team,
        cast.hlt_team,
    ]
    assert set(policy.teams_of(cast.family_therapist)) == {cast.bht_team, cast.hlt_team}
    assert list(policy.teams_of(cast.nurse)) == [cast.bht_team]
    assert not policy.teams_of(cast.outsider).exists()
    leader = factories.professional("leader", units=[cast.bvc])
    cast.hlt_team.coordinator = leader
    cast.hlt_team.save()
    assert list(policy.teams_of(leader)) == [cast.hlt_team]  # leads it without a seat


def test_a_sector_scope_reaches_that_sector_in_the_recording_municipality_only(cast):
    """A consent to share with "social services" means those where the family lives: the
    social services of another municipality see nothing, whatever the consent says."""
    child = factories.child(bvc=cast.bvc)
    factories.guardian_of(child)
    elsewhere = factories.unit(
        "Socialtjänsten Sjöstad", Sector.SOCIAL_SERVICES, cast.other_bvc.municipality
    )
    stranger = factories.professional("stranger", units=[elsewhere], profession="family_therapist")
    consent = factories.consent(
        child, cast.nurse, "information_exchange", sectors=[Sector.SOCIAL_SERVICES]
    )
    assert [str(scope) for scope in consent.scopes.all()] == ["Socialtjänst i Ekby kommun"]
    decision = policy.decide_child(cast.family_therapist, child, Purpose.INFORMATION_EXCHANGE)
    assert decision.allowed and decision.basis == Basis.CONSENT and decision.unit == cast.social
    assert not policy.decide_child(stranger, child, Purpose.CARE).allowed
    assert not Child.objects.visible_to(stranger).exists()
    assert policy.unit_covered_by(consent, cast.social)
    assert not policy.unit_covered_by(consent, elsewhere)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    receivers=st.lists(st.tuples(st.sampled_from(SECTORS), st.booleans()), min_size=1, max_size=5),
    scoped=st.sets(st.sampled_from(SECTORS), max_size=3),
    named=st.sets(st.integers(0, 4)),
)
def test_every_rule_agrees_on_whom_a_consent_scope_reaches(cast, receivers, scoped, named):
    """Random receiving units, in the recording unit's municipality or another, named or
    reached by sector: the list, the decision and the plan checks give the same answer, and
    a sector reaches only its units in the municipality of the unit that recorded it."""
    home, away = cast.bvc.municipality, cast.other_bvc.municipality
    with transaction.atomic():
        child = factories.child(bvc=cast.bvc)
        factories.guardian_of(child)
        units = [
            factories.unit(sector=sector, municipality=home if here else away)
            for sector, here in receivers
        ]
        chosen = [units[i] for i in sorted(named) if i < len(units)]
        if not scoped and not chosen:
            chosen = units[:1]
        consent = factories.consent(
            child, cast.nurse, "information_exchange", sectors=sorted(scoped), units=chosen
        )
        reached = {
            unit.pk
            for unit in units
            if unit in chosen or (unit.sector in scoped and unit.municipality_id == home.pk)
        }
        assert policy.units_covered_by(consent, units) == reached
        for unit in units:
            user = factories.professional(units=[unit])
            decision = policy.decide_child(user, child, Purpose.INFORMATION_EXCHANGE)
            assert decision.allowed == (unit.pk in reached) == policy.unit_covered_by(consent, unit)
            assert {row["pk"] for row in policy.visible_child_ids(user)} == (
                {child.pk} if unit.pk in reached else set()
            )
            if decision.allowed:
                assert decision.basis == Basis.CONSENT and decision.unit == unit
        transaction.set_rollback(True)


def test_every_allowing_decision_names_the_unit_it_goes_through_and_a_denial_none(cast):
    child = factories.child(bvc=cast.bvc)
    assert policy.decide_child(cast.nurse, child, Purpose.CARE).through_unit == cast.bvc
    with pytest.raises(ValueError, match="no unit"):
        _ = policy.decide_child(cast.family_therapist, child, Purpose.CARE).through_unit


def test_only_a_signed_in_active_professional_is_recorded_as_acting(cast):
    from django.contrib.auth.models import AnonymousUser

    assert policy.acting_professional(cast.nurse) == cast.nurse
    with pytest.raises(ValueError, match="professional"):
        policy.acting_professional(AnonymousUser())
    cast.nurse.is_active = False
    with pytest.raises(ValueError, match="professional"):
        policy.acting_professional(cast.nurse)
