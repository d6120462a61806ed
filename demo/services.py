"""Building the demo world idempotently: every object is looked up by its natural key first."""

from __future__ import annotations

import datetime
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import Permission
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from directory.models import Membership, Organisation, Professional, Team, TeamMember, Unit
from families.models import Child, Custody, Guardian, Language, ProtectionLevel

from . import data
from .identity_numbers import fictional_personnummer
from .models import DemoState

CHILD_COUNT = 300


def demo_totp_key(username: str) -> str:
    """A fixed TOTP secret per demo user, so `manage.py demo_totp` can print today's code."""
    return hashlib.sha256(f"samverkan-demo:{username}".encode()).hexdigest()[:40]


@transaction.atomic
def demo_directory_load() -> dict[str, Professional]:
    region, _ = Organisation.objects.get_or_create(
        name=data.REGION, defaults={"kind": Organisation.Kind.REGION, "code": "99"}
    )
    orgs = {data.REGION: region}
    for index, name in enumerate(data.MUNICIPALITIES):
        orgs[name], _ = Organisation.objects.get_or_create(
            name=name,
            defaults={
                "kind": Organisation.Kind.MUNICIPALITY,
                "code": f"99{index:02d}",
                "region": region,
            },
        )
    units = {}
    for org, municipality, sector, name in data.UNITS:
        units[name], _ = Unit.objects.get_or_create(
            organisation=orgs[org],
            name=name,
            defaults={
                "sector": sector,
                "municipality": orgs[municipality],
                "phone": "0999-100 00",
                "city": municipality.split()[0],
            },
        )
    people = {}
    for username, first, last, profession, memberships in data.PROFESSIONALS:
        people[username] = _professional(username, first, last, profession)
        for unit_name, is_manager in memberships:
            Membership.objects.get_or_create(
                professional=people[username],
                unit=units[unit_name],
                defaults={"is_manager": is_manager},
            )
    admin = _professional(data.ADMIN_USERNAME, "Ulla", "Regionsson", "administrator")
    if not admin.is_staff:
        admin.is_staff = True
        admin.save(update_fields=["is_staff"])
        admin.user_permissions.set(Permission.objects.filter(content_type__app_label="directory"))
    people[data.ADMIN_USERNAME] = admin
    for name, model, municipality, coordinator, members in data.TEAMS:
        team, _ = Team.objects.get_or_create(
            name=name,
            defaults={
                "working_model": model,
                "municipality": orgs[municipality],
                "coordinator": people[coordinator],
                "start_time": datetime.time(13, 0),
            },
        )
        for username, unit_name in members:
            TeamMember.objects.get_or_create(
                team=team, professional=people[username], defaults={"unit": units[unit_name]}
            )
    return people


def _professional(username: str, first: str, last: str, profession: str) -> Professional:
    person = Professional.objects.filter(username=username).first()
    if person is None:
        person = Professional(
            username=username,
            first_name=first,
            last_name=last,
            profession=profession,
            email=f"{username}@example.org",
        )
        person.set_password(data.DEMO_PASSWORD)
        person.save()
        TOTPDevice.objects.create(
            user=person, name="demo", confirmed=True, key=demo_totp_key(username)
        )
    return person


@dataclass(frozen=True)
class GuardianPlan:
    identity_number: str
    first_name: str
    phone: str


@dataclass(frozen=True)
class ChildPlan:
    index: int
    lookup: dict[str, str]
    first_name: str
    last_name: str
    birth: datetime.date
    municipality: str
    area: str
    postal_code: str
    street: str
    protection: str
    language: str
    sole_custody: bool
    guardians: list[GuardianPlan] = field(default_factory=list)


def demo_plan(anchor: datetime.date) -> list[ChildPlan]:
    """The demo families as a pure function of the anchor date: the same list on every run."""
    used: set[str] = set()

    def unique_number(birth: datetime.date, start: int) -> str:
        for step in range(20):
            number = fictional_personnummer(birth, (start + step) % 20)
            if number not in used:
                used.add(number)
                return number
        raise RuntimeError(f"no free test number on {birth}")

    languages = [Language.SWEDISH] * 6 + [
        Language.ARABIC,
        Language.SOMALI,
        Language.TIGRINYA,
        Language.ENGLISH,
        Language.DARI,
        Language.UKRAINIAN,
    ]
    plans = []
    for index in range(CHILD_COUNT):
        rng = random.Random(f"samverkan-demo-{index}")  # noqa: S311 - fictional data
        municipality = "Ekby kommun" if index % 5 else "Sjöstad kommun"
        birth = anchor - datetime.timedelta(days=20 + (index * 7919) % (16 * 365 - 20))
        area, postal_code = rng.choice(data.AREAS[municipality])
        if index % 97 == 13:  # a few children without a Swedish number yet
            lookup = {"reserve_number": f"RES-{index:05d}"}
        else:
            lookup = {"identity_number": unique_number(birth, index)}
        protection = {7: ProtectionLevel.PROTECTED_ADDRESS, 150: ProtectionLevel.SECRECY_MARKING}
        sole = index % 5 == 4
        guardians = []
        for parent in range(1 if sole else 2):
            parent_birth = birth - datetime.timedelta(days=rng.randint(20 * 365, 42 * 365))
            guardians.append(
                GuardianPlan(
                    identity_number=unique_number(parent_birth, index + parent * 7),
                    first_name=rng.choice(data.ADULT_FIRST_NAMES),
                    phone=f"070-{rng.randint(1000000, 9999999)}",
                )
            )
        plans.append(
            ChildPlan(
                index=index,
                lookup=lookup,
                first_name=rng.choice(data.CHILD_FIRST_NAMES),
                last_name=rng.choice(data.LAST_NAMES),
                birth=birth,
                municipality=municipality,
                area=area,
                postal_code=postal_code,
                street=f"{rng.choice(data.STREETS)} {rng.randint(1, 60)}",
                protection=protection.get(index, ProtectionLevel.NONE),
                language=languages[index % len(languages)],
                sole_custody=sole,
                guardians=guardians,
            )
        )
    return plans


def demo_families_load(*, on_child: Callable[[], object] | None = None) -> int:
    """About 300 fictional children with guardians; a second run adds nothing."""
    state = DemoState.objects.first() or DemoState.objects.create(anchor_date=datetime.date.today())
    units = {unit.name: unit for unit in Unit.objects.all()}
    created = 0
    for plan in demo_plan(state.anchor_date):
        created += _child_with_family(plan, units, state.anchor_date)
        if on_child is not None:
            on_child()
    return created


@transaction.atomic
def _child_with_family(plan: ChildPlan, units: dict[str, Unit], anchor: datetime.date) -> int:
    if Child.objects.filter(**plan.lookup).exists():
        return 0
    bvc, school = _placement(
        plan.municipality, (anchor - plan.birth).days // 365, plan.index, units
    )
    city = plan.municipality.split()[0]
    child = Child.objects.create(
        **plan.lookup,
        first_name=plan.first_name,
        last_name=plan.last_name,
        birth_date=plan.birth,
        street_address=plan.street,
        postal_code=plan.postal_code,
        city=city,
        area=plan.area,
        bvc_unit=bvc,
        school_unit=school,
        protection=plan.protection,
    )
    for parent, guardian_plan in enumerate(plan.guardians):
        guardian, _ = Guardian.objects.get_or_create(
            identity_number=guardian_plan.identity_number,
            defaults={
                "first_name": guardian_plan.first_name,
                "last_name": plan.last_name,
                "street_address": plan.street,
                "postal_code": plan.postal_code,
                "city": city,
                "phone": guardian_plan.phone,
                "email": f"vardnadshavare{plan.index}-{parent}@example.org",
                "preferred_language": plan.language,
                "needs_interpreter": parent == 0
                and plan.language not in (Language.SWEDISH, Language.ENGLISH),
                "protection": plan.protection,
            },
        )
        Custody.objects.create(
            child=child,
            guardian=guardian,
            kind=Custody.Kind.SOLE if plan.sole_custody else Custody.Kind.JOINT,
            relation=_relation(plan.index, parent),
        )
    return 1


def _placement(
    municipality: str, age: int, index: int, units: dict[str, Unit]
) -> tuple[Unit | None, Unit | None]:
    if municipality == "Sjöstad kommun":
        bvc = units["BVC Sjöstad"] if age < 6 else None
        school = (
            units["Förskolan Solrosen"]
            if 1 <= age < 6
            else (units["Sjöstadsskolan"] if age >= 6 else None)
        )
        return bvc, school
    bvc = units["BVC Ekby centrum" if index % 3 else "BVC Ekby norra"] if age < 6 else None
    if 1 <= age < 6:
        school = units["Förskolan Ekorren" if index % 2 else "Förskolan Lärkan"]
    else:
        school = units["Ekbyskolan"] if age >= 6 else None
    return bvc, school


def _relation(index: int, parent: int) -> str:
    """Mostly a mother and a father; some families with two parents of the same sex."""
    if index % 11 == 5:
        return Custody.Relation.PARENT
    return Custody.Relation.MOTHER if parent == 0 else Custody.Relation.FATHER
