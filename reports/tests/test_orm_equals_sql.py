"""Property: on any small random region, the ORM's queries and the hand-written SQL count
exactly the same raw figures (coverage, domains, lead-time medians, home visits, SIP)."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory.models import Service
from families.models import Child
from reports.figures import frame_of
from reports.statistics import collect_figures
from reports.statistics_sql import collect_figures_sql
from screening.models import Domain
from visits.models import Enrolment, ProgrammeArea

from .world import World, build_world

pytestmark = pytest.mark.django_db

START, END = datetime.date(2026, 1, 1), datetime.date(2026, 6, 30)
BASE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
KINDS = [Service.Kind.CHILD_PSYCHOLOGIST, Service.Kind.BUDGET_DEBT]

children = st.lists(
    st.tuples(
        st.integers(0, 2),  # municipality: 2 is the other region's
        st.integers(-900, 180),  # birth, days from the period's start
        st.sampled_from(["99130", "991 38", "99138", "99240"]),
        st.booleans(),  # shares the first child's guardians
    ),
    min_size=1,
    max_size=8,
)
hours = st.integers(-24 * 60, 24 * 220)  # from the period's start
events = st.fixed_dictionaries(
    {
        "answers": st.lists(
            st.tuples(
                st.integers(0, 7),
                st.integers(0, 1),
                hours,
                st.sets(st.sampled_from(Domain.values), max_size=3),
                st.integers(0, 1),
            ),
            max_size=8,
        ),
        "referrals": st.lists(
            st.tuples(
                st.integers(0, 7),
                st.sampled_from(KINDS),
                hours,
                st.one_of(st.none(), st.integers(0, 24 * 60)),
            ),
            max_size=8,
        ),
        "plans": st.lists(
            st.tuples(
                st.integers(0, 7),
                hours,
                st.one_of(st.none(), st.integers(1, 24 * 100)),
                st.one_of(st.none(), st.integers(0, 24 * 40)),
            ),
            max_size=6,
        ),
        "enrolments": st.lists(
            st.tuples(st.integers(0, 7), st.sampled_from(Enrolment.Status.values)), max_size=4
        ),
    }
)


def _populate(w: World, people: list, found: dict) -> None:
    programme = w.programme(
        0,
        [
            ("99130", ProgrammeArea.Rule.ALL_FAMILIES),
            ("99138", ProgrammeArea.Rule.FIRST_TIME_PARENTS),
        ],
        datetime.date(2025, 1, 1),
    )
    made: list[Child] = []
    for muni, born, postal, shares in people:
        bvc = w.outside_bvc if muni == 2 else w.bvcs[muni]
        guardians = list(made[0].guardians.all()) if shares and made else None
        made.append(
            w.child(
                bvc, START + datetime.timedelta(days=born), postal_code=postal, guardians=guardians
            )
        )

    def pick(i: int):
        return made[i % len(made)]

    def moment(h: int) -> datetime.datetime:
        return BASE + datetime.timedelta(hours=h)

    for i, occasion, h, positive, guardian in found["answers"]:
        child = pick(i)
        key = (child.pk, w.occasions[occasion].pk)
        screening = w.screenings.get(key)
        if (
            screening
            and screening.sessions.filter(
                guardian=child.guardians.order_by("pk")[guardian]
            ).exists()
        ):
            continue  # that guardian has answered at that occasion already
        w.answer(child, w.occasions[occasion], moment(h), positive, guardian=guardian)
    for i, kind, h, lead in found["referrals"]:
        noticed = moment(h)
        contact = None if lead is None else noticed + datetime.timedelta(hours=lead)
        w.referral(pick(i), kind, noticed, contact=contact)
    for i, h, ended_after, version_after in found["plans"]:
        started = moment(h)
        w.plan(
            pick(i),
            started,
            ended=None if ended_after is None else started + datetime.timedelta(hours=ended_after),
            first_version=None
            if version_after is None
            else started + datetime.timedelta(hours=version_after),
        )
    enrolled = set()
    for i, status in found["enrolments"]:
        child = pick(i)
        if child.pk not in enrolled:
            enrolled.add(child.pk)
            w.enrol(child, programme, status)


@pytest.fixture
def world() -> World:
    return build_world()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=children, found=events)
def test_the_orm_and_the_sql_count_the_same_on_random_regions(world, people, found):
    with transaction.atomic():
        world.screenings.clear()
        world.consents.clear()
        _populate(world, people, found)
        frame = frame_of(world.region)

        assert collect_figures(frame, START, END) == collect_figures_sql(frame, START, END)
        transaction.set_rollback(True)
