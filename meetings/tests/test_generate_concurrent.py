"""`generate_meetings` fired by two hosts' timers at the same moment creates each meeting once.

Needs committed data seen by two connections, so a transactional test on PostgreSQL (the
test database of SQLite is a shared-cache in-memory one, whose table locks fail at once
instead of waiting for the busy timeout as a file database does).
"""

import io
import threading

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.backends.postgresql.operations import DatabaseOperations

from meetings import services
from meetings.models import Meeting

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs PostgreSQL: threads on in-memory SQLite lock each other out",
)


@pytest.fixture(scope="module", autouse=True)
def _flush_past_the_audit_guard():  # type: ignore[no-untyped-def]
    """A transactional test ends by truncating every table, which the access log's trigger
    refuses: lift the guard for that flush only. Module-scoped, so that it is set up before
    and torn down after pytest-django's flush."""
    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):  # type: ignore[no-untyped-def]
        statements = original(self, style, tables, **kwargs)
        if "audit_accessevent" not in tables:
            return statements
        guard = "ALTER TABLE audit_accessevent {} TRIGGER USER"
        return [guard.format("DISABLE"), *statements, guard.format("ENABLE")]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.mark.django_db(transaction=True)
def test_two_hosts_running_the_command_at_once_create_each_meeting_once(cast, monkeypatch):
    """Both runs look for a team's meetings before either has created them. The unique
    (team, start) constraint lets one insert win; the other's `get_or_create` takes the
    IntegrityError as "exists" and reads the winner's row."""
    together = threading.Barrier(2, timeout=30)
    dates = services.meeting_dates

    def meeting_dates_in_step(*args):  # type: ignore[no-untyped-def]
        together.wait()  # both runs reach each team's look-ups at the same moment
        return dates(*args)

    monkeypatch.setattr(services, "meeting_dates", meeting_dates_in_step)
    failures: list[BaseException] = []
    period = ["--start", "2026-01-01", "--months", "3"]

    def run() -> None:
        try:
            call_command("generate_meetings", *period, stdout=io.StringIO(), verbosity=0)
        except BaseException as error:  # reported by the assertion below
            failures.append(error)
            together.abort()
        finally:
            connections.close_all()

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    assert failures == []
    # January to March: three first Tuesdays for each of the two teams.
    assert Meeting.objects.filter(team=cast.bht_team).count() == 3
    assert Meeting.objects.filter(team=cast.hlt_team).count() == 3
