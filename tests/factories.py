"""Small factories for test data. Identity numbers come from the test series (980-999)."""

from __future__ import annotations

import datetime
import itertools

from django_otp.plugins.otp_totp.models import TOTPDevice

from demo.identity_numbers import fictional_personnummer
from directory.models import Membership, Organisation, Professional, Sector, Unit
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
    birth = birth or datetime.date(2020, 1, 1) + datetime.timedelta(days=n)
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
