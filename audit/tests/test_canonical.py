"""The bytes an event's hash covers are the chain's format since its first event: every field
but the id and the hash, as sorted-key JSON in UTF-8, whatever the content. A field added to
the model without being covered, or a change of the encoding, fails here (and would leave
events unprotected, or break the verification of every stored chain)."""

import datetime
import json

from django.db import models
from hypothesis import given
from hypothesis import strategies as st

from audit.models import AccessEvent

# Any text, and text that looks like the encoding's own keys and escapes.
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(['"prev_hash": ""', '"seq": 0', '", "seq": 7, "', "\\", '\\"', "\x00\n"]),
)
ids = st.one_of(st.none(), st.integers(min_value=0, max_value=2**63 - 1))


def _drawn(field: models.Field) -> st.SearchStrategy:
    if isinstance(field, models.DateTimeField):
        return st.datetimes(
            min_value=datetime.datetime(2000, 1, 1),
            max_value=datetime.datetime(2100, 1, 1),
            timezones=st.just(datetime.UTC),
        )
    if isinstance(field, models.BooleanField):
        return st.booleans()
    if isinstance(field, models.BigIntegerField):
        return ids
    return texts


# Every field the hash covers, drawn by its type; the link fields as the chain makes them.
events = st.builds(
    AccessEvent,
    **{
        field.attname: _drawn(field)
        for field in AccessEvent._meta.concrete_fields
        if field.attname not in ("id", "hash", "seq", "prev_hash")
    },
    seq=st.integers(min_value=1, max_value=2**63 - 1),
    prev_hash=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
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


@given(events)
def test_the_canonical_bytes_keep_the_chains_format(event):
    assert event.canonical() == _as_first_written(event)
