"""Small factories for test data. Identity numbers come from the test series (980-999)."""

from __future__ import annotations

import datetime
import itertools
from typing import TypedDict

from django_otp.plugins.otp_totp.models import TOTPDevice

from demo.identity_numbers import fictional_personnummer
from directory.models import (
    Membership,
    Organisation,
    Professional,
    Sector,
    Service,
    Team,
    TeamMember,
    Unit,
)
from families.models import Child, Custody, Guardian

_counter = itertools.count(1)


def organisation(name: str = "", kind: str = Organisation.Kind.MUNICIPALITY) -> Organisation:
    org, _ = Organisation.objects.get_or_create(
        name=name or f"Testkommun {next(_counter)}", defaults={"kind": kind}
    )
    return org


def unit(
    name: str = "", sector: str = Sector.CHILD_HEALTH, municipality: Organisation | None = None
) -> Unit:
    municipality = municipality or organisation("Testkommun")
    return Unit.objects.create(
        organisation=municipality,
        municipality=municipality,
        sector=sector,
        name=name or f"Enhet {next(_counter)}",
    )


def professional(
    username: str = "",
    *,
    units: list[Unit] = (),
    profession: str = "bvc_nurse",
    manager: bool = False,
    **extra: object,
) -> Professional:
    username = username or f"user{next(_counter)}"
    person = Professional.objects.create_user(
        username=username,
        password="correct horse battery",
        first_name="Test",
        last_name=username,
        profession=profession,
        **extra,
    )
    for each in units:
        Membership.objects.create(professional=person, unit=each, is_manager=manager)
    TOTPDevice.objects.create(user=person, name="test", confirmed=True)
    return person


class ChildFields(TypedDict, total=False):
    """What tests set on a child (`child`); the factory fills in the rest. For helpers that
    pass their keyword arguments on, typed (`Unpack[ChildFields]`)."""

    bvc: Unit | None
    school: Unit | None
    birth: datetime.date | None
    first_name: str
    last_name: str
    protection: str


def child(
    *,
    bvc: Unit | None = None,
    school: Unit | None = None,
    birth: datetime.date | None = None,
    first_name: str = "Test",
    last_name: str = "",
    **extra: object,
) -> Child:
    n = next(_counter)
    # Wrapped so that a long run (property tests make thousands) never reaches the future.
    birth = birth or datetime.date(2020, 1, 1) + datetime.timedelta(days=n % 2000)
    return Child.objects.create(
        identity_number=fictional_personnummer(birth, n % 20),
        first_name=first_name,
        last_name=last_name or f"Barnsson{n}",
        birth_date=birth,
        bvc_unit=bvc,
        school_unit=school,
        street_address="Hemliga gatan 1",
        postal_code="99130",
        city="Ekby",
        **extra,
    )


def guardian_of(target: Child, kind: str = Custody.Kind.JOINT, **extra: object) -> Guardian:
    n = next(_counter)
    person = Guardian.objects.create(
        identity_number=fictional_personnummer(
            datetime.date(1985, 1, 1) + datetime.timedelta(days=n), n % 20
        ),
        first_name="Förälder",
        last_name=f"Föräldersson{n}",
        **extra,
    )
    Custody.objects.create(child=target, guardian=person, kind=kind)
    return person


def team(
    name: str,
    model: str,
    coordinator: Professional,
    members: list[tuple[Professional, Unit]],
    **extra: object,
) -> Team:
    created = Team.objects.create(
        name=name,
        working_model=model,
        municipality=members[0][1].municipality,
        coordinator=coordinator,
        start_time=datetime.time(13, 0),
        **extra,
    )
    for person, place in members:
        TeamMember.objects.create(team=created, professional=person, unit=place)
    return created


def service(name: str, kind: str, provider: Unit) -> Service:
    return Service.objects.create(
        name=name,
        kind=kind,
        provider=provider,
        municipality=provider.municipality,
        phone="0999-123 45",
    )


CONSENT_STATES = ["none", "one_of_two", "effective", "withdrawn", "expired"]


def consent(
    target: Child,
    recorder: Professional,
    purpose: str,
    *,
    state: str = "effective",
    team: Team | None = None,
    service: Service | None = None,
    sectors: list[str] = (),
    units: list[Unit] = (),
):  # type: ignore[no-untyped-def]
    """A consent in one of CONSENT_STATES, made through the services as a user would.
    The child needs its guardians first (see `guardian_of`); `recorder` one of its units."""
    from contextlib import nullcontext

    import time_machine
    from django.utils import timezone

    from conftest import request_as
    from consent.models import Consent, GuardianConsent
    from consent.services import (
        consent_give,
        consent_record,
        consent_withdraw,
        custodial_guardians,
    )

    request = request_as(recorder)
    today = timezone.localdate()
    start = today - datetime.timedelta(days=400) if state == "expired" else today
    # Only an expired consent is recorded in the past; the others now, so that "effective"
    # means in force at this very moment whatever the time of day.
    moment = datetime.datetime.combine(start, datetime.time(12), tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False) if state == "expired" else nullcontext():
        record = consent_record(
            request=request,
            child=target,
            purpose=purpose,
            team=team,
            service=service,
            sectors=list(sectors),
            units=list(units),
            valid_from=start,
        )
        guardians = custodial_guardians(target)
        givers = {"none": [], "one_of_two": guardians[:1]}.get(state, guardians)
        for guardian in givers:
            consent_give(
                request=request,
                consent=record,
                guardian=guardian,
                method=GuardianConsent.Method.TABLET,
            )
    if state == "withdrawn":
        consent_withdraw(request=request, consent=record, guardian=guardians[0])
    return Consent.objects.get(pk=record.pk)


def questionnaire(items: int = 6, languages: tuple[str, ...] = ("sv", "en", "ar")):  # type: ignore[no-untyped-def]
    """A small published questionnaire version: yes/no items over the six domains, the
    odd-numbered ones positive on "yes" and the even-numbered ones on "no"."""
    from django.utils import timezone

    from screening.models import Domain, Item, ItemText, Questionnaire, QuestionnaireVersion

    form, _ = Questionnaire.objects.get_or_create(code="test", defaults={"name": "Test"})
    version = QuestionnaireVersion.objects.create(
        questionnaire=form,
        version=form.versions.count() + 1,
        source_file="test",
        checksum="0" * 64,
        is_example=True,
    )
    domains = list(Domain.values)
    for number in range(1, items + 1):
        item = Item.objects.create(
            version=version,
            number=number,
            domain=domains[(number - 1) % len(domains)],
            options=["yes", "no"],
            positive=["yes"] if number % 2 else ["no"],
            guidance_sv=f"Vägledning {number}",
            guidance_en=f"Guidance {number}",
        )
        for language in languages:
            ItemText.objects.create(
                item=item,
                language=language,
                text=f"[{language}] Fråga {number}?",
                option_labels={"yes": f"[{language}] ja", "no": f"[{language}] nej"},
                status="reviewed" if language in ("sv", "en") else "draft",
            )
    QuestionnaireVersion.objects.filter(pk=version.pk).update(published_at=timezone.now())
    version.refresh_from_db()
    return version


def region_of_unit(place: Unit) -> Organisation:
    """Make `place` belong to a region (BVC units are the region's), and return the region."""
    region = organisation("Region Testland", Organisation.Kind.REGION)
    if place.organisation.kind != Organisation.Kind.REGION:
        place.organisation = region
        place.save(update_fields=["organisation"])
    return place.organisation
