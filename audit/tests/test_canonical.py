"""The bytes an event's hash covers are the chain's format since its first event: every field
but the id and the hash, as sorted-key JSON in UTF-8, whatever the content. A field added to
the model without being covered, or a change of the encoding, fails here (and would leave
events unprotected, or break the verification of every stored chain)."""

import datetime
import json

from hypothesis import given
from hypothesis import strategies as st

from audit.models import AccessEvent

# Any text, and text that looks like the encoding's own keys and escapes.
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(['"prev_hash": ""', '"seq": 0', '", "seq": 7, "', "\\", '\\"', "\x00\n"]),
)
ids = st.one_of(st.none(), st.integers(min_value=0, max_value=2**63 - 1))


@st.composite
def events(draw):  # type: ignore[no-untyped-def]
    return AccessEvent(
        seq=draw(st.integers(min_value=1, max_value=2**63 - 1)),
        occurred_at=draw(
            st.datetimes(
                min_value=datetime.datetime(2000, 1, 1),
                max_value=datetime.datetime(2100, 1, 1),
                timezones=st.just(datetime.UTC),
            )
        ),
        actor_id=draw(ids),
        actor_username=draw(texts),
        actor_name=draw(texts),
        actor_role=draw(texts),
        unit_id=draw(ids),
        unit_name=draw(texts),
        action=draw(texts),
        purpose=draw(texts),
        child_id=draw(ids),
        child_identifier=draw(texts),
        basis=draw(texts),
        basis_reference=draw(texts),
        allowed=draw(st.booleans()),
        request_id=draw(texts),
        prev_hash=draw(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)),
    )


def _as_first_written(event: AccessEvent) -> bytes:
    """The format as the chain's first events were written: every field but the id and the
    hash, as sorted-key JSON."""
    payload = {
        field.attname: getattr(event, field.attname)
        for field in AccessEvent._meta.concrete_fields
        if field.attname not in ("id", "hash")
    }
    payload["occurred_at"] = event.occurred_at.isoformat(timespec="microseconds")
    return json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")


@given(events())
def test_the_canonical_bytes_keep_the_chains_format(event):
    assert event.canonical() == _as_first_written(event)
