"""Fictional BarnSäkert history: families with one to five past occasions, each guardian
answering separately, with answers that change over time so the trends show; follow-ups with
offers from the resource directory; the joint support calendar of BVC and social services."""

from __future__ import annotations

import datetime
import hashlib
import random
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from consent.services import custodial_guardians
from directory.models import Organisation, Professional, Service, Unit
from families.models import Child
from screening.models import (
    Answer,
    FollowUp,
    Item,
    KioskSession,
    QuestionnaireVersion,
    Response,
    Screening,
    SupportSlot,
)
from screening.services import occasions_for, region_of

FAMILIES = 40


def demo_screening_load(
    anchor: datetime.date, *, on_family: Callable[[], object] | None = None
) -> int:
    """Returns the number of families given a history (0 when already loaded)."""
    version = (
        QuestionnaireVersion.objects.filter(published_at__isnull=False)
        .order_by("-published_at")
        .first()
    )
    if version is None or Response.objects.exists():
        return 0
    rng = random.Random("samverkan-demo-screening")  # noqa: S311 - fictional data
    items = list(version.items.order_by("number"))
    nurse = Professional.objects.get(username="bvc-sjukskoterska")
    units = list(Unit.objects.filter(name__in=["BVC Ekby centrum", "BVC Ekby norra"]))
    services = list(Service.objects.all())
    children = [
        c
        for c in Child.objects.filter(bvc_unit__in=units).order_by("birth_date")
        if (anchor - c.birth_date).days > 75 and not c.is_protected
    ]
    done = 0
    for child in children[:FAMILIES]:
        with transaction.atomic():
            _family(rng, child, anchor, version, items, nurse, services)
        done += 1
        if on_family is not None:
            on_family()
    _slots(anchor)
    return done


def _family(
    rng: random.Random,
    child: Child,
    anchor: datetime.date,
    version: QuestionnaireVersion,
    items: list[Item],
    nurse: Professional,
    services: list[Service],
) -> None:
    # Only children with a BVC are screened: the region and the BVC are there.
    region: Organisation = region_of(child)  # type: ignore[assignment]
    bvc: Unit = child.bvc_unit  # type: ignore[assignment]
    past = [
        o
        for o in occasions_for(region)
        if child.birth_date + datetime.timedelta(days=o.max_age_days) < anchor
    ][-5:]
    guardians = custodial_guardians(child)
    # Each family has a worry that comes and goes: a domain positive for a stretch of occasions.
    worry_domain = rng.choice([item.domain for item in items])
    worry_from = rng.randint(0, max(0, len(past) - 1))
    worry_to = worry_from + rng.randint(0, 2)
    tz = timezone.get_current_timezone()
    for index, occasion in enumerate(past):
        day = child.birth_date + datetime.timedelta(
            days=rng.randint(occasion.min_age_days, occasion.max_age_days)
        )
        when = datetime.datetime.combine(day, datetime.time(9, 30), tz)
        screening = Screening.objects.create(
            child=child,
            unit=bvc,
            occasion=occasion,
            version=version,
            started_by=nurse,
        )
        Screening.objects.filter(pk=screening.pk).update(started_at=when)
        present = guardians if rng.random() < 0.7 else guardians[:1]
        for guardian in present:
            session = KioskSession.objects.create(
                screening=screening,
                guardian=guardian,
                code_hash=hashlib.sha256(f"demo-{screening.pk}-{guardian.pk}".encode()).hexdigest(),
                expires_at=when + datetime.timedelta(minutes=30),
                opened_at=when,
                submitted_at=when + datetime.timedelta(minutes=6),
            )
            response = Response.objects.create(
                session=session,
                screening=screening,
                unit_id=screening.unit_id,
                guardian=guardian,
                version=version,
                language=guardian.preferred_language
                if guardian.preferred_language in {"sv", "en", "ar", "prs", "so", "ti", "uk", "fi"}
                else "sv",
                submitted_at=when + datetime.timedelta(minutes=6),
                idempotency_key=f"demo-{session.pk}",
                content_hash="demo",
            )
            worried = worry_from <= index <= worry_to
            answers = []
            for item in items:
                if rng.random() < 0.04:
                    option = ""  # left unanswered
                elif (item.domain == worry_domain and worried and rng.random() < 0.8) or (
                    rng.random() < 0.05  # an occasional positive answer anywhere
                ):
                    option = item.positive[0]
                else:
                    option = next(o for o in item.options if o not in item.positive)
                answers.append(
                    Answer(
                        response=response,
                        item=item,
                        option=option,
                        positive=bool(option) and option in item.positive,
                    )
                )
            Answer.objects.bulk_create(answers)
            if any(a.positive for a in answers) and rng.random() < 0.7:
                follow_up = FollowUp.objects.create(
                    response=response,
                    unit=bvc,
                    written_by=nurse,
                    conversation="Vi pratade om svaren. Föräldern berättade mer och vill "
                    "fundera på stöd.",
                    summary="Samtal om familjens situation; stöd erbjudet.",
                    reply=rng.choice(["accepted", "declined", "later"]),
                )
                matching = [s for s in services if worry_domain in (s.domains or [])]
                follow_up.offered.set((matching or services)[:1])


def _slots(anchor: datetime.date) -> None:
    health = Unit.objects.get(name="BVC Ekby centrum")
    social = Unit.objects.get(name="Socialtjänsten Ekby, öppenvård")
    tz = timezone.get_current_timezone()
    day = anchor + datetime.timedelta(days=(1 - anchor.weekday()) % 7)  # next Tuesday
    for week in range(6):
        starts = datetime.datetime.combine(
            day + datetime.timedelta(weeks=week), datetime.time(9, 0), tz
        )
        SupportSlot.objects.get_or_create(
            health_unit=health,
            social_unit=social,
            starts_at=starts,
            defaults={"ends_at": starts + datetime.timedelta(hours=1)},
        )
