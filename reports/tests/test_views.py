"""The regional statistics page: only managers of a unit in the region see it (a 404 for
anyone else, like a missing page), bad input is a form error, small cells are dashes with a
footnote, no child is named, and the page costs the same number of queries whatever the
population."""

from __future__ import annotations

import datetime
import re
import zoneinfo

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from conftest import verified_client
from consent import policy
from directory.models import Membership, Service
from families.models import Child
from tests import factories

from .world import World, at, build_world, present

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 7, 15, 10, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Stockholm"))
URL = "/statistik/"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


@pytest.fixture
def world() -> World:
    return build_world()


def client_for(user):
    """A logged-in client that chose English with the language switch."""
    client = verified_client(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def leader(world):
    """A process leader: the manager of Sjöstad's BVC."""
    return factories.professional("leader", units=[world.bvcs[1]], manager=True)


def _children(w: World, n: int) -> None:
    """`n` children answered for at the 8-month occasion, every third with a referral; the
    guardians are shared, to keep it quick."""
    if not w.shared:
        eldest = w.child(w.bvcs[0], datetime.date(2020, 1, 1))
        w.shared = [present(eldest.guardians.first(), "guardian")]
    noticed = at(datetime.date(2026, 2, 1))
    for i in range(n):
        born = datetime.date(2025, 6, 1) + datetime.timedelta(days=i % 90)
        child = w.child(w.bvcs[i % 2], born, guardians=w.shared)
        w.answer(child, w.occasions[0], at(datetime.date(2026, 3, 1)), {"violence"})
        if i % 3 == 0:
            w.referral(
                child,
                Service.Kind.CHILD_PSYCHOLOGIST,
                noticed,
                contact=noticed + datetime.timedelta(days=i % 11),
            )


def test_the_url_is_named_reports_regional():
    assert reverse("reports:regional") == URL


def test_a_manager_of_a_unit_in_the_region_sees_its_figures_with_suppressed_cells_as_dashes(
    world, leader
):
    _children(world, 12)

    response = client_for(leader).get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Region Statistikland" in body
    for table in ("coverage", "domains", "lead-times", "home-visits", "plans"):
        assert f'id="{table}"' in body
    assert "<caption>" in body and "<svg" in body
    assert 'class="cell-suppressed">–</span>' in body
    assert "not shown: fewer than 5" in body
    # Counts only: no child's name or number reaches the page.
    for child in Child.objects.all():
        assert child.last_name not in body
        assert child.reserve_number not in body
    stats = response.context["stats"]
    assert stats.period_start == datetime.date(2025, 7, 16)
    assert stats.period_end == datetime.date(2026, 7, 15)
    assert stats.coverage[0].lines[-1].cells[0].part == 12


def test_a_professional_who_is_not_a_manager_gets_a_404(world):
    nurse = factories.professional("nurse", units=[world.bvcs[0]])

    assert client_for(nurse).get(URL).status_code == 404


def test_a_manager_elsewhere_gets_a_404_for_this_region_like_for_a_missing_one(world):
    other = factories.professional("elsewhere", units=[world.outside_bvc], manager=True)
    client = client_for(other)

    assert client.get(URL).status_code == 200  # their own region
    mine = client.get(URL, {"region": world.region.pk})
    missing = client.get(URL, {"region": 999999})
    assert mine.status_code == missing.status_code == 404

    # The same page but for the asked path (the language switch returns to it) and the
    # per-render mask of the CSRF token.
    def page(response, region):
        body = response.content.decode().replace(f"region={region}", "REGION")
        return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "CSRF", body)

    assert page(mine, world.region.pk) == page(missing, 999999)


def test_an_ended_management_no_longer_opens_the_page(world, leader):
    Membership.objects.filter(professional=leader).update(valid_until=datetime.date(2026, 7, 1))

    assert client_for(leader).get(URL).status_code == 404
    assert not policy.statistics_regions(leader).exists()


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"fran": "not a date"}, "Enter a valid date."),
        ({"fran": "2026-05-01", "till": "2026-04-01"}, "The period must end after it starts."),
        ({"till": "2027-01-01"}, "The period cannot end in the future."),
        ({"fran": "2010-01-01", "till": "2026-01-01"}, "Choose a period of at most 5 years."),
    ],
)
def test_bad_input_gives_a_form_error_and_no_figures(world, leader, query, error):
    response = client_for(leader).get(URL, query)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert response.context["stats"] is None


def test_a_chosen_period_is_used(world, leader):
    response = client_for(leader).get(
        URL, {"region": world.region.pk, "fran": "2026-01-01", "till": "2026-06-30"}
    )

    stats = response.context["stats"]
    assert (stats.period_start, stats.period_end) == (
        datetime.date(2026, 1, 1),
        datetime.date(2026, 6, 30),
    )


def test_the_page_runs_the_same_number_of_queries_for_20_and_200_children(world, leader):
    client = client_for(leader)
    _children(world, 20)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    _children(world, 180)
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL)

    assert response.context["stats"].coverage[0].lines[-1].cells[0].part == 200
    assert len(few) == len(many)
