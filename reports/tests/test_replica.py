"""With a read replica configured, the statistics' aggregates read from it; the access policy,
every other read and every write stay on the primary. Without one nothing changes.

The replica here is a second alias for the test database's own connection (so it sees the
test's uncommitted rows): what is checked is where the router sends each query.
"""

from __future__ import annotations

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.urls import reverse

from conftest import verified_client
from families.models import Child
from reports import views
from samverkan.db_routers import REPLICA, replica_reads
from tests import factories

from .world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def replica():
    connections.settings[REPLICA] = dict(connections[DEFAULT_DB_ALIAS].settings_dict)
    connections[REPLICA] = connections[DEFAULT_DB_ALIAS]
    yield
    del connections[REPLICA]
    del connections.settings[REPLICA]


def test_without_a_replica_every_read_stays_on_the_primary():
    with replica_reads():
        assert router.db_for_read(Child) == DEFAULT_DB_ALIAS
        assert Child.objects.all().db == DEFAULT_DB_ALIAS


def test_reads_inside_the_block_go_to_the_replica_and_writes_to_the_primary(replica):
    factories.child()
    with replica_reads():
        child = Child.objects.get()
        assert child._state.db == REPLICA
        assert router.db_for_write(Child, instance=child) == DEFAULT_DB_ALIAS
    assert Child.objects.all().db == DEFAULT_DB_ALIAS
    child.first_name = "Alva"
    child.save()
    assert child._state.db == DEFAULT_DB_ALIAS


def test_the_statistics_page_counts_on_the_replica_and_decides_access_on_the_primary(
    replica, monkeypatch
):
    world = build_world()
    leader = factories.professional("leader", units=[world.bvcs[1]], manager=True)
    seen: dict[str, str] = {}

    def spy(owner, name):
        function = getattr(owner, name)

        def wrapper(*args, **kwargs):
            seen[name] = Child.objects.all().db  # where a read made now would go
            return function(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    spy(views, "regional_statistics")
    spy(views.policy, "statistics_regions")
    response = verified_client(leader).get(reverse("reports:regional"))
    assert response.status_code == 200 and response.context["stats"] is not None
    assert seen == {"regional_statistics": REPLICA, "statistics_regions": DEFAULT_DB_ALIAS}
