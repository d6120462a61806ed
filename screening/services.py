"""Starting a screening, the guardians' one-time codes, and storing a submitted answer set."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import access_log
from consent import policy
from consent.policy import Purpose
from consent.services import custodial_guardians
from directory.models import Organisation
from families.models import Child, Guardian

from .models import (
    Answer,
    KioskSession,
    Occasion,
    QuestionnaireVersion,
    RegionScreeningSettings,
    Response,
    Screening,
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
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud without doubt
CODE_LENGTH = 8


class ScreeningError(ValueError):
    """A screening act that cannot be carried out; the message is for the user."""


class SubmissionConflict(ScreeningError):
    """The same idempotency key came with other answers (HTTP 422 in an API)."""


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
    decision = policy.may_run_screening(request.user, child)  # type: ignore[arg-type]
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
            unit=decision.unit,
            occasion=occasion,
            version=version_in_use(region),
            started_by=request.user,
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
    if session is None or session.submitted_at or session.cancelled_at:
        return None
    if session.expires_at <= timezone.now():
        return None
    return session


def _content_hash(language: str, answers: dict[int, str]) -> str:
    payload = json.dumps({"language": language, "answers": answers}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def response_submit(
    *, session_id: int, language: str, answers: dict[int, str], idempotency_key: str
) -> Response:
    """Store a guardian's answers once. A retried submit with the same key and answers
    returns the stored response; the same key with other answers is a SubmissionConflict;
    a session already submitted under another key is refused. Unanswered items are kept as
    unanswered (the guardian may skip)."""
    digest = _content_hash(language, {str(k): v for k, v in answers.items()})
    existing = Response.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.content_hash != digest or existing.session_id != session_id:
            raise SubmissionConflict(_("These answers differ from the ones already sent."))
        return existing
    try:
        with transaction.atomic():
            session = (
                KioskSession.objects.select_for_update()
                .select_related("screening__version")
                .get(pk=session_id)
            )
            if session.submitted_at or session.cancelled_at or session.expires_at <= timezone.now():
                raise ScreeningError(_("This code can no longer be used."))
            version = session.screening.version
            items = {item.number: item for item in version.items.all()}
            unknown = [n for n in answers if n not in items]
            if unknown or any(v and v not in items[n].options for n, v in answers.items()):
                raise ScreeningError(_("An answer does not belong to the questionnaire."))
            now = timezone.now()
            response = Response.objects.create(
                session=session,
                screening=session.screening,
                guardian=session.guardian,
                version=version,
                language=language,
                submitted_at=now,
                idempotency_key=idempotency_key,
                content_hash=digest,
            )
            Answer.objects.bulk_create(
                Answer(
                    response=response,
                    item=item,
                    option=answers.get(number) or "",
                    positive=bool(answers.get(number)) and answers[number] in item.positive,
                )
                for number, item in items.items()
            )
            KioskSession.objects.filter(pk=session.pk).update(submitted_at=now)
    except IntegrityError:
        # A concurrent double tap won the race: hand back what it stored.
        existing = Response.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None or existing.content_hash != digest:
            raise
        return existing
    return response
