"""The synthetic population (`manage.py generate_population`): shape, identity, resumability,
and the access policy on what it makes. Small N keeps these quick; the timings at scale are in
bench/results/population.json."""

import datetime
import hashlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, Q

from audit.models import AccessEvent
from cases.models import Concern, Referral, ReportOfConcern
from consent.models import Consent
from demo.models import PopulationBatch, PopulationRun
from demo.population import NATIONAL_MUNICIPALITIES, NATIONAL_REGIONS, Shape
from directory.models import Membership, Organisation, Professional, Sector, Team, Unit
from families.models import Child, Custody, Guardian
from meetings.models import AgendaItem, Meeting
from plans.models import Plan, PlanAction, PlanVersion
from screening.models import Answer, Response, Screening
from visits.models import Enrolment, HomeVisit, VisitNote

pytestmark = pytest.mark.django_db

CHILDREN = 900
BATCH = 300


def _generate(**options):
    options.setdefault("children", CHILDREN)
    options.setdefault("batch_size", BATCH)
    call_command("generate_population", verbosity=0, **options)


def _snapshot():
    """What the population holds, by content rather than by primary key (keys from a rolled
    back run are not reused on PostgreSQL)."""
    models = [Child, Guardian, Custody, Consent, Screening, Response, Answer, Concern, Referral]
    models += [ReportOfConcern, AgendaItem, Plan, PlanVersion, PlanAction, Enrolment, HomeVisit]
    counts = {m.__name__: m.objects.count() for m in models}
    digest = hashlib.sha256()
    for row in Child.objects.order_by("reserve_number").values_list(
        "reserve_number", "first_name", "birth_date", "bvc_unit__name", "school_unit__name"
    ):
        digest.update(repr(row).encode())
    for row in Consent.objects.order_by(
        "child__reserve_number", "purpose", "valid_from"
    ).values_list(
        "child__reserve_number", "purpose", "valid_from", "effective_from", "withdrawn_at"
    ):
        digest.update(repr(row).encode())
    return counts, digest.hexdigest()


def test_the_shape_grows_with_the_population_to_a_national_one():
    assert Shape.of(300) == Shape(300, 1, 1)
    national = Shape.of(2_000_000)
    assert (national.regions, national.municipalities) == (
        NATIONAL_REGIONS,
        NATIONAL_MUNICIPALITIES,
    )
    bvcs, preschools, schools = zip(*(national.units(i) for i in range(290)), strict=True)
    # One BVC per ~1,500 children 0-6, one preschool per ~100 aged 1-5, one school per ~400.
    assert 500 <= sum(bvcs) <= 650 and 5_500 <= sum(preschools) <= 6_300
    assert 2_700 <= sum(schools) <= 3_200
    assert national.units(0)[0] > 20 * national.units(289)[0]  # a city and a small town


def test_a_generated_population_has_families_consents_screenings_plans_and_home_visits():
    _generate()
    assert Child.objects.count() == CHILDREN
    assert PopulationBatch.objects.count() == CHILDREN // BATCH
    assert Organisation.objects.filter(kind="region", code__startswith="SYN-").count() == 1

    # Synthetic people carry reserve numbers only, never a personnummer.
    assert not Child.objects.filter(identity_number__isnull=False).exists()
    assert not Guardian.objects.filter(identity_number__isnull=False).exists()
    assert not Child.objects.exclude(reserve_number__regex=r"^SYN-C[0-9]{9}$").exists()
    assert not Guardian.objects.exclude(reserve_number__regex=r"^SYN-G[0-9]{9}$").exists()

    # Ages 0-16, spread over every birth year.
    anchor = PopulationRun.objects.get().anchor_date
    ages = {(anchor - b).days // 365 for b in Child.objects.values_list("birth_date", flat=True)}
    assert ages == set(range(17))

    # Every child has one or two custodial guardians: one with sole custody, or two jointly.
    per_child = Child.objects.annotate(
        n_guardians=Count("custodies"),
        sole=Count("custodies", filter=Q(custodies__kind="sole")),
    )
    assert set(per_child.values_list("n_guardians", "sole").distinct()) == {(1, 1), (2, 0)}
    # Siblings share their guardians (first-time-parent rule and sibling query have data).
    assert Guardian.objects.annotate(n=Count("custodies")).filter(n__gte=2).count() > 50

    states = {consent.state() for consent in Consent.objects.all()}
    assert {"pending", "effective", "withdrawn", "expired"} <= states
    assert Consent.objects.filter(purpose="home_visits", enrolments__isnull=False).exists()

    assert (
        Screening.objects.filter(
            child__birth_date__lt=anchor - datetime.timedelta(days=7 * 365)
        ).count()
        == 0
    )
    assert Response.objects.count() > Screening.objects.count() > 100
    assert 0 < Answer.objects.count() <= 0.2 * 18 * Response.objects.count()

    assert Concern.objects.filter(child__isnull=True).exists()
    assert Concern.objects.filter(child__isnull=False).exists()
    assert AgendaItem.objects.filter(meeting__closed_at__isnull=False).exists()
    assert Referral.objects.filter(first_contact_at__isnull=False).exists()
    assert set(Team.objects.values_list("working_model", flat=True)) == {"bht_plus", "hlt"}
    assert Meeting.objects.filter(closed_at__isnull=True).exists()

    assert PlanVersion.objects.filter(number__gte=2).exists()
    assert PlanAction.objects.filter(carried_from__isnull=False).exists()
    assert Plan.objects.filter(status="ended").exists() or Plan.objects.count() >= 2
    assert Enrolment.objects.filter(status="accepted").exists()
    assert HomeVisit.objects.filter(done_at__isnull=False).exists()
    assert VisitNote.objects.values("unit__sector").distinct().count() == 2

    # The generator is not a user: it writes no access events.
    assert not AccessEvent.objects.exists()
    # Staff have no usable password (and no second-factor device).
    assert not any(p.has_usable_password() for p in Professional.objects.all()[:50])


def test_a_generated_bvc_nurse_sees_her_units_children_and_those_a_consent_reaches_her():
    _generate(children=BATCH)
    nurse = Professional.objects.filter(profession="bvc_nurse").order_by("pk").first()
    unit = Membership.objects.get(professional=nurse).unit
    own = set(
        Child.objects.filter(Q(bvc_unit=unit) | Q(school_unit=unit)).values_list("pk", flat=True)
    )
    reached = {
        c.child_id
        for c in Consent.objects.effective().filter(scopes__unit=unit)
        if c.team_id is None or c.team.memberships.filter(professional=nurse).exists()
    }
    visible = set(Child.objects.visible_to(nurse).values_list("pk", flat=True))
    assert own and visible == own | reached
    # Another BVC's children stay out of sight unless a consent names her unit.
    others = Unit.objects.filter(sector=Sector.CHILD_HEALTH).exclude(pk=unit.pk)
    elsewhere = set(Child.objects.filter(bvc_unit__in=others).values_list("pk", flat=True))
    assert visible & elsewhere <= reached


def test_a_second_run_adds_nothing_and_an_interrupted_run_finishes_like_an_uninterrupted_one():
    with transaction.atomic():
        _generate()
        complete = _snapshot()
        _generate()
        assert _snapshot() == complete
        transaction.set_rollback(True)

    _generate(stop_after_batches=1)
    assert PopulationBatch.objects.count() == 1
    assert Child.objects.count() == BATCH
    assert PopulationRun.objects.get().finished_at is None
    _generate()
    assert _snapshot() == complete
    assert PopulationRun.objects.get().finished_at is not None


def test_it_refuses_other_installations_and_a_second_population_in_the_same_database(settings):
    settings.DEMO_ALLOWED = False
    with pytest.raises(CommandError, match="SAMVERKAN_DEMO"):
        _generate(children=20)
    _generate(children=20, batch_size=10, i_know_this_is_not_production=True)
    assert Child.objects.count() == 20
    with pytest.raises(CommandError, match="seed 1"):
        _generate(children=20, batch_size=10, seed=2, i_know_this_is_not_production=True)
