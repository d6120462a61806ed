"""How events are linked: the events stored under the first scheme (`Scheme.WHOLE`) keep
verifying after the change to `Scheme.LINKED`, and the chain goes on from them; an append is
one statement on PostgreSQL, whatever the number of events; and the hash the database links
with is the one `verify_audit` recomputes, whatever the content."""

import datetime

import pytest
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import GENESIS_HASH, AccessEvent, Action, ChainHead, Scheme
from audit.services import Access, access_log_many, audit_verify
from audit.tests.test_chain import _events, _without_triggers
from consent.policy import Basis, Decision, Purpose

pytestmark = pytest.mark.django_db


def first_scheme_rows(count: int) -> list[dict[str, object]]:
    """`count` events' fields, hash included, as the chain's first appends wrote them (no
    `scheme` column yet: `AccessEvent.canonical` covers the fields of that time)."""
    rows, prev_hash = [], GENESIS_HASH
    for seq in range(1, count + 1):
        row: dict[str, object] = {
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
        row["hash"] = prev_hash = AccessEvent(**row, scheme=Scheme.WHOLE).compute_hash()
        rows.append(row)
    return rows


def _stored_under_the_first_scheme(cast, count: int) -> list[AccessEvent]:
    """Events as the chain's first appends wrote them, with the head moved on to the last."""
    events = [AccessEvent(**row, scheme=Scheme.WHOLE) for row in first_scheme_rows(count)]
    AccessEvent.objects.bulk_create(events)
    ChainHead.objects.update_or_create(pk=1, defaults={"seq": count, "hash": events[-1].hash})
    return events


def test_the_first_schemes_events_still_verify_and_the_chain_goes_on_from_them(cast):
    old = _stored_under_the_first_scheme(cast, 3)
    new = _events(cast, 2)
    assert [e.scheme for e in AccessEvent.objects.order_by("seq")] == [1, 1, 1, 2, 2]
    assert new[0].prev_hash == old[-1].hash
    assert audit_verify().intact and audit_verify().checked == 5


def test_an_edited_event_of_the_first_scheme_is_reported(cast):
    _stored_under_the_first_scheme(cast, 3)
    _events(cast, 2)
    _without_triggers("UPDATE audit_accessevent SET unit_name = 'BVC Annan' WHERE seq = 2")
    report = audit_verify()
    assert report.broken_at == 2 and "changed" in report.reason


def test_an_event_moved_to_the_other_scheme_is_reported(cast):
    """Claiming another way of hashing does not make an event's hash fit."""
    _stored_under_the_first_scheme(cast, 2)
    _events(cast, 2)
    _without_triggers("UPDATE audit_accessevent SET scheme = 1 WHERE seq = 4")
    assert audit_verify().broken_at == 4


@pytest.mark.parametrize("count", [1, 3])
def test_an_append_is_one_statement_on_postgresql(cast, count):
    """One round trip on PostgreSQL (the overhead per access event is mostly round trips);
    SQLite, in process, reads the head, inserts and moves the head on."""
    _events(cast, 1)  # the head exists
    request = RequestFactory().get("/")
    request.user, request.request_id = cast.nurse, "test-request"
    decision = Decision(allowed=True, basis=Basis.OWN_UNIT, unit=cast.bvc)
    accesses = [Access(Action.VIEW_CHILD, Purpose.CARE, decision, child_id=n) for n in range(count)]
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        events = access_log_many(request=request, accesses=accesses)
    statements = [q["sql"].split()[0] for q in captured.captured_queries]
    statements = [s for s in statements if s not in ("SAVEPOINT", "RELEASE", "BEGIN")]
    if connection.vendor == "postgresql":
        assert statements == ["WITH"]
    else:
        assert statements == ["SELECT", "INSERT", "UPDATE"]
    assert [e.seq for e in events] == list(range(2, 2 + count))
    head = ChainHead.objects.get()
    assert (head.seq, head.prev_hash, head.hash) == (
        events[-1].seq,
        events[0].prev_hash,
        events[-1].hash,
    )


# Any text PostgreSQL can store (no NUL), in the lengths the columns take.
storable = st.characters(codec="utf-8", exclude_characters="\x00")
texts = st.text(storable, max_size=60)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batch=st.lists(
        st.tuples(texts, st.one_of(st.none(), st.integers(0, 2**63 - 1)), st.booleans()),
        min_size=1,
        max_size=4,
    ),
    request_id=st.text(storable, max_size=64),
)
def test_the_databases_links_are_the_ones_verification_recomputes(cast, batch, request_id):
    request = RequestFactory().get("/")
    request.user, request.request_id = cast.nurse, request_id
    accesses = []
    for reference, child_id, allowed in batch:
        decision = Decision(
            allowed=allowed, basis=Basis.OWN_UNIT, unit=cast.bvc, reference=reference
        )
        accesses.append(Access(Action.VIEW_CHILD, Purpose.CARE, decision, child_id=child_id))
    with transaction.atomic():
        events = access_log_many(request=request, accesses=accesses)
    stored = AccessEvent.objects.in_bulk([e.pk for e in events])
    for event in events:
        assert stored[event.pk].hash == event.hash == stored[event.pk].compute_hash()
    assert audit_verify().intact
