"""A synthetic population at any scale, up to a national one (`manage.py generate_population`).

Shape: the number of regions, municipalities and units grows with the number of children N, so
that 2,000,000 children give a national-like shape (21 regions, 290 municipalities of very
different sizes) and a few hundred give one region with one municipality. Per municipality: one
BVC per ~1,500 children aged 0-6, one preschool per ~100 children aged 1-5, one school per ~400
children aged 6-15, one student-health unit and one social-services unit (which receives the
reports of concern). Ages 0-16 are spread evenly (about N/17 per birth year).

Everything is fictional: names are drawn at random from lists of common first and last names,
places are made up, and people carry reserve numbers (`SYN-C...` for children, `SYN-G...` for
guardians), never a personnummer, so no generated person can collide with a real or a test-series
number. Staff log in with no password (unusable) and have no second-factor device.

Speed and resumability: the directory (organisations, units, staff, teams, meetings, services,
programmes) is made once, in one transaction, together with the `PopulationRun` row. Children are
then made in batches; each batch is one transaction that ends by writing its `PopulationBatch`
row, and is computed only from the seed and its number, so a rerun after a kill skips the
finished batches and writes exactly what the interrupted run would have. Rows go in with
`bulk_create` (a handful of INSERTs per kind and batch, never a query per row).

No access events are written: the generator is not a user and reads no one's data; the rows it
writes are what professionals would have written over the years, and the audit log records
professionals' accesses, not a data load.

What each batch holds (shares of children; see the constants below):
- families of 1-4 siblings with 1-2 guardians: joint custody mostly, some sole; siblings share
  their guardians, so the first-time-parent rule and the sibling query have data;
- BarnSäkert history for children 0-6: screenings at the past occasions, one kiosk session and
  response per guardian present; the answers themselves are stored for a share of the responses
  only (`ANSWERED_SHARE`), to keep the answer table bounded (18 rows per answered response);
- consents in every state (pending, in force, withdrawn, expired, not yet valid) with each
  guardian's giving and unit scopes;
- concerns (anonymous and identified) on the teams' agendas, with actions; referrals with their
  timestamps; reports of concern;
- SIP plans with versions, goals, interventions, actions carried from version to version,
  meetings and attendance;
- extended home visits for the youngest in the municipalities that run a programme: offers,
  answers, the families' consents, scheduled visits, bookings and each profession's notes.
"""

from __future__ import annotations

import bisect
import datetime
import hashlib
import json as jsonlib
import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.management import call_command
from django.db import connection, models, transaction
from django.utils import timezone

from cases.models import Action, AgeBand, Concern, Referral, ReportOfConcern, Theme
from consent.models import Consent, ConsentScope, GuardianConsent
from consent.policy import Purpose
from directory.models import (
    Membership,
    Organisation,
    Profession,
    Professional,
    Sector,
    Service,
    Team,
    TeamMember,
    Unit,
)
from families.models import Child, Custody, Guardian, Language, ProtectionLevel
from meetings.models import AgendaItem, Attendance, Meeting
from plans.models import (
    Plan,
    PlanAction,
    PlanAttendance,
    PlanGoal,
    PlanIntervention,
    PlanMeeting,
    PlanParticipant,
    PlanVersion,
)
from screening.models import (
    Answer,
    FollowUp,
    Item,
    KioskSession,
    QuestionnaireVersion,
    Response,
    Screening,
)
from screening.services import occasions_for
from visits.models import (
    Enrolment,
    HomeVisit,
    Programme,
    ProgrammeArea,
    ProgrammeVisit,
    VisitBooking,
    VisitNote,
)

from . import population_names as names
from .models import PopulationBatch, PopulationRun

NATIONAL_CHILDREN = 2_000_000
NATIONAL_REGIONS = 21
NATIONAL_MUNICIPALITIES = 290
CHILDREN_PER_BVC = 1500  # aged 0-6
CHILDREN_PER_PRESCHOOL = 100  # aged 1-5
CHILDREN_PER_SCHOOL = 400  # aged 6-15
# Municipality sizes follow a Zipf-like curve: a few large cities, many small municipalities.
SIZE_EXPONENT = 0.8

CHILD_NUMBER = "SYN-C{:09d}"
GUARDIAN_NUMBER = "SYN-G{:09d}"
UNUSABLE_PASSWORD = "!synthetic"  # noqa: S105 - starts with "!": Django never accepts it

SIBLINGS = [(1, 40), (2, 38), (3, 17), (4, 5)]  # children per family, weight
SOLE_CUSTODY_SHARE = 0.15
PROTECTED_SHARE = 0.005
SCREENED_SHARE = 0.40  # of children 0-6: families with a BarnSäkert history
ATTENDED_SHARE = 0.85  # of their past occasions
ANSWERED_SHARE = 0.05  # responses whose 18 answers are stored
CONSENT_SHARE = 0.06
CONCERN_SHARE = 0.015  # anonymous concerns, on top of the identified ones
REPORT_SHARE = 0.004
PROGRAMME_EVERY = 3  # every third municipality runs an extended home-visit programme

CONSENT_STATES = [("effective", 45), ("pending", 15), ("withdrawn", 20), ("expired", 15)]
CONSENT_STATES += [("not_yet", 5)]
CONSENT_PURPOSES = [
    (Purpose.TEAM_DISCUSSION, 35),
    (Purpose.INFORMATION_EXCHANGE, 30),
    (Purpose.REFERRAL, 20),
    (Purpose.SIP, 15),
]
LANGUAGES = [
    (Language.SWEDISH, 80),
    (Language.ARABIC, 5),
    (Language.ENGLISH, 3),
    (Language.SOMALI, 2),
    (Language.UKRAINIAN, 2),
    (Language.FINNISH, 2),
    (Language.TIGRINYA, 1),
    (Language.DARI, 1),
    (Language.PERSIAN, 1),
    (Language.POLISH, 1),
    (Language.BOSNIAN, 1),
    (Language.KURDISH, 1),
]
KIOSK_LANGUAGES = {"sv", "en", "ar", "prs", "so", "ti", "uk", "fi"}
FORM_TEXT = (
    "Syntetiskt samtycke: vårdnadshavarna samtycker till att uppgifter om barnet lämnas till "
    "de enheter som anges, för det ändamål som anges, under giltighetstiden."
)
WORRIES = [
    "Barnet sover dåligt och föräldrarna är trötta.",
    "Oro för barnets språkutveckling.",
    "Barnet har svårt i samspelet med andra barn.",
    "Familjen har ekonomiska bekymmer.",
    "Hög frånvaro och oro för hur barnet har det hemma.",
    "Föräldern berättar om nedstämdhet.",
]
HOME_VISITS = [  # number, Swedish name, English name, months, weeks, days before, after, who
    (1, "Nyfödd, 1–2 veckor", "Newborn, 1–2 weeks", 0, 1, 3, 14, True),
    (2, "2 månader", "2 months", 2, 0, 14, 14, True),
    (3, "4 månader", "4 months", 4, 0, 14, 14, False),
    (4, "8 månader", "8 months", 8, 0, 21, 21, True),
    (5, "15 månader", "15 months", 15, 0, 30, 30, True),
]
EXAMPLE_QUESTIONNAIRE = "screening/questionnaires/barnsakert-exempel-v1.toml"
UTC = datetime.UTC


class PopulationMismatch(Exception):
    """The database already holds a population made with other parameters."""


# ---------------------------------------------------------------------------------- shape


@dataclass(frozen=True)
class Shape:
    children: int
    regions: int
    municipalities: int

    @classmethod
    def of(cls, children: int) -> Shape:
        scale = children / NATIONAL_CHILDREN
        municipalities = max(
            1, min(NATIONAL_MUNICIPALITIES, round(NATIONAL_MUNICIPALITIES * scale))
        )
        regions = max(1, min(NATIONAL_REGIONS, round(NATIONAL_REGIONS * scale), municipalities))
        return cls(children, regions, municipalities)

    def weights(self) -> list[float]:
        raw = [1 / (index + 1) ** SIZE_EXPONENT for index in range(self.municipalities)]
        total = sum(raw)
        return [w / total for w in raw]

    def units(self, index: int) -> tuple[int, int, int]:
        """BVCs, preschools and schools of the municipality with this index."""
        children = self.children * self.weights()[index]
        return (
            max(1, round(children * 7 / 17 / CHILDREN_PER_BVC)),
            max(1, round(children * 5 / 17 / CHILDREN_PER_PRESCHOOL)),
            max(1, round(children * 10 / 17 / CHILDREN_PER_SCHOOL)),
        )


def _postal_prefix(index: int) -> str:
    return str(100 + index * 3)


def _at(day: datetime.date, hour: int = 9, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


T = TypeVar("T")
M = TypeVar("M", bound=models.Model)
R = TypeVar("R", bound="Row | models.Model")


def _weighted(rng: random.Random, pairs: Sequence[tuple[T, int]]) -> T:
    return rng.choices([value for value, _ in pairs], [weight for _, weight in pairs])[0]


def _bulk(model: type[M], rows: list[M], size: int = 5000) -> list[M]:
    if rows:
        model._default_manager.bulk_create(rows, batch_size=size)
    return rows


class Row:
    """A row to insert, lighter than a model instance (building millions of those costs more
    than inserting them): attributes named by the model's column attributes (`child_id`),
    where a foreign key may be another `Row` or instance inserted before it."""

    if TYPE_CHECKING:
        pk: int  # read only once `_insert` has set it
    else:
        pk = None

    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)

    if TYPE_CHECKING:  # any column attribute; declared for the checker only, to cost nothing

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...


_MISSING = object()


def _insert(model: type[models.Model], rows: list[R]) -> list[R]:
    """Insert `rows` (unsaved instances) and set their primary keys: like `bulk_create`, but
    without its per-value compilation, which costs more than the database does at this scale.

    Primary keys are taken from the table's sequence in one query, then the rows go in by
    COPY on PostgreSQL and by `executemany` elsewhere. Foreign keys may point at instances
    inserted earlier in the batch (their keys are read now). `auto_now(_add)` fields left
    empty get the current time; every other value is the instance's own (defaults included).
    """
    if not rows:
        return rows
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    table = meta.db_table
    postgres = connection.vendor == "postgresql"
    now = timezone.now()
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(rows)],
            )
            ids: Sequence[int] = [row[0] for row in cursor.fetchall()]
        else:
            cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')  # noqa: S608
            top = cursor.fetchone()[0]
            ids = range(top + 1, top + 1 + len(rows))
        if postgres and all(obj.__class__ is Row for obj in rows):
            values = _row_values(fields, cast("list[Row]", rows), ids, now)
        else:
            values = _instance_values(fields, rows, ids, now, postgres)
        columns = ", ".join(f'"{c}"' for c in ["id", *(f.column for f in fields)])
        if postgres:
            with cursor.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * (len(fields) + 1))
            cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', values)  # noqa: S608
    return rows


_PLAIN, _RELATION, _JSON, _FILE = range(4)


def _row_values(
    fields: list[models.Field[Any, Any]],
    rows: list[Row],
    ids: Sequence[int],
    now: datetime.datetime,
) -> list[list[Any]]:
    """The fast path for `Row`s on PostgreSQL: values as psycopg dumps them."""
    spec = []
    for f in fields:
        stamp = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        kind = _PLAIN
        if f.is_relation:
            kind = _RELATION
        elif isinstance(f, models.JSONField):
            kind = _JSON
        elif isinstance(f, models.FileField):
            kind = _FILE
        spec.append((f.attname, now if stamp else f.get_default(), kind))
    values = []
    for pk, obj in zip(ids, rows, strict=True):
        obj.pk = obj.id = pk
        data = obj.__dict__
        row: list[Any] = [pk]
        for attname, default, kind in spec:
            value = data.get(attname, default)
            if kind == _RELATION:
                if value is not None and value.__class__ is not int:
                    value = value.pk
            elif kind == _JSON:
                value = jsonlib.dumps(value)
            elif kind == _FILE:
                value = getattr(value, "name", value) or ""
            row.append(value)
        values.append(row)
    return values


def _instance_values(
    fields: list[models.Field[Any, Any]],
    rows: Sequence[Row | models.Model],
    ids: Sequence[int],
    now: datetime.datetime,
    postgres: bool,
) -> list[list[Any]]:
    """Model instances (and every row on other databases), through the fields' own
    conversions; foreign keys may name instances inserted before."""
    getters = []
    for f in fields:
        stamp = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        json = isinstance(f, models.JSONField)
        file = isinstance(f, models.FileField)
        default = now if stamp else f.get_default()
        getters.append((f, f.attname, f.is_relation, stamp, json, file, default))
    values = []
    for pk, obj in zip(ids, rows, strict=True):
        obj.pk = pk
        if isinstance(obj, Row):
            obj.id = pk
        else:
            obj._state.adding = False
        row: list[Any] = [pk]
        for f, attname, cached, stamp, json, file, default in getters:
            value = getattr(obj, attname, _MISSING)
            if value is _MISSING:
                value = default
            elif value is None:
                # A relation field: a FieldCacheMixin, which the stubs' Field does not say.
                if cached and not isinstance(obj, Row) and f.is_cached(obj):  # type: ignore[attr-defined]
                    related = f.get_cached_value(obj)  # type: ignore[attr-defined]
                    value = None if related is None else related.pk
                    setattr(obj, attname, value)
                elif stamp:
                    value = now
                    setattr(obj, attname, value)
            elif value.__class__ is Row or isinstance(value, models.Model):
                value = value.pk
            if postgres:
                if json:
                    value = jsonlib.dumps(value)
                elif file:
                    value = getattr(value, "name", value) or ""
            else:
                value = f.get_db_prep_save(value, connection)
            row.append(value)
        values.append(row)
    return values


# ------------------------------------------------------------------------------ directory


def run_prepare(children: int, seed: int, batch_size: int) -> PopulationRun:
    """The population this database holds: made now (with its directory) if there is none;
    refused when it was made with other parameters, which would mix two populations."""
    run = PopulationRun.objects.first()
    if run is not None:
        if (run.children, run.seed, run.batch_size) != (children, seed, batch_size):
            raise PopulationMismatch(
                f"This database holds a population of {run.children} children made with seed "
                f"{run.seed} and batch size {run.batch_size}; use those or a fresh database."
            )
        return run
    with transaction.atomic():
        run = PopulationRun.objects.create(
            children=children, seed=seed, batch_size=batch_size, anchor_date=timezone.localdate()
        )
        directory_create(run)
    return run


def directory_create(run: PopulationRun) -> None:
    shape = Shape.of(run.children)
    rng = random.Random(f"{run.seed}:directory")  # noqa: S311 - fictional data
    places = names.place_names()
    rng.shuffle(places)
    regions = _bulk(
        Organisation,
        [
            Organisation(
                name=f"Region {places[r]}", kind=Organisation.Kind.REGION, code=f"SYN-R{r:02d}"
            )
            for r in range(shape.regions)
        ],
    )
    municipalities = _bulk(
        Organisation,
        [
            Organisation(
                name=f"{places[shape.regions + m]} kommun",
                kind=Organisation.Kind.MUNICIPALITY,
                code=f"SYN-M{m:03d}",
                region=regions[m % shape.regions],
            )
            for m in range(shape.municipalities)
        ],
    )
    staff = _Staff(rng)
    for index, municipality in enumerate(municipalities):
        _municipality_create(run, shape, index, municipality, staff, rng)
    staff.save()
    _teams_create(run, staff, rng)
    call_command(
        "load_questionnaire",
        str(settings.BASE_DIR / EXAMPLE_QUESTIONNAIRE),
        "--publish",
        verbosity=0,
    )
    for region in regions:
        occasions_for(region)


class _Staff:
    """Professionals and memberships collected for the whole directory, then inserted."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.people: list[Professional] = []
        self.memberships: list[tuple[Professional, Unit, bool]] = []
        # Who sits in which team, worked out per municipality once the units exist.
        self.team_plans: list[tuple[Team, list[tuple[Professional, Unit]]]] = []

    def hire(self, profession: str, units: list[Unit], manager: bool = False) -> Professional:
        women = self.rng.random() < 0.75
        first = self.rng.choice(names.WOMEN_SV if women else names.MEN_SV)
        number = len(self.people) + 1
        person = Professional(
            username=f"syn-{number:06d}",
            password=UNUSABLE_PASSWORD,
            first_name=first,
            last_name=self.rng.choice(names.LAST_SV + names.LAST_OTHER[:10]),
            profession=profession,
        )
        self.people.append(person)
        for position, unit in enumerate(units):
            self.memberships.append((person, unit, manager and position == 0))
        return person

    def save(self) -> None:
        _bulk(Professional, self.people)
        _bulk(
            Membership,
            [
                Membership(
                    professional=p, unit=u, is_manager=m, valid_from=datetime.date(2020, 1, 1)
                )
                for p, u, m in self.memberships
            ],
        )


def _municipality_create(
    run: PopulationRun,
    shape: Shape,
    index: int,
    municipality: Organisation,
    staff: _Staff,
    rng: random.Random,
) -> None:
    place = municipality.name.removesuffix(" kommun")
    region: Organisation = municipality.region  # type: ignore[assignment]  # made with a region
    bvc_count, preschool_count, school_count = shape.units(index)

    def unit(org: Organisation, sector: str, name: str, **extra: object) -> Unit:
        return Unit(
            organisation=org,
            sector=sector,
            name=name,
            municipality=municipality,
            city=place,
            postal_code=f"{_postal_prefix(index)} 10",
            **extra,
        )

    bvcs = [unit(region, Sector.CHILD_HEALTH, f"BVC {place} {k + 1}") for k in range(bvc_count)]
    preschools = [
        unit(municipality, Sector.PRESCHOOL, f"Förskolan {place} {k + 1}")
        for k in range(preschool_count)
    ]
    schools = [
        unit(municipality, Sector.SCHOOL, f"{place}skolan {k + 1}") for k in range(school_count)
    ]
    health = unit(municipality, Sector.STUDENT_HEALTH, f"Elevhälsan {place}")
    social = unit(
        municipality,
        Sector.SOCIAL_SERVICES,
        f"Socialtjänsten {place}, barn och familj",
        receives_reports_of_concern=True,
    )
    _bulk(Unit, [*bvcs, *preschools, *schools, health, social])

    nurses = [
        [staff.hire(Profession.BVC_NURSE, [bvc], manager=(k == 0)) for k in range(3)]
        for bvc in bvcs
    ]
    for preschool in preschools:
        staff.hire(Profession.PRESCHOOL_TEACHER, [preschool], manager=True)
    educators = [
        staff.hire(Profession.SPECIAL_EDUCATOR, preschools[k : k + 10])
        for k in range(0, len(preschools), 10)
    ]
    principals = [staff.hire(Profession.PRINCIPAL, [school], manager=True) for school in schools]
    for school in schools:
        staff.hire(Profession.TEACHER, [school])
    school_nurses = [
        staff.hire(Profession.SCHOOL_NURSE, [health], manager=(k == 0))
        for k in range(math.ceil(len(schools) / 4))
    ]
    counsellors = [
        staff.hire(Profession.SCHOOL_COUNSELLOR, [health])
        for _ in range(math.ceil(len(schools) / 4))
    ]
    secretaries = [
        staff.hire(Profession.SOCIAL_SECRETARY, [social], manager=(k == 0)) for k in range(2)
    ]
    therapists = [
        staff.hire(Profession.FAMILY_THERAPIST, [social]) for _ in range(math.ceil(len(bvcs) / 3))
    ]

    # BHT Plus per up to 5 BVCs (with the preschools' special educator); HLT per up to 6 schools.
    for k in range(0, len(bvcs), 5):
        therapist = therapists[(k // 5) % len(therapists)]
        seats = [(nurses[j][0], bvcs[j]) for j in range(k, min(k + 5, len(bvcs)))]
        seats.append((therapist, social))
        educator = educators[(k // 5) % len(educators)]
        seats.append((educator, preschools[((k // 5) * 10) % len(preschools)]))
        team = Team(
            name=f"BHT Plus {place} {k // 5 + 1}",
            working_model=Team.Model.BHT_PLUS,
            municipality=municipality,
            coordinator=therapist,
            weekday=Team.Weekday.TUESDAY,
            week_of_month=(k // 5) % 4 + 1,
            start_time=datetime.time(13, 0),
            duration_minutes=90,
        )
        staff.team_plans.append((team, seats))
    for k in range(0, len(schools), 6):
        counsellor = counsellors[(k // 6) % len(counsellors)]
        seats = [(principals[j], schools[j]) for j in range(k, min(k + 6, len(schools)))]
        seats += [
            (counsellor, health),
            (school_nurses[(k // 6) % len(school_nurses)], health),
            (secretaries[(k // 6) % 2], social),
        ]
        team = Team(
            name=f"HLT {place} {k // 6 + 1}",
            working_model=Team.Model.HLT,
            municipality=municipality,
            coordinator=counsellor,
            weekday=Team.Weekday.THURSDAY,
            week_of_month=(k // 6) % 4 + 1,
            start_time=datetime.time(14, 0),
            duration_minutes=90,
            consent_before_identified=True,
        )
        staff.team_plans.append((team, seats))

    _bulk(
        Service,
        [
            Service(
                name=f"{label} {place}",
                kind=kind,
                provider=provider,
                municipality=municipality,
                domains=domains,
                target_group="Familjer med barn 0–18 år",
            )
            for label, kind, provider, domains in [
                (
                    "Föräldrastöd",
                    Service.Kind.PARENTING_SUPPORT,
                    social,
                    ["parental_stress", "low_mood"],
                ),
                (
                    "Familjebehandling",
                    Service.Kind.FAMILY_THERAPY,
                    social,
                    ["violence", "child_safety"],
                ),
                (
                    "Budget- och skuldrådgivning",
                    Service.Kind.BUDGET_DEBT,
                    social,
                    ["economic_worry"],
                ),
                ("Logopedmottagningen", Service.Kind.SPEECH_THERAPIST, bvcs[0], []),
            ]
        ],
    )
    if index % PROGRAMME_EVERY == 0:
        programme = Programme.objects.create(
            name=f"Utökade hembesök {place}",
            region=region,
            municipality=municipality,
            partner_unit=social,
            children_born_from=run.anchor_date - relativedelta(years=2),
        )
        _bulk(
            ProgrammeVisit,
            [
                ProgrammeVisit(
                    programme=programme,
                    number=number,
                    name_sv=sv,
                    name_en=en,
                    age_months=months,
                    age_weeks=weeks,
                    window_days_before=before,
                    window_days_after=after,
                    professions=["bvc_nurse", "family_therapist"] if both else ["bvc_nurse"],
                )
                for number, sv, en, months, weeks, before, after, both in HOME_VISITS
            ],
        )
        ProgrammeArea.objects.create(
            programme=programme,
            name=place,
            postal_code_prefix=_postal_prefix(index),
            rule=ProgrammeArea.Rule.ALL_FAMILIES
            if index % (2 * PROGRAMME_EVERY) == 0
            else ProgrammeArea.Rule.FIRST_TIME_PARENTS,
        )


def _teams_create(run: PopulationRun, staff: _Staff, rng: random.Random) -> None:
    """Teams, their seats, and monthly meetings from a year back to two months ahead; the
    past ones closed, with attendance."""
    for team, _ in staff.team_plans:
        team.coordinator_id = team.coordinator.pk
    teams = _bulk(Team, [team for team, _ in staff.team_plans])
    _bulk(
        TeamMember,
        [
            TeamMember(team=team, professional=person, unit=unit)
            for team, seats in staff.team_plans
            for person, unit in seats
        ],
    )
    meetings: list[Meeting] = []
    seats_of: dict[int, list[Professional]] = {}
    first_month = run.anchor_date.replace(day=1) - relativedelta(months=11)
    for team, seats in staff.team_plans:
        seats_of[team.pk] = [person for person, _ in seats]
        for month in range(14):
            start = first_month + relativedelta(months=month)
            day = start + datetime.timedelta(days=(team.weekday - start.weekday()) % 7)
            day += datetime.timedelta(weeks=team.week_of_month - 1)
            starts = _at(day, team.start_time.hour)
            closed = day < run.anchor_date
            meetings.append(
                Meeting(
                    team=team,
                    starts_at=starts,
                    ends_at=starts + datetime.timedelta(minutes=team.duration_minutes),
                    closed_at=starts + datetime.timedelta(hours=3) if closed else None,
                    closed_by=team.coordinator if closed else None,
                )
            )
    _bulk(Meeting, meetings)
    _bulk(
        Attendance,
        [
            Attendance(meeting=meeting, professional=person, present=rng.random() < 0.85)
            for meeting in meetings
            if meeting.closed_at is not None
            for person in seats_of[meeting.team.pk]
        ],
    )
    del teams


# ---------------------------------------------------------------------------------- world


@dataclass
class Municipality:
    index: int
    org_id: int
    region_id: int
    name: str
    bvcs: list[int] = field(default_factory=list)
    preschools: list[int] = field(default_factory=list)
    schools: list[int] = field(default_factory=list)
    health: int = 0
    social: int = 0
    services: list[tuple[int, int]] = field(default_factory=list)  # (service, provider unit)
    programme: tuple[Programme, ProgrammeArea, list[ProgrammeVisit]] | None = None


@dataclass
class World:
    """The directory as the batches need it, read once (a few queries) per command run."""

    run: PopulationRun
    shape: Shape
    municipalities: list[Municipality]
    cumulative: list[float]
    unit_sector: dict[int, str]
    staff: dict[int, list[int]]  # unit -> professionals, in order (the first is the manager)
    team_of_unit: dict[int, int]
    team_units: dict[int, list[int]]
    team_coordinator: dict[int, int]
    meetings: dict[int, list[tuple[int, datetime.datetime, bool]]]
    occasions: dict[int, list[tuple[int, int, int]]]  # region -> (occasion, min days, max days)
    version_id: int
    items: list[tuple[int, str, str, str]]  # (item, domain, a positive option, a negative one)
    theme_ids: list[int]
    days_0_16: int


def world_load(run: PopulationRun) -> World:
    shape = Shape.of(run.children)
    orgs = list(
        Organisation.objects.filter(code__startswith="SYN-M", kind="municipality").order_by("code")
    )
    by_org = {
        # Every municipality has a region (the field is optional for regions themselves).
        org.pk: Municipality(index=i, org_id=org.pk, region_id=org.region_id, name=org.name)  # type: ignore[arg-type]
        for i, org in enumerate(orgs)
    }
    unit_sector = {}
    for unit_id, sector, municipality_id in (
        Unit.objects.filter(municipality_id__in=by_org)
        .order_by("pk")
        .values_list("pk", "sector", "municipality_id")
    ):
        unit_sector[unit_id] = sector
        m = by_org[municipality_id]
        if sector == Sector.CHILD_HEALTH:
            m.bvcs.append(unit_id)
        elif sector == Sector.PRESCHOOL:
            m.preschools.append(unit_id)
        elif sector == Sector.SCHOOL:
            m.schools.append(unit_id)
        elif sector == Sector.STUDENT_HEALTH:
            m.health = unit_id
        elif sector == Sector.SOCIAL_SERVICES:
            m.social = unit_id
    staff: dict[int, list[int]] = defaultdict(list)
    for unit_id, person in (
        Membership.objects.filter(unit_id__in=unit_sector)
        .order_by("-is_manager", "professional_id")
        .values_list("unit_id", "professional_id")
    ):
        staff[unit_id].append(person)
    for service_id, municipality_id, provider in (
        Service.objects.filter(municipality_id__in=by_org)
        .order_by("pk")
        .values_list("pk", "municipality_id", "provider_id")
    ):
        by_org[municipality_id].services.append((service_id, provider))
    for programme in Programme.objects.filter(municipality_id__in=by_org).prefetch_related(
        "areas", "visits"
    ):
        by_org[programme.municipality_id].programme = (
            programme,
            programme.areas.all()[0],
            sorted(programme.visits.all(), key=lambda v: v.number),
        )
    teams = Team.objects.filter(municipality_id__in=by_org)
    team_of_unit: dict[int, int] = {}
    team_units: dict[int, list[int]] = defaultdict(list)
    for team_id, unit_id in (
        TeamMember.objects.filter(team__in=teams).order_by("pk").values_list("team_id", "unit_id")
    ):
        team_units[team_id].append(unit_id)
        team_of_unit.setdefault(unit_id, team_id)
    for m in by_org.values():  # preschools without a seat go to their municipality's BHT Plus
        bht = [team_of_unit[b] for b in m.bvcs]
        for k, preschool in enumerate(m.preschools):
            team_of_unit.setdefault(preschool, bht[k % len(bht)])
        hlt = [team_of_unit[s] for s in m.schools]
        team_of_unit.setdefault(m.health, hlt[0])
    meetings: dict[int, list[tuple[int, datetime.datetime, bool]]] = defaultdict(list)
    for pk, team_id, starts, closed in (
        Meeting.objects.filter(team__in=teams)
        .order_by("starts_at", "pk")
        .values_list("pk", "team_id", "starts_at", "closed_at")
    ):
        meetings[team_id].append((pk, starts, closed is not None))
    occasions: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    regions = {m.region_id for m in by_org.values()}
    for region in Organisation.objects.filter(pk__in=regions).order_by("pk"):
        occasions[region.pk] = [
            (o.pk, o.min_age_days, o.max_age_days) for o in occasions_for(region)
        ]
    version = (
        QuestionnaireVersion.objects.filter(
            published_at__isnull=False, questionnaire__code="barnsakert-exempel"
        )
        .order_by("version")
        .first()
    )
    if version is None:
        raise PopulationMismatch("The example questionnaire is missing.")
    weights = Shape.of(run.children).weights()
    cumulative = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    anchor = run.anchor_date
    return World(
        run=run,
        shape=shape,
        municipalities=[by_org[o.pk] for o in orgs],
        cumulative=cumulative,
        unit_sector=unit_sector,
        staff=dict(staff),
        team_of_unit=team_of_unit,
        team_units=dict(team_units),
        team_coordinator=dict(teams.values_list("pk", "coordinator_id")),
        meetings=dict(meetings),
        occasions=dict(occasions),
        version_id=version.pk,
        items=[
            (i.pk, i.domain, i.positive[0], next(o for o in i.options if o not in i.positive))
            for i in Item.objects.filter(version=version).order_by("number")
        ],
        theme_ids=list(
            Theme.objects.filter(active=True).order_by("pk").values_list("pk", flat=True)
        ),
        days_0_16=(anchor - (anchor - relativedelta(years=17))).days,
    )


# -------------------------------------------------------------------------------- batches


@dataclass
class Family:
    municipality: Municipality
    guardians: list[Row]
    sole: bool
    bvc: int  # siblings go to the same BVC
    children: list[Row] = field(default_factory=list)


class Batch:
    """One batch of children and everything that happened to them, from the seed and the
    batch number alone."""

    def __init__(self, world: World, number: int) -> None:
        self.world = world
        self.number = number
        self.anchor = world.run.anchor_date
        self.rng = random.Random(f"{world.run.seed}:batch:{number}")  # noqa: S311 - fictional
        size = world.run.batch_size
        self.first = number * size
        self.count = min(size, world.run.children - self.first)
        self.families: list[Family] = []
        self.family_of: dict[int, Family] = {}  # child pk -> family
        # (consent, child, state, guardians)
        self.consents: list[tuple[Row, Row, str, list[Row]]] = []
        self.serial = 0

    def key(self) -> str:
        """A unique string for a row that needs one (kiosk codes, idempotency keys)."""
        self.serial += 1
        return f"syn-{self.world.run.seed}-{self.number}-{self.serial}"

    def make(self) -> int:
        self.people()
        self.screenings()
        self.consents_make()
        self.concerns()
        self.reports()
        self.plans()
        self.home_visits()
        return self.count

    # -- people

    def people(self) -> None:
        rng, world = self.rng, self.world
        guardians: list[Row] = []
        children: list[Row] = []
        made = 0
        while made < self.count:
            size = min(_weighted(rng, SIBLINGS), self.count - made)
            index = bisect.bisect_left(world.cumulative, rng.random() * world.cumulative[-1])
            municipality = world.municipalities[min(index, len(world.municipalities) - 1)]
            family = self.family(municipality, len(guardians))
            guardians += family.guardians
            for _ in range(size):
                child = self.child(family, self.first + made)
                family.children.append(child)
                children.append(child)
                made += 1
            self.families.append(family)
        _insert(Guardian, guardians)
        _insert(Child, children)
        custody = []
        for family in self.families:
            for child in family.children:
                self.family_of[child.pk] = family
                for k, guardian in enumerate(family.guardians):
                    custody.append(
                        Row(
                            child_id=child,
                            guardian_id=guardian,
                            kind=Custody.Kind.SOLE if family.sole else Custody.Kind.JOINT,
                            relation=(Custody.Relation.MOTHER, Custody.Relation.FATHER)[k]
                            if rng.random() < 0.9
                            else Custody.Relation.PARENT,
                        )
                    )
        _insert(Custody, custody)

    def family(self, municipality: Municipality, guardian_index: int) -> Family:
        rng = self.rng
        language = _weighted(rng, LANGUAGES)
        swedish = language in (Language.SWEDISH, Language.FINNISH) and rng.random() < 0.9
        last = rng.choice(names.LAST_SV if swedish else names.LAST_OTHER)
        sole = rng.random() < SOLE_CUSTODY_SHARE
        protection = ProtectionLevel.NONE
        if rng.random() < PROTECTED_SHARE:
            protection = rng.choice(
                [ProtectionLevel.SECRECY_MARKING, ProtectionLevel.PROTECTED_ADDRESS]
            )
        hidden = protection == ProtectionLevel.PROTECTED_ADDRESS
        street = "" if hidden else f"{rng.choice(names.STREETS)} {rng.randint(1, 80)}"
        postal = "" if hidden else f"{_postal_prefix(municipality.index)} {rng.randint(10, 99)}"
        city = "" if hidden else municipality.name.removesuffix(" kommun")
        guardians = []
        for k in range(1 if sole else 2):
            women = k == 0
            pool = (
                (names.WOMEN_SV if women else names.MEN_SV)
                if swedish
                else (names.WOMEN_OTHER if women else names.MEN_OTHER)
            )
            guardians.append(
                Row(
                    reserve_number=GUARDIAN_NUMBER.format(
                        self.number * 2 * self.world.run.batch_size + guardian_index + k
                    ),
                    first_name=rng.choice(pool),
                    last_name=last if k == 0 or rng.random() < 0.7 else rng.choice(names.LAST_SV),
                    street_address=street,
                    postal_code=postal,
                    city=city,
                    protection=protection,
                    preferred_language=language,
                    needs_interpreter=language not in (Language.SWEDISH, Language.ENGLISH)
                    and rng.random() < 0.5,
                )
            )
        return Family(
            municipality=municipality,
            guardians=guardians,
            sole=sole,
            bvc=rng.choice(municipality.bvcs),
        )

    def child(self, family: Family, index: int) -> Row:
        rng, m = self.rng, family.municipality
        birth = self.anchor - datetime.timedelta(days=rng.randrange(self.world.days_0_16))
        age = self.age(birth)
        girl = rng.random() < 0.49
        swedish = (
            family.guardians[0].first_name in names.WOMEN_SV
            or family.guardians[0].first_name in names.MEN_SV
        )
        pool = (
            (names.GIRLS_SV if girl else names.BOYS_SV)
            if swedish
            else (names.GIRLS_OTHER if girl else names.BOYS_OTHER)
        )
        bvc = family.bvc
        school = None
        if 1 <= age <= 5:
            school = rng.choice(m.preschools)
        elif 6 <= age <= 15:
            school = rng.choice(m.schools)
        first_guardian = family.guardians[0]
        return Row(
            reserve_number=CHILD_NUMBER.format(index),
            first_name=rng.choice(pool),
            last_name=first_guardian.last_name,
            birth_date=birth,
            street_address=first_guardian.street_address,
            postal_code=first_guardian.postal_code,
            city=first_guardian.city,
            protection=first_guardian.protection,
            area=f"{first_guardian.city} {rng.choice(names.AREAS)}" if first_guardian.city else "",
            bvc_unit_id=bvc if age <= 6 else None,
            school_unit_id=school,
        )

    def age(self, birth: datetime.date, on: datetime.date | None = None) -> int:
        on = on or self.anchor
        return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))

    def own_unit(self, child: Row) -> int | None:
        return child.bvc_unit_id or child.school_unit_id

    def someone(self, unit: int, k: int = 0) -> int:
        people = self.world.staff[unit]
        return people[k % len(people)]

    # -- BarnSäkert

    def screenings(self) -> None:
        rng, world = self.rng, self.world
        rows: list[tuple[Row, Row, list[Row], bool]] = []  # screening, child, present, worried
        for family in self.families:
            occasions = world.occasions[family.municipality.region_id]
            for child in family.children:
                if not child.bvc_unit_id or rng.random() >= SCREENED_SHARE:
                    continue
                worried = rng.random() < 0.25
                nurse = self.someone(child.bvc_unit_id, rng.randrange(3))
                for occasion, low, high in occasions:
                    day = child.birth_date + datetime.timedelta(days=rng.randint(low, high))
                    if child.birth_date + datetime.timedelta(days=high) >= self.anchor:
                        break
                    if rng.random() >= ATTENDED_SHARE:
                        continue
                    present = family.guardians if rng.random() < 0.6 else family.guardians[:1]
                    screening = Row(
                        child_id=child,
                        unit_id=child.bvc_unit_id,
                        occasion_id=occasion,
                        version_id=world.version_id,
                        started_by_id=nurse,
                        started_at=_at(day, rng.randint(8, 15), rng.choice((0, 15, 30, 45))),
                    )
                    rows.append((screening, child, present, worried))
        _insert(Screening, [row[0] for row in rows])
        sessions, responses = [], []
        for screening, _, present, worried in rows:
            for guardian in present:
                key = self.key()
                submitted = screening.started_at + datetime.timedelta(minutes=rng.randint(4, 15))
                session = Row(
                    screening_id=screening,
                    guardian_id=guardian,
                    code_hash=hashlib.sha256(key.encode()).hexdigest(),
                    expires_at=screening.started_at + datetime.timedelta(minutes=30),
                    opened_at=screening.started_at + datetime.timedelta(minutes=1),
                    submitted_at=submitted,
                )
                sessions.append(session)
                language = guardian.preferred_language
                responses.append(
                    (
                        Row(
                            session_id=session,
                            screening_id=screening,
                            unit_id=screening.unit_id,
                            guardian_id=guardian,
                            screening=screening,
                            version_id=world.version_id,
                            language=language if language in KIOSK_LANGUAGES else "sv",
                            submitted_at=submitted,
                            idempotency_key=key,
                            content_hash="synthetic",
                        ),
                        worried,
                    )
                )
        _insert(KioskSession, sessions)
        _insert(Response, [r for r, _ in responses])
        self.answers(responses)

    def answers(self, responses: list[tuple[Row, bool]]) -> None:
        rng, items = self.rng, self.world.items
        answers, follow_ups = [], []
        for response, worried in responses:
            if rng.random() >= ANSWERED_SHARE:
                continue
            domain = items[rng.randrange(len(items))][1]
            positives = 0
            for item_id, item_domain, yes, no in items:
                if rng.random() < 0.03:
                    option = ""
                elif (
                    worried and item_domain == domain and rng.random() < 0.7
                ) or rng.random() < 0.04:
                    option = yes
                else:
                    option = no
                is_positive = option is yes
                positives += is_positive
                answers.append(
                    Row(response_id=response, item_id=item_id, option=option, positive=is_positive)
                )
            if positives and rng.random() < 0.7:
                follow_ups.append(
                    FollowUp(
                        response_id=response.pk,
                        unit_id=response.screening.unit_id,
                        written_by_id=response.screening.started_by_id,
                        written_at=response.submitted_at + datetime.timedelta(minutes=20),
                        conversation="Vi pratade om svaren; föräldern berättade mer.",
                        summary="Samtal om familjens situation; stöd erbjudet.",
                        reply=rng.choice(["accepted", "declined", "later"]),
                    )
                )
        _insert(Answer, answers)
        _insert(FollowUp, follow_ups)

    # -- consents

    def consent(
        self,
        child: Row,
        purpose: str,
        state: str,
        scopes: list[int],
        recorder_unit: int,
        *,
        team: int | None = None,
        service: int | None = None,
        start: datetime.date | None = None,
        years: int = 1,
    ) -> Row:
        rng, anchor = self.rng, self.anchor
        guardians = self.family_of[child.pk].guardians
        if start is None:
            start = anchor - datetime.timedelta(
                days={
                    "effective": rng.randint(7, 300),
                    "pending": rng.randint(1, 30),
                    "withdrawn": rng.randint(60, 700),
                    "expired": rng.randint(400, 900),
                    "not_yet": -rng.randint(5, 30),
                }[state]
            )
        until = start + relativedelta(years=years) - datetime.timedelta(days=1)
        recorder = self.someone(recorder_unit)
        given = [
            _at(start, 10) + datetime.timedelta(days=rng.randint(0, 3) * k, minutes=k)
            for k in range(len(guardians))
        ]
        cap = _at(anchor - datetime.timedelta(days=1), 12)
        given = [min(at, cap) for at in given]  # nobody gives a consent in the future
        if state == "not_yet":
            given = [_at(anchor - datetime.timedelta(days=3), 10, k) for k in range(len(guardians))]
        givers = guardians[:1] if state == "pending" and len(guardians) > 1 else guardians
        if state == "pending" and len(guardians) == 1:
            givers = []
        effective = None if state == "pending" else max(given)
        withdrawn_at = withdrawn_by = None
        if state == "withdrawn":  # not pending: `effective` is set
            last = min(anchor - datetime.timedelta(days=1), until)
            span = max(1, (last - effective.date()).days)  # type: ignore[union-attr]
            withdrawn_at = effective + datetime.timedelta(days=rng.randint(1, span))  # type: ignore[operator]
            withdrawn_by = rng.choice(guardians)
        consent = Row(
            child_id=child.pk,
            purpose=purpose,
            team_id=team,
            service_id=service,
            valid_from=start,
            valid_until=until,
            recorded_by_id=recorder,
            recorded_unit_id=recorder_unit,
            child_age_years=max(0, self.age(child.birth_date, start)),
            form_text=FORM_TEXT,
            effective_from=effective,
            withdrawn_at=withdrawn_at,
            withdrawn_by_id=withdrawn_by.pk if withdrawn_by else None,
            created_at=_at(start, 9),
        )
        consent.syn_scopes = scopes
        consent.syn_givings = [
            (guardian, given[k], withdrawn_at if guardian is withdrawn_by else None)
            for k, guardian in enumerate(givers)
        ]
        self.consents.append((consent, child, state, guardians))
        return consent

    def consents_flush(self, start: int) -> None:
        """Insert the consents made since index `start`, with their scopes and givings."""
        rng = self.rng
        fresh = [c for c, *_ in self.consents[start:]]
        _insert(Consent, fresh)
        _insert(
            ConsentScope,
            [Row(consent_id=c, unit_id=u) for c in fresh for u in dict.fromkeys(c.syn_scopes)],
        )
        givings = []
        for c in fresh:
            for guardian, at, withdrawn in c.syn_givings:
                method = _weighted(rng, [("tablet", 50), ("signed_form", 40), ("verbal", 10)])
                givings.append(
                    Row(
                        consent_id=c,
                        guardian_id=guardian.pk,
                        method=method,
                        witness="Syntetisk vittnesperson" if method == "verbal" else "",
                        given_at=at,
                        recorded_by_id=c.recorded_by_id,
                        withdrawn_at=withdrawn,
                    )
                )
        _insert(GuardianConsent, givings)

    def consents_make(self) -> None:
        rng, world = self.rng, self.world
        for family in self.families:
            m = family.municipality
            for child in family.children:
                own = self.own_unit(child)
                if own is None or rng.random() >= CONSENT_SHARE:
                    continue
                purpose = _weighted(rng, CONSENT_PURPOSES)
                state = str(_weighted(rng, CONSENT_STATES))
                units = [u for u in (child.bvc_unit_id, child.school_unit_id) if u]
                if purpose == Purpose.TEAM_DISCUSSION:
                    team = world.team_of_unit[own]
                    self.consent(child, purpose, state, world.team_units[team], own, team=team)
                elif purpose == Purpose.INFORMATION_EXCHANGE:
                    self.consent(child, purpose, state, [m.social, *units], own)
                elif purpose == Purpose.REFERRAL:
                    service, provider = rng.choice(m.services)
                    self.consent(child, purpose, state, [provider], own, service=service)
                else:
                    extra = [m.health] if child.school_unit_id in m.schools else []
                    self.consent(child, purpose, state, [*units, *extra, m.social], own)
        self.consents_flush(0)

    # -- concerns, meetings, referrals, reports

    def concerns(self) -> None:
        rng, world = self.rng, self.world
        concerns: list[Concern] = []
        referrals: list[Referral] = []
        for consent, child, state, _ in self.consents:
            if (
                consent.purpose not in (Purpose.TEAM_DISCUSSION, Purpose.REFERRAL)
                or consent.effective_from is None
            ):
                continue
            if state == "not_yet":
                continue
            own = consent.recorded_unit_id
            created = consent.effective_from - datetime.timedelta(days=rng.randint(5, 40), hours=2)
            concern = self.concern(child, own, created)
            concern.child_id = child.pk
            concern.identified_at = consent.effective_from + datetime.timedelta(hours=1)
            concern.identified_by_id = concern.created_by_id
            concern.identifying_consent_id = consent.pk
            concern.contact_person_id = concern.created_by_id
            concern.feedback_due = (created + datetime.timedelta(days=14)).date()
            if rng.random() < 0.7:
                concern.family_contacted_at = created + datetime.timedelta(days=rng.randint(1, 14))
            if consent.purpose == Purpose.REFERRAL:
                concern.team_id = None
                referrals.append(self.referral(concern, consent, state))
            concerns.append(concern)
        for family in self.families:
            for child in family.children:
                own = self.own_unit(child)
                if own is not None and rng.random() < CONCERN_SHARE:
                    created = _at(self.anchor - datetime.timedelta(days=rng.randint(1, 365)), 11)
                    concerns.append(self.concern(child, own, created))  # anonymous: no child
        _insert(Concern, concerns)
        through = Concern.themes.through
        _insert(
            through,
            [
                through(concern_id=c.pk, theme_id=t)
                for c in concerns
                for t in rng.sample(world.theme_ids, min(len(world.theme_ids), rng.randint(1, 2)))
            ],
        )
        for referral in referrals:
            referral.concern_id = referral.concern.pk
        _insert(Referral, referrals)
        self.agenda(concerns)

    def concern(self, child: Row, unit: int, created: datetime.datetime) -> Concern:
        rng = self.rng
        closed = created.date() < self.anchor - datetime.timedelta(days=120) and rng.random() < 0.6
        return Concern(
            created_by_id=self.someone(unit, rng.randrange(2)),
            unit_id=unit,
            created_at=created,
            sector=self.world.unit_sector[unit],
            setting="Vid ett besök"
            if self.world.unit_sector[unit] == Sector.CHILD_HEALTH
            else "I gruppen",
            age_band=AgeBand.of(child.birth_date, created.date()),
            worry=rng.choice(WORRIES),
            team_id=self.world.team_of_unit.get(unit),
            status=Concern.Status.CLOSED if closed else Concern.Status.OPEN,
        )

    def referral(self, concern: Concern, consent: Row, state: str) -> Referral:
        rng = self.rng
        sent = consent.effective_from + datetime.timedelta(days=rng.randint(0, 7), hours=1)
        referral = Referral(
            concern=concern,
            child_id=consent.child_id,
            service_id=consent.service_id,
            consent_id=consent.pk,
            created_by_id=consent.recorded_by_id,
            unit_id=consent.recorded_unit_id,
            note="Familjen vill ha stöd.",
            sent_at=sent,
        )
        now = _at(self.anchor, 8)
        steps = sent
        for name, chance, days in (("received_at", 0.9, 3), ("first_contact_at", 0.8, 40)):
            steps = steps + datetime.timedelta(days=rng.randint(0, days), hours=rng.randint(1, 6))
            if steps >= now or rng.random() >= chance:
                break
            setattr(referral, name, steps)
        if state == "withdrawn" and consent.withdrawn_at:
            referral.closed_at, referral.outcome = consent.withdrawn_at, Referral.Outcome.WITHDRAWN
        elif referral.first_contact_at and referral.first_contact_at < now - datetime.timedelta(
            days=60
        ):
            referral.closed_at = referral.first_contact_at + datetime.timedelta(days=50)
            referral.outcome = rng.choice(
                [Referral.Outcome.COMPLETED] * 4 + [Referral.Outcome.DECLINED]
            )
        return referral

    def agenda(self, concerns: list[Concern]) -> None:
        rng, world = self.rng, self.world
        items, actions = [], []
        for concern in concerns:
            meetings = world.meetings.get(concern.team_id or 0, [])
            found = next((mt for mt in meetings if mt[1] > concern.created_at), None)
            if found is None:
                continue
            meeting_id, starts, closed = found
            # A concern with a meeting is on a team's agenda.
            coordinator = world.team_coordinator[concern.team_id]  # type: ignore[index]
            item = AgendaItem(
                meeting_id=meeting_id,
                concern=concern,
                nominated_by_id=concern.created_by_id,
                nominated_at=concern.created_at + datetime.timedelta(hours=1),
                position=rng.randint(1, 8),
                discussion="Teamet diskuterade läget och familjens behov." if closed else "",
                decisions="Kontakt tas med familjen; återkoppling nästa möte." if closed else "",
            )
            items.append(item)
            if closed and rng.random() < 0.5:
                due = (starts + datetime.timedelta(days=30)).date()
                done = due < self.anchor and rng.random() < 0.8
                actions.append(
                    Action(
                        concern=concern,
                        agenda_item=item,
                        team_id=concern.team_id,
                        what="Erbjuda familjen ett samtal",
                        responsible_id=coordinator,
                        due_date=due,
                        done_at=_at(due - datetime.timedelta(days=rng.randint(0, 10)), 15)
                        if done
                        else None,
                        created_by_id=coordinator,
                        created_at=starts + datetime.timedelta(hours=1),
                    )
                )
        _insert(AgendaItem, items)
        _insert(Action, actions)

    def reports(self) -> None:
        rng = self.rng
        reports = []
        for family in self.families:
            social = family.municipality.social
            for child in family.children:
                own = self.own_unit(child)
                if own is None or rng.random() >= REPORT_SHARE:
                    continue
                sent = _at(self.anchor - datetime.timedelta(days=rng.randint(1, 700)), 13)
                acknowledged = rng.random() < 0.95
                reports.append(
                    ReportOfConcern(
                        child_id=child.pk,
                        reporter_id=self.someone(own),
                        reporter_unit_id=own,
                        to_unit_id=social,
                        what="Det som har setts och hörts, beskrivet sakligt.",
                        sent_at=sent,
                        acknowledged_at=sent + datetime.timedelta(days=rng.randint(0, 3), hours=2)
                        if acknowledged
                        else None,
                        acknowledged_by_id=self.someone(social) if acknowledged else None,
                    )
                )
        _insert(ReportOfConcern, reports)

    # -- SIP

    def plans(self) -> None:
        rng = self.rng
        plans, participants, meetings = [], [], []
        stories = []
        for consent, child, state, guardians in self.consents:
            if consent.purpose != Purpose.SIP or state not in ("effective", "withdrawn"):
                continue
            m = self.family_of[child.pk].municipality
            started = consent.effective_from + datetime.timedelta(days=1)
            ended = consent.withdrawn_at if state == "withdrawn" else None
            plan = Plan(
                child_id=child.pk,
                consent_id=consent.pk,
                requested_by="Vårdnadshavarna",
                requested_on=consent.valid_from,
                started_by_id=consent.recorded_by_id,
                started_unit_id=consent.recorded_unit_id,
                started_at=started,
                first_meeting_due=consent.valid_from + datetime.timedelta(days=21),
                status=Plan.Status.ENDED if ended else Plan.Status.ACTIVE,
                ended_at=ended,
                ended_by_guardian_id=consent.withdrawn_by_id if ended else None,
                end_reason="Familjen vill avsluta planen." if ended else "",
                end_recorded_by_id=consent.recorded_by_id if ended else None,
            )
            plans.append(plan)
            people = [
                PlanParticipant(
                    plan=plan,
                    kind="guardian",
                    guardian_id=g.pk,
                    added_by_id=plan.started_by_id,
                    added_at=started,
                )
                for g in guardians
            ]
            people.append(
                PlanParticipant(
                    plan=plan,
                    kind="professional",
                    professional_id=plan.started_by_id,
                    unit_id=plan.started_unit_id,
                    added_by_id=plan.started_by_id,
                    added_at=started,
                )
            )
            coordinator = self.someone(m.social)
            people.append(
                PlanParticipant(
                    plan=plan,
                    kind="professional",
                    professional_id=coordinator,
                    unit_id=m.social,
                    role="Samordnare",
                    added_by_id=plan.started_by_id,
                    added_at=started,
                )
            )
            if self.age(child.birth_date) >= 7:
                people.append(
                    PlanParticipant(
                        plan=plan, kind="child", added_by_id=plan.started_by_id, added_at=started
                    )
                )
            participants += people
            end = ended or _at(self.anchor, 8)
            held: list[PlanMeeting] = []
            when = started + datetime.timedelta(days=rng.randint(7, 20))
            while when < end and len(held) < 4:
                held.append(
                    PlanMeeting(
                        plan=plan,
                        kind="follow_up" if held else "first",
                        starts_at=when,
                        held=True,
                        created_by_id=plan.started_by_id,
                        place="Socialtjänsten",
                    )
                )
                when += datetime.timedelta(days=90)
            if not ended:
                meetings.append(
                    PlanMeeting(
                        plan=plan,
                        kind="follow_up" if held else "first",
                        starts_at=when,
                        created_by_id=plan.started_by_id,
                        place="Socialtjänsten",
                    )
                )
            meetings += held
            stories.append((plan, m, coordinator, held, people))
        _insert(Plan, plans)
        for p in participants:
            p.plan_id = p.plan.pk
        for mt in meetings:
            mt.plan_id = mt.plan.pk
        _insert(PlanParticipant, participants)
        _insert(PlanMeeting, meetings)
        _insert(
            PlanAttendance,
            [
                PlanAttendance(meeting=mt, participant=p, present=rng.random() < 0.9)
                for _, _, _, held, people in stories
                for mt in held
                for p in people
            ],
        )
        self.plan_versions(stories)

    def plan_versions(
        self,
        stories: list[tuple[Plan, Municipality, int, list[PlanMeeting], list[PlanParticipant]]],
    ) -> None:
        """Version 1 at the first meeting, one more at each follow-up; the actions of each
        version are carried from the one before, with how they went."""
        rng = self.rng
        previous: dict[int, list[PlanAction]] = {}
        for level in range(4):
            versions: list[PlanVersion] = []
            goals: list[PlanGoal] = []
            interventions: list[PlanIntervention] = []
            actions: list[PlanAction] = []
            for plan, m, coordinator, held, _ in stories:
                if level >= len(held):
                    continue
                meeting = held[level]
                version = PlanVersion(
                    plan=plan,
                    number=level + 1,
                    kind="follow_up" if level else "first",
                    meeting=meeting,
                    created_by_id=coordinator,
                    created_unit_id=m.social,
                    created_at=meeting.starts_at + datetime.timedelta(hours=2),
                    needs="Barnet behöver samordnat stöd i hemmet och i förskolan eller skolan.",
                    family_view="Familjen vill ha färre möten och tydliga kontaktpersoner.",
                    child_voice="Jag vill att det blir lugnare hemma." if level else "",
                    child_voice_method="at_meeting" if level else "not_yet",
                    overall_responsibility_id=m.org_id,
                    coordinator_id=coordinator,
                    next_follow_up=(meeting.starts_at + datetime.timedelta(days=90)).date(),
                    evaluation="Delvis uppnått; fortsätter." if level else "",
                )
                versions.append(version)
                goals += [
                    PlanGoal(version=version, text=text, position=k)
                    for k, text in enumerate(["Trygg vardag hemma", "Barnet trivs i gruppen"])
                ]
                interventions += [
                    PlanIntervention(
                        version=version,
                        what="Familjebehandling",
                        provider_kind="municipality",
                        provider_id=m.org_id,
                        position=0,
                    ),
                    PlanIntervention(
                        version=version,
                        what="Stödsamtal på BVC eller elevhälsan",
                        provider_kind="region",
                        provider_id=m.region_id,
                        position=1,
                    ),
                ]
                before = previous.get(plan.pk, [])
                for k in range(2):
                    carried = before[k] if k < len(before) else None
                    actions.append(
                        PlanAction(
                            version=version,
                            what=("Boka samtal med familjen", "Följa upp närvaron")[k],
                            unit_id=m.social,
                            responsible_id=coordinator,
                            due_date=version.next_follow_up - datetime.timedelta(days=10),
                            status=rng.choice(["done", "ongoing", "not_done"])
                            if carried
                            else "planned",
                            evaluation="Genomfört enligt plan." if carried else "",
                            carried_from=carried,
                            position=k,
                        )
                    )
                plan.current_number = level + 1
                plan.next_follow_up = version.next_follow_up
            if not versions:
                break
            _insert(PlanVersion, versions)
            row: PlanGoal | PlanIntervention | PlanAction
            # mypy joins the three lists' types to Model; each has `version`.
            for row in (*goals, *interventions, *actions):  # type: ignore[assignment]
                row.version_id = row.version.pk
            _insert(PlanGoal, goals)
            _insert(PlanIntervention, interventions)
            _insert(PlanAction, actions)
            previous = defaultdict(list)
            for action in actions:
                previous[action.version.plan_id].append(action)
        plans = [plan for plan, *_ in stories if plan.current_number]
        if plans:
            Plan.objects.bulk_update(plans, ["current_number", "next_follow_up"], batch_size=2000)

    # -- extended home visits

    def home_visits(self) -> None:
        rng, anchor = self.rng, self.anchor
        start = len(self.consents)
        enrolments: list[tuple[Row, Row, Family]] = []  # enrolment, child, family
        for family in self.families:
            m = family.municipality
            if m.programme is None or not family.guardians[0].postal_code:
                continue
            programme, area, _ = m.programme
            eldest = min(c.birth_date for c in family.children)
            for child in family.children:
                first_born = child.birth_date == eldest
                if child.birth_date < programme.children_born_from or not child.bvc_unit_id:
                    continue
                if area.rule == ProgrammeArea.Rule.FIRST_TIME_PARENTS and not first_born:
                    continue
                offered = child.birth_date + datetime.timedelta(days=rng.randint(7, 30))
                if offered >= anchor or rng.random() < 0.05:
                    continue  # eligible, not yet offered
                nurse = self.someone(child.bvc_unit_id)
                enrolment = Row(
                    child_id=child.pk,
                    programme_id=programme.pk,
                    unit_id=child.bvc_unit_id,
                    area_id=area.pk,
                    status=Enrolment.Status.OFFERED,
                    consent_id=None,
                    ended_at=None,
                    rule=area.rule,
                    first_time_parents=first_born,
                    offered_at=_at(offered, 10),
                    offered_by_id=nurse,
                )
                if offered > anchor - datetime.timedelta(days=14) and rng.random() < 0.5:
                    pass  # still thinking about it
                elif rng.random() < 0.75:
                    decided = offered + datetime.timedelta(days=rng.randint(0, 7))
                    decided = min(decided, anchor - datetime.timedelta(days=1))
                    enrolment.status = Enrolment.Status.ACCEPTED
                    enrolment.consent_id = self.consent(
                        child,
                        Purpose.HOME_VISITS,
                        "effective",
                        [m.social],
                        child.bvc_unit_id,
                        start=decided,
                        years=3,
                    )
                    if rng.random() < 0.05 and decided < anchor - datetime.timedelta(days=60):
                        enrolment.status = Enrolment.Status.ENDED
                        enrolment.ended_at = _at(
                            decided
                            + datetime.timedelta(days=rng.randint(30, (anchor - decided).days)),
                            12,
                        )
                        enrolment.end_reason = "Familjen har flyttat."
                else:
                    decided = offered + datetime.timedelta(days=rng.randint(0, 7))
                    enrolment.status = Enrolment.Status.DECLINED
                    enrolment.decline_reason = rng.choice(["", "Vi klarar oss bra själva."])
                if enrolment.status != Enrolment.Status.OFFERED:
                    enrolment.decided_at = _at(min(decided, anchor), 11)
                    enrolment.decided_by_id = family.guardians[0].pk
                    enrolment.decision_recorded_by_id = nurse
                enrolments.append((enrolment, child, family))
        # Consents to joint visits first (the enrolment points at one), then the enrolments.
        self.consents_flush(start)
        _insert(Enrolment, [e for e, _, _ in enrolments])
        self.visits_schedule([e for e in enrolments if e[0].status in ("accepted", "ended")])

    def visits_schedule(self, enrolments: list[tuple[Row, Row, Family]]) -> None:
        rng, anchor = self.rng, self.anchor
        visits, bookings, notes = [], [], []
        for enrolment, child, family in enrolments:
            m = family.municipality
            _, _, programme_visits = m.programme  # type: ignore[misc]
            nurse = enrolment.offered_by_id
            therapist = self.someone(m.social, 2 + rng.randrange(3))
            for pv in programme_visits:
                due = child.birth_date + relativedelta(months=pv.age_months, weeks=pv.age_weeks)
                visit = Row(
                    enrolment_id=enrolment,
                    programme_visit_id=pv.pk,
                    due_date=due,
                    window_start=due - datetime.timedelta(days=pv.window_days_before),
                    window_end=due + datetime.timedelta(days=pv.window_days_after),
                )
                both = "family_therapist" in pv.professions
                if enrolment.ended_at is not None and _at(visit.window_start) > enrolment.ended_at:
                    visit.cancelled_at = enrolment.ended_at
                elif visit.window_end < anchor and rng.random() < 0.85:
                    late = rng.random() < 0.1
                    day = due + datetime.timedelta(
                        days=pv.window_days_after + rng.randint(1, 20)
                        if late
                        else rng.randint(-pv.window_days_before, pv.window_days_after)
                    )
                    day = min(day, anchor - datetime.timedelta(days=1))
                    visit.done_at = _at(day, 10)
                    bookings.append(
                        Row(
                            visit_id=visit,
                            starts_at=visit.done_at,
                            nurse_id=nurse,
                            therapist_id=therapist if both else None,
                            booked_by_id=nurse,
                            booked_at=visit.done_at - datetime.timedelta(days=10),
                        )
                    )
                    notes.append(
                        Row(
                            visit_id=visit,
                            author_id=nurse,
                            unit_id=child.bvc_unit_id,
                            topics=["feeding", "growth"],
                            text="Barnet växer fint; samtal om sömn och mat.",
                            created_at=visit.done_at + datetime.timedelta(hours=2),
                        )
                    )
                    if both:
                        notes.append(
                            Row(
                                visit_id=visit,
                                author_id=therapist,
                                unit_id=m.social,
                                topics=["parenthood"],
                                text="Samtal om föräldraskap och vardag.",
                                created_at=visit.done_at + datetime.timedelta(hours=3),
                            )
                        )
                elif (
                    anchor <= visit.window_end
                    and visit.window_start <= anchor + datetime.timedelta(days=30)
                    and rng.random() < 0.6
                ):
                    when = _at(max(anchor + datetime.timedelta(days=1), due), 10)
                    if rng.random() < 0.15:  # moved once: the old booking stays, cancelled
                        bookings.append(
                            Row(
                                visit_id=visit,
                                starts_at=when - datetime.timedelta(days=2),
                                nurse_id=nurse,
                                booked_by_id=nurse,
                                booked_at=_at(anchor - datetime.timedelta(days=20)),
                                cancelled_at=_at(anchor - datetime.timedelta(days=5)),
                                cancel_reason="Familjen bad om en annan tid.",
                            )
                        )
                    bookings.append(
                        Row(
                            visit_id=visit,
                            starts_at=when,
                            nurse_id=nurse,
                            therapist_id=therapist if both else None,
                            booked_by_id=nurse,
                            booked_at=_at(anchor - datetime.timedelta(days=4)),
                        )
                    )
                visits.append(visit)
        _insert(HomeVisit, visits)
        _insert(VisitBooking, bookings)
        _insert(VisitNote, notes)


# ------------------------------------------------------------------------------- the run


@dataclass
class Outcome:
    batches: int  # in the population
    made: int  # batches made by this call
    children_before: int  # children already there when it started
    stopped: bool  # stopped early on request


def population_generate(
    children: int,
    *,
    seed: int = 1,
    batch_size: int = 10_000,
    stop_after_batches: int | None = None,
    on_start: Callable[[int], object] | None = None,
    on_batch: Callable[[int], object] | None = None,
) -> Outcome:
    """Make (or finish) the population; a complete one is left as it is."""
    run = run_prepare(children, seed, batch_size)
    done = dict(PopulationBatch.objects.values_list("number", "children"))
    batches = math.ceil(children / batch_size)
    before = sum(done.values())
    if on_start is not None:
        on_start(before)
    world = world_load(run) if len(done) < batches else None
    made = 0
    stopped = False
    for number in range(batches):
        if number in done:
            continue
        if stop_after_batches is not None and made >= stop_after_batches:
            stopped = True
            break
        with transaction.atomic():
            count = Batch(world, number).make()  # type: ignore[arg-type]
            PopulationBatch.objects.create(
                number=number, children=count, finished_at=timezone.now()
            )
        made += 1
        if on_batch is not None:
            on_batch(count)
    if not stopped and run.finished_at is None:
        run.finished_at = timezone.now()
        run.save(update_fields=["finished_at"])
        if made and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # As autovacuum would in production: statistics for the planner, and the
                # visibility map without which no index-only scan is possible. (VACUUM cannot
                # run inside a transaction, as in a test: there, the statistics only.)
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)")
    return Outcome(batches=batches, made=made, children_before=before, stopped=stopped)
