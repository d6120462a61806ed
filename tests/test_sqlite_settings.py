"""The embedded default database (SQLite, no DATABASE_URL) runs crash-safe and queues writers:
WAL, synchronous=FULL, a busy timeout, and transactions that take the write lock at BEGIN.

Read on a real connection to a file database, made by the settings as a deployment gets them
(a fresh process without DATABASE_URL), whatever database the suite itself runs on."""

from __future__ import annotations

from pathlib import Path

from tests.settings_probe import probe

PROBE = r"""
import json, sqlite3, django
django.setup()
from django.db import connection, transaction
from django.conf import settings

with connection.cursor() as cursor:
    found = {}
    for pragma in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys"):
        cursor.execute(f"PRAGMA {pragma}")
        found[pragma] = cursor.fetchone()[0]
path = settings.DATABASES["default"]["NAME"]
with transaction.atomic():
    # An IMMEDIATE transaction holds the write lock from BEGIN, before it has written
    # anything: another writer cannot begin one meanwhile.
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        found["lock_at_begin"] = False
        other.execute("ROLLBACK")
    except sqlite3.OperationalError as error:
        found["lock_at_begin"] = "locked" in str(error)
    finally:
        other.close()
found["engine"] = connection.vendor
print(json.dumps(found))
"""


def test_the_sqlite_default_has_wal_full_sync_a_busy_timeout_and_immediate_transactions(
    tmp_path: Path,
) -> None:
    found = probe(
        PROBE,
        without={"DATABASE_URL", "SAMVERKAN_TESTING"},
        env={
            "DJANGO_SETTINGS_MODULE": "samverkan.settings",
            "SQLITE_PATH": str(tmp_path / "default.sqlite3"),
            "SECRET_KEY": "x" * 50,
            "DEBUG": "0",
        },
        timeout=60,
    )
    assert found["engine"] == "sqlite"
    assert str(found["journal_mode"]).lower() == "wal"
    assert found["synchronous"] == 2  # FULL
    assert found["busy_timeout"] >= 5000  # milliseconds
    assert found["foreign_keys"] == 1
    assert found["lock_at_begin"] is True
