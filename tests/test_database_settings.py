"""The database settings a deployment at scale gives through the environment: a read replica
for the statistics (`DATABASE_REPLICA_URL`) and a pooler in transaction mode
(`DATABASE_TRANSACTION_POOLING`). Read in a fresh process, as a deployment gets them."""

from __future__ import annotations

from tests.settings_probe import probe

PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'routers': s.DATABASE_ROUTERS, 'databases': {alias: {"
    "'host': d['HOST'], 'user': d['USER'], 'mirror': d.get('TEST', {}).get('MIRROR'), "
    "'no_server_side_cursors': d.get('DISABLE_SERVER_SIDE_CURSORS', False)} "
    "for alias, d in s.DATABASES.items()}}))"
)


def settings_with(**env: str) -> dict:
    return probe(
        PROBE,
        without={"DATABASE_REPLICA_URL", "DATABASE_TRANSACTION_POOLING"},
        env={
            "DJANGO_SETTINGS_MODULE": "samverkan.settings",
            "DATABASE_URL": "postgres://samverkan@db.internal:5432/samverkan",
            **env,
        },
    )


def test_without_a_replica_there_is_one_database_and_server_side_cursors_are_used():
    found = settings_with()
    assert list(found["databases"]) == ["default"]
    assert found["databases"]["default"]["no_server_side_cursors"] is False
    assert found["routers"] == ["samverkan.db_routers.PrimaryReplicaRouter"]


def test_a_replica_url_adds_the_replica_and_tests_mirror_it_to_the_primary():
    found = settings_with(DATABASE_REPLICA_URL="postgres://reader@replica.internal:5432/samverkan")
    assert found["databases"]["replica"] == {
        "host": "replica.internal",
        "user": "reader",
        "mirror": "default",
        "no_server_side_cursors": False,
    }


def test_transaction_pooling_turns_server_side_cursors_off_on_every_database():
    found = settings_with(
        DATABASE_REPLICA_URL="postgres://reader@replica.internal:5432/samverkan",
        DATABASE_TRANSACTION_POOLING="1",
    )
    assert {alias: d["no_server_side_cursors"] for alias, d in found["databases"].items()} == {
        "default": True,
        "replica": True,
    }
