"""The bytes an event's hash covers, under each scheme, whatever the content. A field added to
the model without being covered, or a change of the encoding, fails here (and would leave
events unprotected, or break the verification of every stored chain).

- `Scheme.WHOLE`, the chain's first events: every field but the id, the hash and the scheme
  (which came later), as sorted-key JSON in UTF-8.
- `Scheme.LINKED`: SHA-256 of "previous hash:seq:SHA-256 of every other field but the id and
  the hash, as sorted-key JSON in UTF-8"."""

import datetime
import hashlib
import json

from django.db import models
from hypothesis import given
from hypothesis import strategies as st

from audit.models import AccessEvent, Scheme

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
        if field.attname not in ("id", "hash", "seq", "prev_hash", "scheme")
    },
    scheme=st.sampled_from(Scheme),
    seq=st.integers(min_value=1, max_value=2**63 - 1),
    prev_hash=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
)


def _json_of_fields_but(event: AccessEvent, *left_out: str) -> bytes:
    payload = {
        field.attname: getattr(event, field.attname)
        for field in AccessEvent._meta.concrete_fields
        if field.attname not in ("id", "hash", *left_out)
    }
    payload["occurred_at"] = event.occurred_at.isoformat(timespec="microseconds")
    return json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")


@given(events)
def test_the_canonical_bytes_keep_the_chains_first_format(event):
    assert event.canonical() == _json_of_fields_but(event, "scheme")
    if event.scheme == Scheme.WHOLE:
        assert event.compute_hash() == hashlib.sha256(event.canonical()).hexdigest()


@given(events)
def test_a_linked_hash_covers_the_link_and_every_other_field(event):
    body = _json_of_fields_but(event, "seq", "prev_hash")
    assert event.body() == body
    if event.scheme == Scheme.LINKED:
        link = f"{event.prev_hash}:{event.seq}:{hashlib.sha256(body).hexdigest()}"
        assert event.compute_hash() == hashlib.sha256(link.encode("ascii")).hexdigest()
