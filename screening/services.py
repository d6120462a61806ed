"""Starting a screening, the guardians' one-time codes, and storing a submitted answer set."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import access_log
from cases.models import Referral
from consent import policy
from consent.policy import Purpose
from consent.services import custodial_guardians
from directory.models import Organisation, Service
from families.models import Child, Guardian
from samverkan.db import commit_without_waiting
from samverkan.sessions import SessionStore

from . import submission_sql
from .items import items_by_number
from .models import (
    Answer,
    FollowUp,
    Item,
    KioskAttempt,
    KioskSession,
    Occasion,
    QuestionnaireVersion,
    RegionScreeningSettings,
    Response,
    Screening,
    SubmissionClaim,
)

# The default BarnSäkert occasions: (Swedish, English, from day, to day of the child's age).
DEFAULT_OCCASIONS = [
    ("6–8 veckor", "6–8 weeks", 42, 70),
    ("4 månader", "4 months", 110, 150),
    ("10 månader", "10 months", 290, 340),
    ("18 månader", "18 months", 530, 600),
    ("2,5 år", "2.5 years", 880, 960),
    ("4 år", "4 years", 1430, 1520),
]
ANSWERING_TIME = datetime.timedelta(minutes=60)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud without doubt
CODE_LENGTH = 8
# Guessing: an address that has entered this many unusable codes waits out the window.
KIOSK_ATTEMPT_LIMIT = 10
KIOSK_ATTEMPT_WINDOW = datetime.timedelta(minutes=15)
# A submission's claim on its idempotency key: longer than any store takes, short enough that
# a retry after a crashed process gets through soon.
CLAIM_TIMEOUT = datetime.timedelta(seconds=30)
# A claim this old was left by a dead process and its key never retried: the next stored
# submission removes it.
STALE_CLAIMS = datetime.timedelta(days=1)


class ScreeningError(ValueError):
    """A screening act that cannot be carried out; the message is for the user."""


class SubmissionConflict(ScreeningError):
    """The same idempotency key came with other answers (HTTP 422 in an API)."""


class SubmissionInFlight(ScreeningError):
    """The same idempotency key is being stored by another request right now (HTTP 409)."""


class TooManyAttempts(ScreeningError):
    """Too many unusable codes from one address within the throttle window (HTTP 429)."""


def region_of(child: Child) -> Organisation | None:
    unit = child.bvc_unit
    if unit is None:
        return None
    return unit.organisation if unit.organisation.kind == "region" else unit.organisation.region


def occasions_for(region: Organisation) -> list[Occasion]:
    """The region's occasions; the six defaults are created the first time they are asked for."""
    occasions = list(Occasion.objects.filter(region=region).order_by("order"))
    if not occasions:
        Occasion.objects.bulk_create(
            Occasion(
                region=region, order=i + 1, name_sv=sv, name_en=en, min_age_days=lo, max_age_days=hi
            )
            for i, (sv, en, lo, hi) in enumerate(DEFAULT_OCCASIONS)
        )
        occasions = list(Occasion.objects.filter(region=region).order_by("order"))
    return occasions


def region_settings(region: Organisation) -> RegionScreeningSettings:
    found, _ = RegionScreeningSettings.objects.get_or_create(region=region)
    return found


def version_in_use(region: Organisation) -> QuestionnaireVersion:
    chosen = region_settings(region).version_in_use
    if chosen is not None:
        return chosen
    latest = (
        QuestionnaireVersion.objects.filter(published_at__isnull=False)
        .order_by("-published_at")
        .first()
    )
    if latest is None:
        raise ScreeningError(_("No questionnaire has been published yet."))
    return latest


def code_hash(code: str) -> str:
    """Codes are stored only as a keyed hash: a database copy does not reveal live codes."""
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    return hmac.new(settings.SECRET_KEY.encode(), normal.encode(), hashlib.sha256).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def screening_start(
    *, request: HttpRequest, child: Child, occasion: Occasion, guardians: list[Guardian]
) -> tuple[Screening, dict[int, str]]:
    """Start a screening for the guardians present; each gets a one-time code (shown once)."""
    decision = policy.may_run_screening(request.user, child)
    if not decision.allowed:
        raise ScreeningError(_("Screenings are run by the child's own BVC."))
    if not guardians:
        raise ScreeningError(_("Choose the guardian or guardians who are present."))
    custodians = {g.pk for g in custodial_guardians(child)}
    if any(g.pk not in custodians for g in guardians):
        raise ScreeningError(_("Only the child's guardians answer the questionnaire."))
    region = region_of(child)
    if region is None or occasion.region_id != region.pk:
        raise ScreeningError(_("That occasion does not belong to the child's region."))
    minutes = region_settings(region).code_minutes
    codes: dict[int, str] = {}
    with transaction.atomic():
        screening = Screening.objects.create(
            child=child,
            unit=decision.through_unit,
            occasion=occasion,
            version=version_in_use(region),
            started_by=policy.acting_professional(request.user),
        )
        for guardian in guardians:
            code = _new_code()
            KioskSession.objects.create(
                screening=screening,
                guardian=guardian,
                code_hash=code_hash(code),
                expires_at=timezone.now() + datetime.timedelta(minutes=minutes),
            )
            codes[guardian.pk] = code
        access_log(
            request=request,
            action=Action.SCREENING_START,
            purpose=Purpose.CARE,
            decision=decision,
            child=child,
        )
    return screening, codes


def session_for_code(code: str) -> KioskSession | None:
    """The open session for `code`, or None: expired, used, cancelled and unknown codes look
    the same to the caller, so a guess learns nothing."""
    session = (
        KioskSession.objects.select_related("screening__version")
        .filter(code_hash=code_hash(code))
        .first()
    )
    # A code works once: after it has been opened at the kiosk it cannot be entered again.
    if session is None or session.opened_at or session.submitted_at or session.cancelled_at:
        return None
    if session.expires_at <= timezone.now():
        return None
    return session


def kiosk_session_open(*, code: str, client_ip: str) -> KioskSession | None:
    """The open session for `code` at the kiosk, marked opened the first time; None for a
    code that cannot be used, which counts as a failed attempt for `client_ip`.

    Raises TooManyAttempts, before the code is even looked up, once the address has failed
    KIOSK_ATTEMPT_LIMIT times within KIOSK_ATTEMPT_WINDOW. Attempts are rows in the database,
    so the limit holds across app processes.
    """
    now = timezone.now()
    since = now - KIOSK_ATTEMPT_WINDOW
    with transaction.atomic():
        recent = KioskAttempt.objects.filter(client_ip=client_ip, attempted_at__gt=since)
        if recent.count() >= KIOSK_ATTEMPT_LIMIT:
            raise TooManyAttempts(_("Too many attempts. Please wait a while."))
        session = session_for_code(code)
        if session is None:
            KioskAttempt.objects.filter(attempted_at__lte=since).delete()
            KioskAttempt.objects.create(client_ip=client_ip, attempted_at=now)
            return None
        # The code's own validity ends here; the guardian gets ANSWERING_TIME to answer, so
        # a slow or interrupted guardian does not lose the answers to the code's clock.
        session.opened_at, session.expires_at = now, now + ANSWERING_TIME
        KioskSession.objects.filter(pk=session.pk, opened_at__isnull=True).update(
            opened_at=session.opened_at, expires_at=session.expires_at
        )
    return session


def _content_hash(language: str, answers: dict[str, str]) -> str:
    payload = json.dumps({"language": language, "answers": answers}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _stored(idempotency_key: str, session_id: int, digest: str) -> Response | None:
    """The response already stored under the key, if any; SubmissionConflict if it holds
    other answers (or belongs to another session)."""
    existing = Response.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None and (
        existing.content_hash != digest or existing.session_id != session_id
    ):
        raise SubmissionConflict(_("These answers differ from the ones already sent."))
    return existing


def _claim(idempotency_key: str, digest: str) -> str | None:
    """Claim the key in a committed step of its own; the claim's token, or None when a claim
    vanished under us (its request just finished: look again). A live claim of another
    request is SubmissionInFlight (or SubmissionConflict for other answers); a stale one,
    left by a process that died, is taken over."""
    token, now = secrets.token_hex(16), timezone.now()
    # A claim lost in a crash is harmless (its request died with it), so its commit need not
    # wait for the disk; the response's own commit flushes it anyway.
    if _claim_inserted(idempotency_key, digest, token, now):
        return token
    if SubmissionClaim.objects.filter(
        idempotency_key=idempotency_key, claimed_at__lte=now - CLAIM_TIMEOUT
    ).update(content_hash=digest, token=token, claimed_at=now):
        return token
    current = SubmissionClaim.objects.filter(idempotency_key=idempotency_key).first()
    if current is None:
        return None
    if current.content_hash != digest:
        raise SubmissionConflict(_("These answers differ from the ones already sent."))
    raise SubmissionInFlight(_("These answers are being sent right now."))


def _claim_inserted(idempotency_key: str, digest: str, token: str, now: datetime.datetime) -> bool:
    """Insert the claim unless the key has one; whether it was inserted. On PostgreSQL one
    statement, committed without waiting for the disk (`submission_sql.CLAIM`); elsewhere
    the ORM in a transaction of its own."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(submission_sql.CLAIM, [idempotency_key, digest, token, now])
            return cursor.fetchone() is not None
    try:
        with commit_without_waiting():
            SubmissionClaim.objects.create(
                idempotency_key=idempotency_key, content_hash=digest, token=token, claimed_at=now
            )
    except IntegrityError:
        return False
    return True


def _release(idempotency_key: str, token: str) -> QuerySet[SubmissionClaim]:
    """Our claim, and with it any claim a dead process left a day ago whose key was never
    retried: one DELETE clears both (`submission_sql.STORE` does the same on PostgreSQL)."""
    return SubmissionClaim.objects.filter(
        Q(idempotency_key=idempotency_key, token=token)
        | Q(claimed_at__lt=timezone.now() - STALE_CLAIMS)
    )


def response_submit(
    *,
    session: KioskSession,
    language: str,
    answers: dict[int, str],
    idempotency_key: str,
    turn_key: str | None = None,
) -> Response:
    """Store a guardian's answers once (`answers_submit`) for a kiosk session at hand."""
    response = answers_submit(
        session_id=session.pk,
        version_id=session.screening.version_id,
        language=language,
        answers=answers,
        idempotency_key=idempotency_key,
        turn_key=turn_key,
    )
    session.submitted_at = response.submitted_at
    return response


def answers_submit(
    *,
    session_id: int,
    version_id: int,
    language: str,
    answers: dict[int, str],
    idempotency_key: str,
    turn_key: str | None = None,
) -> Response:
    """Store a guardian's answers once. A retried submit with the same key and answers
    returns the stored response; the same key with other answers is a SubmissionConflict;
    the same key while its first submit is still being stored is SubmissionInFlight; a
    session already submitted under another key, cancelled or expired is refused. Unanswered
    items are kept as unanswered (the guardian may skip). The answers are checked against
    `version_id`, the version the screening was started with (the store checks it too).

    The key is claimed first, in a step of its own (`SubmissionClaim`), and the claim goes in
    the transaction that stores the response: a crash in between leaves a claim that expires
    after CLAIM_TIMEOUT, never a half-stored response.

    `turn_key`: the guardian's Django session, removed in the transaction that stores the
    answers, so both commit together or not at all (a failed store keeps the turn), or after,
    when a retry finds the answers stored already."""
    items = items_by_number(version_id)
    if any(n not in items or (v and v not in items[n].options) for n, v in answers.items()):
        raise ScreeningError(_("An answer does not belong to the questionnaire."))
    digest = _content_hash(language, {str(k): v for k, v in answers.items()})
    for _attempt in range(3):
        token = _claim(idempotency_key, digest)
        if token is not None:
            break
        existing = _stored(idempotency_key, session_id, digest)
        if existing is not None:
            _end_turn(turn_key)
            return existing
    else:
        raise SubmissionInFlight(_("These answers are being sent right now."))
    submission = _Submission(
        session_id=session_id,
        version_id=version_id,
        language=language,
        rows=[
            (item.pk, answers.get(number) or "", _positive(item, answers.get(number)))
            for number, item in items.items()
        ],
        idempotency_key=idempotency_key,
        digest=digest,
        token=token,
        turn_key=turn_key,
    )
    try:
        return _store(submission)
    except BaseException:
        SubmissionClaim.objects.filter(idempotency_key=idempotency_key, token=token).delete()
        raise


def _positive(item: Item, option: str | None) -> bool:
    return bool(option) and option in item.positive


@dataclass(frozen=True)
class _Submission:
    session_id: int
    version_id: int
    language: str
    rows: list[tuple[int, str, bool]]  # item id, option ("" unanswered), positive
    idempotency_key: str
    digest: str
    token: str
    turn_key: str | None


def _end_turn(turn_key: str | None) -> None:
    if turn_key is not None:
        SessionStore().delete(turn_key)


def _store(submission: _Submission) -> Response:
    """The response, its answers, the code spent, the claim removed and the turn ended, in
    one transaction. A retry of a submit that went through finds the session spent and gets
    the stored response (or SubmissionConflict for other answers)."""
    now = timezone.now()
    try:
        if connection.vendor == "postgresql":
            response = _store_in_one_statement(submission, now)
        else:
            response = _store_in_steps(submission, now)
    except IntegrityError:
        # The key is stored already: by a request that took over our claim as stale and won
        # the race (hand back what it stored), or by another session (a conflict).
        response = None
    if response is not None:
        return response
    existing = _stored(submission.idempotency_key, submission.session_id, submission.digest)
    if existing is None:
        raise ScreeningError(_("This code can no longer be used."))
    _release(submission.idempotency_key, submission.token).delete()
    _end_turn(submission.turn_key)
    return existing


def _store_in_one_statement(submission: _Submission, now: datetime.datetime) -> Response | None:
    """PostgreSQL: all of `_store_in_steps` in one statement (`submission_sql.STORE`), so one
    round trip and one commit. The submit is what every guardian makes; as a dozen ORM
    statements its time went mostly into compiling them. Nothing is written unless the
    code is still open: then the stored response, else None."""
    rows = submission.rows
    params: dict[str, int | str | datetime.datetime | list[int] | list[str] | list[bool]] = {
        "session": submission.session_id,
        "version": submission.version_id,
        "now": now,
        "language": submission.language,
        "key": submission.idempotency_key,
        "digest": submission.digest,
        "token": submission.token,
        "stale": now - STALE_CLAIMS,
        "items": [item_id for item_id, _option, _positive in rows],
        "options": [option for _item_id, option, _positive in rows],
        "positive": [positive for _item_id, _option, positive in rows],
        "turn": submission.turn_key or "",
    }
    # Inside a caller's transaction, a savepoint keeps a refused statement from ending it.
    savepoint = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with savepoint, connection.cursor() as cursor:
        cursor.execute(submission_sql.STORE, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return Response.from_db(connection.alias, submission_sql.STORE_RETURNS, row)


def _store_in_steps(submission: _Submission, now: datetime.datetime) -> Response | None:
    """What `_store_in_one_statement` does, as ORM statements in one transaction (SQLite)."""
    with transaction.atomic():
        # Check, lock and spend the code in one statement: no other submit of this session
        # gets past here until we commit, and then it finds the code spent.
        spent = KioskSession.objects.filter(
            pk=submission.session_id,
            submitted_at__isnull=True,
            cancelled_at__isnull=True,
            expires_at__gt=now,
            screening__version_id=submission.version_id,
        ).update(submitted_at=now)
        if not spent:
            return None
        session = KioskSession.objects.select_related("screening").get(pk=submission.session_id)
        response = Response.objects.create(
            session=session,
            screening=session.screening,
            unit_id=session.screening.unit_id,
            guardian_id=session.guardian_id,
            version_id=submission.version_id,
            language=submission.language,
            submitted_at=now,
            idempotency_key=submission.idempotency_key,
            content_hash=submission.digest,
        )
        Answer.objects.bulk_create(
            Answer(response=response, item_id=item_id, option=option, positive=positive)
            for item_id, option, positive in submission.rows
        )
        _release(submission.idempotency_key, submission.token).delete()
        _end_turn(submission.turn_key)
    return response


def follow_up_record(
    *,
    request: HttpRequest,
    response: Response,
    conversation: str,
    summary: str = "",
    offered: list[Service] | None = None,
    reply: str = "",
    referral: Referral | None = None,
) -> FollowUp:
    """Document the nurse's conversation with one guardian about their answers: a summary that
    may be shared under a consent (never the answers themselves), the support offered from the
    resource directory, the guardian's answer to it and the referral, if one was made.

    Written only by the child's own BVC, the unit that reads the answers; one transaction
    together with its audit entry."""
    child = response.screening.child
    decision = policy.may_run_screening(request.user, child)
    if not decision.allowed:
        raise ScreeningError(_("Follow-ups are written by the child's own BVC."))
    conversation, offered = conversation.strip(), list(offered or [])
    if not conversation:
        raise ScreeningError(_("Describe the conversation."))
    if reply and reply not in FollowUp.Reply.values:
        raise ScreeningError(_("Choose accepted, declined or later."))
    if offered and not reply:
        raise ScreeningError(_("Record the guardian's answer to the support offered."))
    if reply and not offered:
        raise ScreeningError(_("Choose the support that was offered."))
    if any(not service.active for service in offered):
        raise ScreeningError(_("A service offered is no longer in the resource directory."))
    if referral is not None and referral.child_id != child.pk:
        raise ScreeningError(_("That referral is not for this child."))
    with transaction.atomic():
        follow_up = FollowUp.objects.create(
            response=response,
            unit=decision.through_unit,
            written_by=policy.acting_professional(request.user),
            conversation=conversation,
            summary=summary.strip(),
            reply=reply,
            referral=referral,
        )
        follow_up.offered.set(offered)
        access_log(
            request=request,
            action=Action.SCREENING_FOLLOW_UP,
            purpose=Purpose.CARE,
            decision=decision,
            child=child,
        )
    return follow_up
