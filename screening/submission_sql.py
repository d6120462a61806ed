"""The kiosk submit's statements on PostgreSQL, written out (`services.answers_submit`).

Every guardian at every tablet makes this submit. As ORM statements it took a dozen round
trips, and most of its time went into compiling them (profiled: about three quarters of
the request). Here each step is one statement that PostgreSQL runs as its own transaction:
the claim, then the store. What they do is the same as the ORM steps that SQLite runs
(`services._claim_inserted`, `services._store_in_steps`): the tests run on both.
"""

from __future__ import annotations

# The claim on an idempotency key, unless the key has one: a row back if it was inserted. Its
# commit does not wait for the disk (`samverkan.db.commit_without_waiting`, as one statement:
# a local setting lasts to the end of this statement's own transaction).
CLAIM = """
WITH asynchronous AS (SELECT set_config('synchronous_commit', 'off', true))
INSERT INTO "screening_submissionclaim" ("idempotency_key", "content_hash", "token", "claimed_at")
SELECT %s, %s, %s, %s FROM asynchronous
ON CONFLICT ("idempotency_key") DO NOTHING
RETURNING "id"
"""

# The columns STORE returns (the stored response's), in order (`Response.from_db`).
STORE_RETURNS = [
    "id",
    "session_id",
    "screening_id",
    "unit_id",
    "guardian_id",
    "version_id",
    "language",
    "submitted_at",
    "idempotency_key",
    "content_hash",
]

# The code checked, locked and spent (still open, of the version the answers were checked
# against); the response and its answers; our claim removed with any a dead process left
# (`services.STALE_CLAIMS`); and the guardian's Django session ended. All or nothing: a
# response's key already stored fails the whole statement (IntegrityError). Only a spent
# code writes anything: no row back means the code was not open.
STORE = f"""
WITH spent AS (
    UPDATE "screening_kiosksession" AS k SET "submitted_at" = %(now)s
    FROM "screening_screening" AS s
    WHERE k."id" = %(session)s AND k."submitted_at" IS NULL AND k."cancelled_at" IS NULL
      AND k."expires_at" > %(now)s AND s."id" = k."screening_id"
      AND s."version_id" = %(version)s
    RETURNING k."id", k."screening_id", s."unit_id", k."guardian_id", s."version_id"
), response AS (
    INSERT INTO "screening_response" ("session_id", "screening_id", "unit_id", "guardian_id",
        "version_id", "language", "submitted_at", "idempotency_key", "content_hash")
    SELECT "id", "screening_id", "unit_id", "guardian_id", "version_id",
        %(language)s, %(now)s, %(key)s, %(digest)s
    FROM spent
    RETURNING {", ".join(f'"{column}"' for column in STORE_RETURNS)}
), answers AS (
    INSERT INTO "screening_answer" ("response_id", "item_id", "option", "positive")
    SELECT response."id", a."item", a."option", a."positive"
    FROM response, UNNEST(%(items)s::bigint[], %(options)s::varchar[], %(positive)s::boolean[])
        AS a("item", "option", "positive")
), released AS (
    DELETE FROM "screening_submissionclaim"
    WHERE ("idempotency_key" = %(key)s AND "token" = %(token)s) OR "claimed_at" < %(stale)s
), ended AS (
    DELETE FROM "django_session"
    WHERE "session_key" = %(turn)s AND EXISTS (SELECT FROM response)
)
SELECT * FROM response
"""  # noqa: S608 (the only value put in is STORE_RETURNS, a constant)
