"""Migrating an access log that already holds events: they keep the first scheme and verify,
the chain goes on from them, and the database still refuses to change them."""

import datetime
from importlib import import_module

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from audit.models import Action, Scheme
from audit.services import audit_verify
from audit.tests.test_chain import _events
from consent.policy import Basis, Purpose

# SQLite cannot change a schema inside a transaction, so there the test commits and empties
# the log itself after. PostgreSQL can, and its access log refuses to be emptied: there the
# test runs in the transaction that every test rolls back.
ON_SQLITE = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
pytestmark = pytest.mark.django_db(transaction=ON_SQLITE)

BEFORE = [("audit", "0007_home_visit_end_and_cancel_actions")]
AFTER = [("audit", "0008_hash_scheme_and_head_link")]
SQLITE_TRIGGERS = import_module("audit.migrations.0006_hash_not_unique").SQLITE_TRIGGERS


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _as_written_before(apps, count: int) -> None:
    """Events as the first scheme wrote them (its hash: `AccessEvent.canonical`, which
    covers the same fields as before the scheme existed)."""
    from audit.models import GENESIS_HASH, AccessEvent

    Event, Head = apps.get_model("audit", "AccessEvent"), apps.get_model("audit", "ChainHead")
    prev_hash = GENESIS_HASH
    for seq in range(1, count + 1):
        fields = {
            "seq": seq,
            "occurred_at": datetime.datetime(2026, 1, seq, 8, tzinfo=datetime.UTC),
            "actor_id": None,
            "actor_username": "nurse",
            "actor_name": "Sköterska Ett",
            "actor_role": "bvc_nurse",
            "unit_id": None,
            "unit_name": "BVC Ekby",
            "action": Action.VIEW_CHILD,
            "purpose": Purpose.CARE,
            "child_id": seq,
            "child_identifier": "",
            "basis": Basis.OWN_UNIT,
            "basis_reference": "",
            "allowed": True,
            "request_id": f"before-{seq}",
            "prev_hash": prev_hash,
        }
        prev_hash = AccessEvent(**fields, scheme=Scheme.WHOLE).compute_hash()
        Event.objects.create(**fields, hash=prev_hash)
    Head.objects.update_or_create(pk=1, defaults={"seq": count, "hash": prev_hash})


def test_events_stored_before_keep_the_first_scheme_and_the_chain_goes_on(cast):
    apps = _migrate(BEFORE)
    try:
        _as_written_before(apps, 3)
        apps = _migrate(AFTER)
        Event = apps.get_model("audit", "AccessEvent")
        assert list(Event.objects.order_by("seq").values_list("scheme", flat=True)) == [1] * 3
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
        _events(cast, 2)
        report = audit_verify()
        assert report.intact and report.checked == 5, report.reason
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            Event.objects.filter(seq=1).update(allowed=False)
    finally:  # every app at its newest migration again, as the other tests expect it
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
        if ON_SQLITE:  # the log emptied as its owner would, its guard put back
            with connection.cursor() as cursor:
                cursor.execute("DROP TRIGGER IF EXISTS audit_accessevent_no_delete")
                cursor.execute("DELETE FROM audit_accessevent")
                cursor.execute(SQLITE_TRIGGERS[1])
