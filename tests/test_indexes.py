"""Every index earns its writes: none is a copy of the start of another.

Each row written is written to every index of its table; the kiosk writes eighteen answers a
submission. An index whose columns lead another index on the same table answers nothing the
longer one does not (a B-tree serves any leading part of its key), so it only costs. Django
makes such copies without being asked: an index for each foreign key, and on PostgreSQL a
second index "for LIKE" beside every unique or indexed text field."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db

OURS = {
    "accounts",
    "audit",
    "cases",
    "consent",
    "directory",
    "families",
    "meetings",
    "plans",
    "reports",
    "screening",
    "visits",
}


def _indexes(table: str) -> list[tuple[str, tuple[str, ...], bool]]:
    """The table's plain B-tree indexes: (name, columns, unique). Partial indexes (with a
    condition) are left out: they hold other rows than the full one."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
        pattern: set[str] = set()
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexrelid::regclass::text FROM pg_index"
                " WHERE indrelid = %s::regclass AND indpred IS NOT NULL",
                [table],
            )
            partial = {name for (name,) in cursor.fetchall()}
            # An index "for LIKE" (varchar_pattern_ops) answers prefix searches, which the
            # plain one beside it cannot: not a copy. Whether each earns its writes is for the
            # searches to say (the kiosk's hashes and keys have none, and no such index).
            cursor.execute(
                "SELECT indexrelid::regclass::text FROM pg_index"
                " WHERE indrelid = %s::regclass"
                " AND pg_get_indexdef(indexrelid) LIKE '%%pattern_ops%%'",
                [table],
            )
            pattern = {name for (name,) in cursor.fetchall()}
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s"
                " AND sql LIKE '%% WHERE %%'",
                [table],
            )
            partial = {name for (name,) in cursor.fetchall()}
    return [
        (
            name,
            tuple(
                f"{column} (pattern)" if name in pattern else column for column in info["columns"]
            ),
            bool(info["unique"] or info["primary_key"]),
        )
        for name, info in found.items()
        if info["index"] or info["unique"] or info["primary_key"]
        if info["columns"] and name not in partial and not info.get("foreign_key")
    ]


def test_no_index_is_a_copy_of_the_start_of_another():
    copies = []
    for model in apps.get_models():
        if model._meta.app_label not in OURS or not model._meta.managed:
            continue
        table = model._meta.db_table
        indexes = _indexes(table)
        for name, columns, unique in indexes:
            if unique:
                continue  # it says something a longer index does not
            for other, longer, _ in indexes:
                if other != name and longer[: len(columns)] == columns:
                    copies.append(f"{table}: {name} {columns} leads {other} {longer}")
                    break
    assert copies == [], "\n".join(copies)


def test_a_kiosk_submit_writes_its_rows_to_these_indexes_only():
    """The submit's rows (the claim, the response, its eighteen answers): each index here is
    read by something, and none other is written (no second index "for LIKE" on the keys)."""
    wanted = {
        "screening_submissionclaim": {("id",), ("idempotency_key",)},
        "screening_response": {
            ("id",),
            ("session_id",),
            ("idempotency_key",),
            ("screening_id",),
            ("guardian_id", "submitted_at"),
            ("unit_id", "submitted_at"),
            ("version_id",),  # a draft version's deletion asks whether it was answered
        },
        "screening_answer": {
            ("id",),
            ("response_id", "item_id"),
            ("item_id",),  # a draft's items are replaced: asked whether answered
        },
    }
    for table, columns in wanted.items():
        # answer_positive_idx, partial, holds the positive answers only (statistics)
        indexed = [found for _name, found, _unique in _indexes(table)]
        assert sorted(indexed) == sorted(columns), table


def test_a_person_is_written_to_these_indexes_only():
    """The two largest tables (two million children, more guardians): their numbers once
    each, without a second index "for LIKE" (a number is searched by the digits it contains,
    which no B-tree answers), and no index on the postal code (nothing looks it up; the
    home-visit areas compare it without its space, among a unit's children)."""
    # The units' covering indexes carry the names (INCLUDE: PostgreSQL only).
    names = ("last_name", "first_name") if connection.vendor == "postgresql" else ()
    wanted = {
        "families_child": {
            ("id",),
            ("identity_number",),
            ("reserve_number",),
            ("last_name", "first_name"),
            ("bvc_unit_id", "birth_date", "id", *names),
            ("school_unit_id", "id", *names),
        },
        "families_guardian": {("id",), ("identity_number",), ("reserve_number",)},
    }
    for table, columns in wanted.items():
        indexed = [found for _name, found, _unique in _indexes(table)]
        assert sorted(indexed) == sorted(columns), table
