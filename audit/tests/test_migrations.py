"""Migrating an access log that already holds events: they keep the first scheme and verify,
the chain goes on from them, and the database still refuses to change them."""

from importlib import import_module

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from audit.services import audit_verify
from audit.tests.test_chain import _events
from audit.tests.test_schemes import first_scheme_rows

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
    """Events as the first scheme wrote them, with the head moved on to the last."""
    Event, Head = apps.get_model("audit", "AccessEvent"), apps.get_model("audit", "ChainHead")
    rows = first_scheme_rows(count)
    Event.objects.bulk_create([Event(**row) for row in rows])
    Head.objects.update_or_create(pk=1, defaults={"seq": count, "hash": rows[-1]["hash"]})


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
