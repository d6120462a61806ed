"""The session store (`samverkan.sessions`): a session is read and removed in one statement
each; a session removed while a request still holds it is never written back; only a
logged-in user's removal fails the request, as in Django."""

import datetime

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from samverkan.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _held_and_removed(data: dict) -> SessionStore:
    """A session loaded by one request and removed by another before the first saves."""
    first = SessionStore()
    first.update(data)
    first.create()
    held = SessionStore(first.session_key)
    held.load()
    held["seen"] = True
    SessionStore(first.session_key).delete()
    return held


def test_a_removed_session_of_a_logged_in_user_fails_the_request_as_in_django(cast):
    held = _held_and_removed({SESSION_KEY: str(cast.nurse.pk)})
    with pytest.raises(UpdateError):
        held.save()
    assert not Session.objects.exists()


def test_a_removed_session_without_a_user_stays_removed_and_is_no_error():
    held = _held_and_removed({"kiosk": {"session": 1, "answers": {"1": "yes"}}})
    held.save()
    assert not Session.objects.exists()


def test_a_session_is_removed_in_one_statement():
    store = SessionStore()
    store["kiosk"] = {}
    store.create()
    with CaptureQueriesContext(connection) as captured:
        store.delete()
    statements = [q["sql"].split()[0] for q in captured.captured_queries]
    assert [s for s in statements if s not in ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT")] == [
        "DELETE"
    ]
    assert not Session.objects.exists()


def test_a_session_is_read_in_one_statement_until_it_expires():
    """The written-out read does what Django's does: the data of a session not yet expired,
    and for an expired one an empty session under a new key (never the old data)."""
    store = SessionStore()
    store["kiosk"] = {"session": 7, "answers": {"1": "yes"}}
    store.set_expiry(60)
    store.create()
    key = store.session_key
    with CaptureQueriesContext(connection) as captured:
        assert SessionStore(key).load() == {
            "kiosk": {"session": 7, "answers": {"1": "yes"}},
            "_session_expiry": 60,
        }
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["SELECT"]

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=61)):
        expired = SessionStore(key)
        assert expired.load() == {}
        assert expired.session_key is None
    assert SessionStore("no-such-session-key").load() == {}
