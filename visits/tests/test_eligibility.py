"""Who a home-visit programme is for (visits/eligibility.py): every newborn in an
all-families area, first-borns only in a first-time-parents area, nobody born before the
programme started or living outside its areas."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from directory.models import Organisation, Sector, Unit
from families.models import Child, Custody, Guardian
from tests import factories
from visits.eligibility import area_of, eligible_children, is_first_born
from visits.models import Programme, ProgrammeArea, ProgrammeVisit

pytestmark = pytest.mark.django_db

START = datetime.date(2025, 1, 1)
ALL = ProgrammeArea.Rule.ALL_FAMILIES
FIRST = ProgrammeArea.Rule.FIRST_TIME_PARENTS


def make_programme(
    partner: Unit,
    areas: Sequence[tuple[str, str, str]] = (
        ("Ekby centrum", "99130", ALL),
        ("Ängby", "99138", FIRST),
    ),
    *,
    name: str = "Utökade hembesök",
    born_from: datetime.date = START,
    visits: Sequence[tuple[int, int, int, int, int]] = (
        # number, months, weeks, days before, days after
        (1, 0, 1, 7, 14),
        (2, 2, 0, 14, 14),
        (3, 4, 0, 14, 14),
        (4, 8, 0, 21, 21),
        (5, 15, 0, 30, 30),
    ),
) -> Programme:
    """A programme as an administrator would set it up (shared with the statistics tests)."""
    region = factories.organisation("Region Testland", Organisation.Kind.REGION)
    programme = Programme.objects.create(
        name=name,
        region=region,
        municipality=partner.municipality,
        partner_unit=partner,
        children_born_from=born_from,
    )
    for number, months, weeks, before, after in visits:
        ProgrammeVisit.objects.create(
            programme=programme,
            number=number,
            name_sv=f"Besök {number}",
            name_en=f"Visit {number}",
            age_months=months,
            age_weeks=weeks,
            window_days_before=before,
            window_days_after=after,
            professions=["bvc_nurse", "family_therapist"],
        )
    for area, prefix, rule in areas:
        ProgrammeArea.objects.create(
            programme=programme, name=area, postal_code_prefix=prefix, rule=rule
        )
    return programme


_numbers = itertools.count(1)


def child_at(postal_code: str, *, born: datetime.date, bvc: Unit | None = None) -> Child:
    """A child living at `postal_code` (a reserve number: many share a birth date here)."""
    n = next(_numbers)
    return Child.objects.create(
        reserve_number=f"RES-HB-{n:05d}",
        first_name="Test",
        last_name=f"Hembesöksbarn{n}",
        birth_date=born,
        bvc_unit=bvc,
        postal_code=postal_code,
        city="Ekby",
    )


def family(
    *,
    born: datetime.date,
    postal_code: str = "99130",
    bvc: Unit | None = None,
    guardians: list[Guardian] | None = None,
) -> Child:
    """A child with two guardians in joint custody, or with the given guardians."""
    child = child_at(postal_code, born=born, bvc=bvc)
    if guardians is None:
        factories.guardian_of(child)
        factories.guardian_of(child)
    else:
        for guardian in guardians:
            Custody.objects.create(child=child, guardian=guardian, kind=Custody.Kind.JOINT)
    return child


def _eligible(programme: Programme) -> set[int]:
    return set(eligible_children(programme).values_list("pk", flat=True))


@pytest.fixture
def programme(cast) -> Programme:
    return make_programme(cast.social)


def test_an_all_families_area_takes_every_newborn_older_siblings_or_not(programme):
    first = family(born=datetime.date(2025, 3, 1))
    older = family(born=datetime.date(2022, 5, 5))
    second = family(born=datetime.date(2025, 6, 1), guardians=list(older.guardians.all()))

    assert _eligible(programme) == {first.pk, second.pk}


def test_a_first_time_parents_area_takes_only_first_borns(programme):
    first = family(born=datetime.date(2025, 3, 1), postal_code="99138")
    older = family(born=datetime.date(2021, 5, 5), postal_code="99138")
    second = family(
        born=datetime.date(2025, 6, 1), postal_code="99138", guardians=list(older.guardians.all())
    )

    assert _eligible(programme) == {first.pk}
    assert is_first_born(first) and not is_first_born(second)


def test_twins_in_a_first_time_parents_area_are_both_eligible(programme):
    born = datetime.date(2025, 4, 4)
    one = family(born=born, postal_code="99138")
    two = family(born=born, postal_code="99138", guardians=list(one.guardians.all()))

    assert _eligible(programme) == {one.pk, two.pk}
    assert is_first_born(one) and is_first_born(two)


def test_a_half_sibling_through_one_guardian_makes_the_child_not_first_born(programme):
    older = family(born=datetime.date(2020, 1, 10), postal_code="99138")
    shared = older.guardians.order_by("pk").first()
    newborn = family(born=datetime.date(2025, 2, 2), postal_code="99138")
    # One of the newborn's parents has custody of an older child with another parent.
    Custody.objects.create(child=newborn, guardian=shared, kind=Custody.Kind.JOINT)

    assert not is_first_born(newborn)
    assert _eligible(programme) == set()


def test_an_older_child_of_another_family_does_not_count(programme):
    family(born=datetime.date(2020, 1, 10), postal_code="99138")
    newborn = family(born=datetime.date(2025, 2, 2), postal_code="99138")

    assert _eligible(programme) == {newborn.pk}


def test_children_born_before_the_programme_started_are_not_eligible(programme):
    family(born=START - datetime.timedelta(days=1))
    on_the_day = family(born=START)

    assert _eligible(programme) == {on_the_day.pk}


def test_children_outside_every_area_are_not_eligible(programme):
    family(born=datetime.date(2025, 3, 3), postal_code="99134")
    family(born=datetime.date(2025, 3, 3), postal_code="")
    family(born=datetime.date(2025, 3, 3), postal_code="9913")

    assert _eligible(programme) == set()


def test_a_programme_without_areas_is_for_nobody(cast):
    empty = make_programme(cast.social, areas=[], name="Utan områden")
    family(born=datetime.date(2025, 3, 3))

    assert _eligible(empty) == set()


def test_eligibility_can_be_asked_within_a_set_of_children(programme, cast):
    mine = family(born=datetime.date(2025, 3, 1), bvc=cast.bvc)
    family(born=datetime.date(2025, 3, 1), bvc=cast.other_bvc)

    found = eligible_children(programme, Child.objects.filter(bvc_unit=cast.bvc))

    assert [c.pk for c in found] == [mine.pk]


def test_a_postal_code_written_with_a_space_is_eligible_as_area_of_says(programme):
    child = family(born=datetime.date(2025, 3, 1), postal_code="991 30")

    assert area_of(programme, child).postal_code_prefix == "99130"
    assert _eligible(programme) == {child.pk}


def test_a_shorter_prefix_covers_every_code_under_it(cast):
    wide = make_programme(cast.social, areas=[("Ekby", "991", FIRST)], name="Hela Ekby")
    child = family(born=datetime.date(2025, 3, 1), postal_code="99177")

    assert area_of(wide, child).name == "Ekby"
    assert _eligible(wide) == {child.pk}


# --- Property: the queryset and the per-child answer agree --------------------------------------

# Prefixes that never overlap one another, as the admin guarantees (ProgrammeArea.clean).
PREFIX_SETS = st.sampled_from(
    [
        ["991"],
        ["99130", "99138"],
        ["9913", "9914"],
        ["99130", "9914", "992"],
        ["1", "99"],
    ]
)
POSTAL_CODES = st.builds(
    lambda digits, spaced: f"{digits[:3]} {digits[3:]}" if spaced else digits,
    st.sampled_from(["99130", "99131", "99138", "99140", "99240", "99213", "12345", "9913"]),
    st.booleans(),
) | st.just("")
BIRTHS = st.dates(min_value=datetime.date(2019, 1, 1), max_value=datetime.date(2026, 6, 30))
# A family: children born on these dates, with these of the shared guardians (0-2).
FAMILIES = st.lists(
    st.tuples(
        st.lists(st.tuples(BIRTHS, POSTAL_CODES), min_size=1, max_size=3),
        st.sets(st.integers(0, 3), min_size=1, max_size=2),
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(
    prefixes=["99130", "99138"],
    rules=[ALL, FIRST],
    families=[([(datetime.date(2025, 5, 5), "991 38")], {0})],
)
@example(
    prefixes=["991"],
    rules=[FIRST],
    families=[
        ([(datetime.date(2025, 5, 5), "99130"), (datetime.date(2025, 5, 5), "99131")], {0}),
        ([(datetime.date(2026, 1, 5), "99130")], {0, 1}),
    ],
)
@given(
    prefixes=PREFIX_SETS,
    rules=st.lists(st.sampled_from([ALL, FIRST]), min_size=3, max_size=3),
    families=FAMILIES,
)
def test_eligible_children_and_area_of_give_the_same_answer_for_every_child(
    cast, prefixes, rules, families
):
    with transaction.atomic():
        programme = make_programme(
            cast.social,
            [(f"Område {p}", p, rule) for p, rule in zip(prefixes, rules, strict=False)],
        )
        guardians = [
            Guardian.objects.create(first_name="F", last_name=f"G{n}", reserve_number=f"R-{n}")
            for n in range(4)
        ]
        children: list[Child] = []
        for births, parents in families:
            for born, code in births:
                child = child_at(code, born=born)
                for index in parents:
                    Custody.objects.create(
                        child=child, guardian=guardians[index], kind=Custody.Kind.JOINT
                    )
                children.append(child)

        found = _eligible(programme)

        for child in children:
            area = area_of(programme, child)
            expected = (
                child.birth_date >= programme.children_born_from
                and area is not None
                and (area.rule == ALL or is_first_born(child))
            )
            assert (child.pk in found) == expected, (child.postal_code, child.birth_date)
        transaction.set_rollback(True)


def test_only_social_services_units_are_offered_as_partners():
    field = Programme._meta.get_field("partner_unit")
    assert field.get_limit_choices_to() == {"sector": Sector.SOCIAL_SERVICES}
