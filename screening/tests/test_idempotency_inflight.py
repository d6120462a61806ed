"""A submission's idempotency key while its first request is still being stored: a duplicate
gets 409 (in flight), other answers under the key 422, and a claim left behind by a process
that died half-way expires, so a later retry stores the answers exactly once.

The in-flight state is made as a request in progress leaves it: its claim committed, no
response yet (the real race over HTTP, with processes killed mid-way, is in bench/crash.py)."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import request_as
from screening.kiosk_views import KIOSK, Texts
from screening.models import Answer, KioskSession, Response, SubmissionClaim
from screening.services import (
    CLAIM_TIMEOUT,
    ScreeningError,
    SubmissionConflict,
    SubmissionInFlight,
    _claim,
    _content_hash,
    occasions_for,
    response_submit,
    screening_start,
    session_for_code,
)
from screening.tests.test_kiosk import Tablet
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(cast):
    """An open kiosk session of a guardian, for a two-item questionnaire."""
    region = factories.region_of_unit(cast.bvc)
    child = factories.child(bvc=cast.bvc, birth=timezone.localdate() - datetime.timedelta(days=120))
    mother = factories.guardian_of(child)
    factories.questionnaire(items=2)
    _, codes = screening_start(
        request=request_as(cast.nurse),
        child=child,
        occasion=occasions_for(region)[1],
        guardians=[mother],
    )
    return codes[mother.pk]


def in_flight(key: str, language: str, answers: dict[int, str]) -> None:
    """What a request that is storing these answers right now has committed: its claim."""
    assert _claim(key, _content_hash(language, {str(k): v for k, v in answers.items()}))


def submit(code_or_id: str | int, answers: dict[int, str], key: str = "k1") -> Response:
    """A submit as a request makes it: the session read afresh, then stored."""
    if isinstance(code_or_id, int):
        session_id = code_or_id
    else:
        by_code = session_for_code(code_or_id)
        assert by_code is not None, "no open session for the code"
        session_id = by_code.pk
    session = KioskSession.objects.select_related("screening__version").get(pk=session_id)
    return response_submit(session=session, language="sv", answers=answers, idempotency_key=key)


def test_a_duplicate_while_the_first_is_still_stored_is_refused_as_in_flight(session):
    session_id = session_for_code(session).pk
    in_flight("k1", "sv", {1: "yes"})
    with pytest.raises(SubmissionInFlight):
        submit(session_id, {1: "yes"})
    assert not Response.objects.exists()


def test_other_answers_under_a_key_in_flight_are_a_conflict(session):
    session_id = session_for_code(session).pk
    in_flight("k1", "sv", {1: "yes"})
    with pytest.raises(SubmissionConflict):
        submit(session_id, {1: "no"})
    assert not Response.objects.exists()


def test_a_claim_left_by_a_crashed_process_expires_and_the_retry_stores_once(session):
    session_id = session_for_code(session).pk
    in_flight("k1", "sv", {1: "yes"})
    with time_machine.travel(timezone.now() + CLAIM_TIMEOUT + datetime.timedelta(seconds=1)):
        stored = submit(session_id, {1: "yes"})
        again = submit(session_id, {1: "yes"})
    assert stored.pk == again.pk and Response.objects.count() == 1
    assert Answer.objects.filter(response=stored).count() == 2
    assert not SubmissionClaim.objects.exists()


def test_a_stored_submission_leaves_no_claim_and_a_retry_gets_the_same_response(session):
    session_id = session_for_code(session).pk
    first = submit(session_id, {1: "yes", 2: "no"})
    assert not SubmissionClaim.objects.exists()
    assert submit(session_id, {1: "yes", 2: "no"}).pk == first.pk
    with pytest.raises(SubmissionConflict):
        submit(session_id, {1: "no", 2: "no"})
    assert Response.objects.count() == 1


def test_a_refused_submission_releases_its_claim(session):
    session_id = session_for_code(session).pk
    with pytest.raises(ScreeningError):
        submit(session_id, {7: "yes"})  # no such item
    assert not SubmissionClaim.objects.exists()
    assert submit(session_id, {1: "yes"}).idempotency_key == "k1"


def _reviewed(code: str) -> tuple[Tablet, str]:
    tablet = Tablet()
    tablet.begin(code)
    tablet.answer(1, "yes")
    tablet.answer(2, "", action="skip")
    found = re.search(r'name="key" value="([^"]+)"', tablet.review())
    assert found is not None, "the review page holds no key"
    return tablet, found.group(1)


def test_the_kiosk_answers_409_to_a_double_tap_in_flight_and_thanks_once_it_is_stored(session):
    tablet, key = _reviewed(session)
    in_flight(key, "sv", {1: "yes"})
    answer = tablet.post(reverse("kiosk:submit"), {"key": key})
    assert answer.status_code == 409
    assert Texts(None, "sv")["submit_in_flight"] in answer.content.decode()
    assert KIOSK in tablet.client.session  # the turn is kept for the next tap
    assert not Response.objects.exists()
    # The first request finishes (here: its claim expires and this tap stores the answers).
    with time_machine.travel(timezone.now() + CLAIM_TIMEOUT + datetime.timedelta(seconds=1)):
        done = tablet.post(reverse("kiosk:submit"), {"key": key})
        again = tablet.post(reverse("kiosk:submit"), {"key": key})
    assert done.status_code == again.status_code == 302
    assert done.url == again.url and done.url.startswith(reverse("kiosk:thanks") + "?")
    assert Response.objects.get().idempotency_key == key
    assert Answer.objects.get(item__number=1).option == "yes"


def test_the_kiosk_answers_422_to_other_answers_under_a_key_in_flight(session):
    tablet, key = _reviewed(session)
    in_flight(key, "sv", {1: "no"})
    answer = tablet.post(reverse("kiosk:submit"), {"key": key})
    assert answer.status_code == 422
    assert not Response.objects.exists()


def _submit_statements(tablet: Tablet, key: str) -> list[tuple[str, bool]]:
    """The statements of one submit, each with whether it ran inside a transaction of the
    submit's own (the test itself runs in one)."""
    inside: list[bool] = []
    outer = len(connection.atomic_blocks)

    def note(execute, sql, params, many, context):
        inside.append(len(connection.atomic_blocks) > outer)
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(note):
        answer = tablet.post(reverse("kiosk:submit"), {"key": key})
    assert answer.status_code == 302
    return [
        (q["sql"].split()[0], atomic)
        for q, atomic in zip(captured.captured_queries, inside, strict=True)
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "SET"))  # transaction control
    ]


def test_a_kiosk_submit_runs_a_fixed_number_of_statements(session, cast):
    """The submit is the kiosk's hot path: each statement is a round trip on every tablet.
    On PostgreSQL the claim is one statement and the store another (`submission_sql`); on
    SQLite the same steps are ORM statements in one transaction. The guardian's session goes
    with the stored answers (one commit for both). A published questionnaire's items are read
    by the first submit in a process only: the next guardian's submit does not read them."""
    tablet, key = _reviewed(session)
    first = _submit_statements(tablet, key)
    assert not Session.objects.exists()

    child = Response.objects.get().screening.child
    father = factories.guardian_of(child)
    _, codes = screening_start(
        request=request_as(cast.nurse),
        child=child,
        occasion=occasions_for(factories.region_of_unit(cast.bvc))[2],
        guardians=[father],
    )
    tablet, key = _reviewed(codes[father.pk])
    second = _submit_statements(tablet, key)
    assert Response.objects.count() == 2
    assert Answer.objects.filter(response__guardian=father).count() == 2

    if connection.vendor == "postgresql":
        assert [statement for statement, _ in first] == [
            "SELECT",  # the Django session
            "SELECT",  # the questionnaire's items (first use in this process)
            "WITH",  # the claim on the key, committed on its own without waiting for the disk
            "WITH",  # the code spent, the response, its answers, the claim and the session
        ]
        assert [statement for statement, _ in second] == ["SELECT", "WITH", "WITH"]
        return
    assert first == [
        ("SELECT", False),  # the Django session
        ("SELECT", False),  # the questionnaire's items (first use in this process)
        ("INSERT", True),  # the claim on the key, committed on its own
        ("UPDATE", True),  # the code checked, locked and spent in one
        ("SELECT", True),  # the spent session, with its screening
        ("INSERT", True),  # the response
        ("INSERT", True),  # its answers, one statement
        ("DELETE", True),  # the claim (and any left by a dead process a day ago)
        ("DELETE", True),  # the Django session, removed in one statement (samverkan.sessions)
    ]
    assert first[:1] + first[2:] == second  # no SELECT of the items


def test_claims_that_dead_processes_left_a_day_ago_go_with_the_next_stored_submission(session):
    long_ago = timezone.now() - datetime.timedelta(days=2)
    with time_machine.travel(long_ago):
        in_flight("never-retried", "sv", {1: "yes"})
    in_flight("still-recent", "sv", {1: "yes"})
    submit(session, {1: "yes"})
    assert list(SubmissionClaim.objects.values_list("idempotency_key", flat=True)) == [
        "still-recent"
    ]


def test_a_double_tap_answered_in_flight_while_the_first_tap_ends_the_turn_is_no_error(session):
    """The race the crash test found: the second tap is answered 409 (in flight), and before
    its response is written the first tap has stored the answers and removed the session.
    The second tap's answer stays the 409 (Django would make it a 400), and the ended session
    is not written back."""
    tablet, key = _reviewed(session)
    in_flight(key, "sv", {1: "yes"})
    session_key = tablet.client.session.session_key

    def first_tap_ends_the_turn(execute, sql, params, many, context):
        found = execute(sql, params, many, context)
        if sql.startswith("SELECT") and '"screening_submissionclaim"' in sql:  # found in flight
            Session.objects.filter(session_key=session_key).delete()
        return found

    with connection.execute_wrapper(first_tap_ends_the_turn):
        answer = tablet.post(reverse("kiosk:submit"), {"key": key})
    assert answer.status_code == 409
    assert not Session.objects.filter(session_key=session_key).exists()


def test_a_submit_that_fails_while_storing_keeps_the_turn_and_the_retry_stores_once(session):
    """The guardian's session goes in the transaction that stores the answers: if that
    transaction fails (here the answers' INSERT, as when the database dies), the session and
    its cookie stay, and sending again stores the answers once."""
    tablet, key = _reviewed(session)
    session_key = tablet.client.session.session_key
    tablet.client.raise_request_exception = False

    def answers_fail(execute, sql, params, many, context):
        if '"screening_answer"' in sql and not sql.startswith("SELECT"):  # what writes them
            raise OperationalError("the database went away")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(answers_fail):
        failed = tablet.post(reverse("kiosk:submit"), {"key": key})
    assert failed.status_code == 500
    assert not Response.objects.exists()
    assert Session.objects.filter(session_key=session_key).exists()
    assert tablet.client.cookies[settings.SESSION_COOKIE_NAME].value == session_key
    assert not SubmissionClaim.objects.exists()

    done = tablet.post(reverse("kiosk:submit"), {"key": key})
    assert done.status_code == 302 and done.url.startswith(reverse("kiosk:thanks") + "?")
    assert Response.objects.get().idempotency_key == key
    assert not Session.objects.filter(session_key=session_key).exists()
    assert tablet.client.cookies[settings.SESSION_COOKIE_NAME].value == ""  # dropped


@pytest.mark.parametrize("ended", ["cancelled", "expired"])
def test_a_code_ended_while_the_guardian_reviews_stores_nothing(session, ended):
    """The submit no longer reads the kiosk session first: the statement that spends the
    code checks it is still open, so a code the nurse cancelled, or one whose answering time
    ran out, on the review page gets the code entry and nothing is written."""
    tablet, key = _reviewed(session)
    if ended == "cancelled":
        KioskSession.objects.update(cancelled_at=timezone.now())
    else:
        KioskSession.objects.update(expires_at=timezone.now())
    answer = tablet.post(reverse("kiosk:submit"), {"key": key})
    assert answer.status_code == 200
    assert 'name="code"' in answer.content.decode()
    assert not Response.objects.exists() and not Answer.objects.exists()
    assert not SubmissionClaim.objects.exists()
    assert KioskSession.objects.get().submitted_at is None
    assert KIOSK not in tablet.client.session


def test_a_turn_begun_before_turns_kept_their_version_is_stored_once(session):
    """A turn's Django session keeps its questionnaire version (`Turn.save`); one begun by
    the code before that (a deploy while guardians answer) finds it from its kiosk session."""
    tablet, key = _reviewed(session)
    stored = tablet.client.session
    turn = stored[KIOSK]
    version = turn.pop("version")
    stored[KIOSK] = turn
    stored.save()
    answer = tablet.post(reverse("kiosk:submit"), {"key": key})
    assert answer.status_code == 302 and f"version={version}" in answer.url
    response = Response.objects.get()
    assert response.version_id == version and response.idempotency_key == key
    assert Answer.objects.filter(response=response).count() == 2


def test_a_turn_without_a_version_whose_kiosk_session_is_gone_gets_the_code_entry(session):
    tablet, key = _reviewed(session)
    stored = tablet.client.session
    turn = stored[KIOSK]
    del turn["version"]
    turn["session"] = KioskSession.objects.get().pk + 1000
    stored[KIOSK] = turn
    stored.save()
    answer = tablet.post(reverse("kiosk:submit"), {"key": key})
    assert answer.status_code == 200 and 'name="code"' in answer.content.decode()
    assert not Response.objects.exists() and not SubmissionClaim.objects.exists()
    assert KIOSK not in tablet.client.session


def test_only_the_claims_own_commit_skips_waiting_for_the_disk(session):
    """A claim lost in a crash is harmless, so on PostgreSQL its commit does not wait for the
    disk. The setting must end with the claim's own transaction, or the answers stored next
    on the same connection could be acknowledged before they are on disk. It is watched on a
    connection of its own, where the claim commits as in a request. SQLite has one durability
    for the whole file: FULL, before and after a claim."""
    from screening import submission_sql
    from screening.services import _claim_inserted

    if connection.vendor != "postgresql":
        assert _claim_inserted("k-durable", "digest", "token", timezone.now())
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 2
        return
    import psycopg

    claim = ["k-durable", "digest", "token", timezone.now()]
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        with other.transaction(force_rollback=True):  # the claim's transaction, seen inside
            assert other.execute(submission_sql.CLAIM, claim).fetchone() is not None
            assert other.execute("SHOW synchronous_commit").fetchone() == ("off",)
        try:
            assert other.execute(submission_sql.CLAIM, claim).fetchone() is not None
            assert other.execute("SHOW synchronous_commit").fetchone() == ("on",)
        finally:
            other.execute(
                "DELETE FROM screening_submissionclaim WHERE idempotency_key = %s", claim[:1]
            )
