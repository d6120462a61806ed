"""The access log is append-only in the database and tamper-evident by its hash chain."""

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from audit.models import AccessEvent, Action, ChainHead
from audit.services import Access, access_log, access_log_many, audit_verify
from consent.policy import Basis, Decision, Purpose
from tests import factories

pytestmark = pytest.mark.django_db


def _events(cast, count=5):
    request = RequestFactory().get("/")
    request.user = cast.nurse
    request.request_id = "test-request"
    child = factories.child(bvc=cast.bvc)
    decision = Decision(allowed=True, basis=Basis.OWN_UNIT, unit=cast.bvc)
    return [
        access_log(
            request=request,
            action=Action.VIEW_CHILD,
            purpose=Purpose.CARE,
            decision=decision,
            child=child,
        )
        for _ in range(count)
    ]


def test_a_page_of_many_children_is_one_link_per_child_and_the_head_follows(cast):
    """A batch larger than one INSERT holds (the chunk size) still makes one unbroken chain."""
    first = _events(cast, 1)[0]
    request = RequestFactory().get("/")
    request.user, request.request_id = cast.nurse, "test-request"
    decision = Decision(allowed=True, basis=Basis.OWN_UNIT, unit=cast.bvc)
    accesses = [
        Access(Action.VIEW_MEETING_ITEM, Purpose.CARE, decision, child_id=n) for n in range(1201)
    ]
    events = access_log_many(request=request, accesses=accesses)
    stored = list(AccessEvent.objects.order_by("seq").values_list("pk", "seq", "child_id"))
    assert stored[1:] == [(e.pk, e.seq, e.child_id) for e in events]
    assert events[0].prev_hash == first.hash and stored[-1][1] == first.seq + 1201
    head = ChainHead.objects.get()
    assert (head.seq, head.hash) == (events[-1].seq, events[-1].hash)
    assert audit_verify().intact


def _without_triggers(sql: str, params=()) -> None:
    """Tamper as an attacker with table-owner rights would: drop the guard, change a row.
    The surrounding test transaction rolls the DDL back afterwards."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_accessevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER audit_accessevent_no_update")
            cursor.execute("DROP TRIGGER audit_accessevent_no_delete")
        cursor.execute(sql, params)


def test_an_untouched_chain_verifies(cast):
    events = _events(cast)
    report = audit_verify()
    assert report.intact and report.checked == len(events)
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]


def test_timestamps_are_stored_in_utc(cast):
    event = AccessEvent.objects.get(pk=_events(cast, 1)[0].pk)
    assert event.occurred_at.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_accessevent SET allowed = %s", "DELETE FROM audit_accessevent"],
)
def test_the_database_refuses_update_and_delete(cast, statement):
    _events(cast, 2)
    params = [False] if "UPDATE" in statement else []
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)
    assert AccessEvent.objects.filter(allowed=True).count() == 2


def test_the_orm_cannot_change_an_event_either(cast):
    event = _events(cast, 1)[0]
    event.allowed = False
    with pytest.raises(DatabaseError), transaction.atomic():
        event.save()


def test_an_edited_row_is_reported_at_its_position(cast):
    events = _events(cast)
    _without_triggers(
        "UPDATE audit_accessevent SET actor_username = 'someone-else' WHERE seq = %s", [3]
    )
    report = audit_verify()
    assert report.broken_at == events[2].seq and "changed" in report.reason


def test_a_deleted_row_is_reported(cast):
    _events(cast)
    _without_triggers("DELETE FROM audit_accessevent WHERE seq = %s", [2])
    report = audit_verify()
    assert report.broken_at == 2 and "missing" in report.reason


def test_reordered_rows_are_reported(cast):
    _events(cast)
    # Swap the positions of events 2 and 3 (through a free number, as seq is unique).
    _without_triggers("UPDATE audit_accessevent SET seq = -1 WHERE seq = 2")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_accessevent SET seq = 2 WHERE seq = 3")
        cursor.execute("UPDATE audit_accessevent SET seq = 3 WHERE seq = -1")
    report = audit_verify()
    assert report.broken_at == 2


def test_a_chain_cut_short_at_the_end_is_reported(cast):
    _events(cast)
    _without_triggers("DELETE FROM audit_accessevent WHERE seq = 5")
    report = audit_verify()
    assert report.broken_at == 5 and "end" in report.reason


def test_the_walk_reads_in_pages_and_links_across_their_edges(cast):
    _events(cast)
    assert audit_verify(chunk_size=2).intact and audit_verify(chunk_size=2).checked == 5
    _without_triggers("UPDATE audit_accessevent SET purpose = 'sip' WHERE seq = 3")
    assert audit_verify(chunk_size=2).broken_at == 3


def test_a_head_that_does_not_match_the_last_event_is_reported(cast):
    _events(cast)
    ChainHead.objects.filter(pk=1).update(hash="f" * 64)
    report = audit_verify()
    assert report.broken_at == 5 and "chain head" in report.reason


def test_events_appended_while_the_chain_is_verified_are_no_false_alarm(cast):
    """On a live system other processes append while the (long) walk runs: the walk must not
    mistake a head that has moved on for a log cut short at the end."""
    _events(cast, 3)
    appended = []

    def append_once() -> None:
        if not appended:
            appended.extend(_events(cast, 1))

    report = audit_verify(on_event=append_once)
    assert appended and report.intact, report
    assert audit_verify().checked == 4


def test_verify_audit_command_names_the_first_broken_link(cast):
    _events(cast)
    call_command("verify_audit", verbosity=0)  # intact: no error
    _without_triggers("UPDATE audit_accessevent SET purpose = 'sip' WHERE seq = 4")
    with pytest.raises(CommandError, match="BROKEN at event 4"):
        call_command("verify_audit", verbosity=0)


def test_an_audit_entry_written_inside_a_failed_write_is_rolled_back_with_it(cast):
    with pytest.raises(RuntimeError), transaction.atomic():
        _events(cast, 1)
        raise RuntimeError("the write failed")
    assert not AccessEvent.objects.exists()
    assert audit_verify().intact
