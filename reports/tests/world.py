"""A small region built straight from the models (no services, no audit), for the statistics
tests: municipalities with a BVC each, occasions, a questionnaire, services of two kinds,
and helpers that add children, screening answers, referrals, plans and home-visit enrolments.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TypeVar

from consent.models import Consent
from consent.policy import Purpose
from directory.models import Organisation, Professional, Sector, Service, Unit
from families.models import Child, Custody, Guardian
from plans.models import Plan, PlanVersion
from screening.models import (
    Answer,
    KioskSession,
    Occasion,
    QuestionnaireVersion,
    Response,
    Screening,
)
from tests import factories
from visits.models import Enrolment, Programme, ProgrammeArea

_numbers = itertools.count(1)
UTC = datetime.UTC
T = TypeVar("T")


def present(value: T | None, what: str) -> T:
    """`value`, which the world relies on being set (a nullable column, a `.first()`): fails
    loudly if it is not, rather than letting a None reach a model."""
    if value is None:
        raise AssertionError(f"the test world has no {what}")
    return value


def bvc_of(child: Child) -> Unit:
    """The child's BVC: every child of the world has one."""
    return present(child.bvc_unit, f"BVC for child {child.pk}")


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=UTC)


@dataclass
class World:
    region: Organisation
    municipalities: list[Organisation]
    bvcs: list[Unit]
    socials: list[Unit]
    staff: Professional
    version: QuestionnaireVersion
    occasions: list[Occasion]
    services: dict[str, Service]
    outside_bvc: Unit  # a BVC of a municipality of another region
    screenings: dict[tuple[int, int], Screening] = field(default_factory=dict)
    consents: dict[tuple[str, int | None], Consent] = field(default_factory=dict)
    shared: list[Guardian] = field(default_factory=list)  # guardians of many children

    def child(
        self,
        bvc: Unit,
        born: datetime.date,
        *,
        postal_code: str = "99130",
        guardians: list[Guardian] | None = None,
    ) -> Child:
        n = next(_numbers)
        child = Child.objects.create(
            reserve_number=f"RES-RP-{n:06d}",
            first_name="Test",
            last_name=f"Statistikbarn{n}",
            birth_date=born,
            bvc_unit=bvc,
            postal_code=postal_code,
        )
        if guardians is None:
            guardians = [
                Guardian.objects.create(
                    reserve_number=f"RES-RG-{n:06d}-{i}", first_name="F", last_name=f"G{n}"
                )
                for i in (1, 2)
            ]
        for guardian in guardians:
            Custody.objects.create(child=child, guardian=guardian, kind=Custody.Kind.JOINT)
        return child

    def answer(
        self,
        child: Child,
        occasion: Occasion,
        submitted: datetime.datetime,
        positive: Collection[str] = frozenset(),
        *,
        guardian: int = 0,
    ) -> Response:
        """A guardian's response at `occasion`, positive exactly in the `positive` domains."""
        key = (child.pk, occasion.pk)
        if key not in self.screenings:
            self.screenings[key] = Screening.objects.create(
                child=child,
                unit=bvc_of(child),
                occasion=occasion,
                version=self.version,
                started_by=self.staff,
            )
        screening = self.screenings[key]
        parent = list(child.guardians.order_by("pk"))[guardian]
        n = next(_numbers)
        session = KioskSession.objects.create(
            screening=screening,
            guardian=parent,
            code_hash=f"{n:064d}",
            expires_at=submitted,
            opened_at=submitted,
            submitted_at=submitted,
        )
        response = Response.objects.create(
            session=session,
            screening=screening,
            unit_id=screening.unit_id,
            guardian=parent,
            version=self.version,
            language="sv",
            submitted_at=submitted,
            idempotency_key=f"rp-{n}",
            content_hash="0" * 64,
        )
        Answer.objects.bulk_create(
            Answer(
                response=response,
                item=item,
                option="yes",
                positive=item.domain in positive,
            )
            for item in self.version.items.all()
        )
        return response

    def consent(
        self, child: Child, purpose: str = Purpose.REFERRAL, service: Service | None = None
    ) -> Consent:
        """A consent row for the foreign key (the statistics never read it): one per purpose
        and service, whichever child it names."""
        key = (purpose, service.pk if service else None)
        if key in self.consents:
            return self.consents[key]
        self.consents[key] = Consent.objects.create(
            child=child,
            purpose=purpose,
            service=service,
            valid_from=datetime.date(2020, 1, 1),
            valid_until=datetime.date(2030, 1, 1),
            recorded_by=self.staff,
            recorded_unit=self.bvcs[0],
            child_age_years=1,
            form_text="-",
        )
        return self.consents[key]

    def referral(
        self,
        child: Child,
        kind: str,
        noticed: datetime.datetime,
        *,
        sent: datetime.datetime | None = None,
        contact: datetime.datetime | None = None,
        unit: Unit | None = None,
    ):
        from cases.models import AgeBand, Concern, Referral

        unit = unit or bvc_of(child)
        concern = Concern.objects.create(
            created_by=self.staff,
            unit=unit,
            created_at=noticed,
            sector=Sector.CHILD_HEALTH,
            age_band=AgeBand.INFANT,
            worry="-",
        )
        return Referral.objects.create(
            concern=concern,
            child=child,
            service=self.services[kind],
            consent=self.consent(child, service=self.services[kind]),
            created_by=self.staff,
            unit=unit,
            sent_at=sent or noticed,
            first_contact_at=contact,
        )

    def plan(
        self,
        child: Child,
        started: datetime.datetime,
        *,
        ended: datetime.datetime | None = None,
        first_version: datetime.datetime | None = None,
    ) -> Plan:
        bvc = bvc_of(child)
        plan = Plan.objects.create(
            child=child,
            consent=self.consent(child, Purpose.SIP),
            requested_by="-",
            requested_on=started.date(),
            started_by=self.staff,
            started_unit=bvc,
            started_at=started,
            first_meeting_due=started.date(),
            status=Plan.Status.ENDED if ended else Plan.Status.ACTIVE,
            ended_at=ended,
        )
        if first_version is not None:
            PlanVersion.objects.create(
                plan=plan,
                number=1,
                kind=PlanVersion.Kind.FIRST,
                created_by=self.staff,
                created_unit=bvc,
                created_at=first_version,
                needs="-",
                overall_responsibility=bvc.organisation,
                coordinator=self.staff,
                next_follow_up=first_version.date(),
            )
        return plan

    def programme(
        self, municipality: int, areas: list[tuple[str, str]], born_from: datetime.date
    ) -> Programme:
        """A programme of the municipality with areas `(postal prefix, rule)`."""
        n = next(_numbers)
        programme = Programme.objects.create(
            name=f"Hembesök {n}",
            region=self.region,
            municipality=self.municipalities[municipality],
            partner_unit=self.socials[municipality],
            children_born_from=born_from,
        )
        for prefix, rule in areas:
            ProgrammeArea.objects.create(
                programme=programme, name=f"Område {prefix}", postal_code_prefix=prefix, rule=rule
            )
        return programme

    def enrol(self, child: Child, programme: Programme, status: str) -> Enrolment:
        area = present(programme.areas.first(), f"area in programme {programme.pk}")
        return Enrolment.objects.create(
            child=child,
            programme=programme,
            unit=bvc_of(child),
            area=area,
            rule=area.rule,
            first_time_parents=False,
            offered_by=self.staff,
            status=status,
            decided_at=None if status == Enrolment.Status.OFFERED else at(child.birth_date),
        )


def build_world(municipalities: int = 2) -> World:
    region = factories.organisation("Region Statistikland", Organisation.Kind.REGION)
    names = ["Ekby kommun", "Sjöstad kommun", "Åby kommun", "Dalby kommun"][:municipalities]
    munis = []
    for name in names:
        muni = factories.organisation(name)
        muni.region = region
        muni.save()
        munis.append(muni)
    bvcs = [factories.unit(f"BVC {m.name}", Sector.CHILD_HEALTH, m) for m in munis]
    socials = [factories.unit(f"IFO {m.name}", Sector.SOCIAL_SERVICES, m) for m in munis]
    away_region = factories.organisation("Region Annanstans", Organisation.Kind.REGION)
    away = factories.organisation("Bortby kommun")
    away.region = away_region
    away.save()
    staff = factories.professional(units=[bvcs[0]])
    version = factories.questionnaire()
    occasions = [
        Occasion.objects.create(
            region=region,
            order=1,
            name_sv="8 mån",
            name_en="8 months",
            min_age_days=210,
            max_age_days=300,
        ),
        Occasion.objects.create(
            region=region,
            order=2,
            name_sv="18 mån",
            name_en="18 months",
            min_age_days=510,
            max_age_days=600,
        ),
    ]
    services: dict[str, Service] = {
        Service.Kind.CHILD_PSYCHOLOGIST: factories.service(
            "Barnpsykolog", Service.Kind.CHILD_PSYCHOLOGIST, bvcs[0]
        ),
        Service.Kind.BUDGET_DEBT: factories.service(
            "Budgetrådgivning", Service.Kind.BUDGET_DEBT, socials[0]
        ),
    }
    return World(
        region=region,
        municipalities=munis,
        bvcs=bvcs,
        socials=socials,
        staff=staff,
        version=version,
        occasions=occasions,
        services=services,
        outside_bvc=factories.unit("BVC Bortby", Sector.CHILD_HEALTH, away),
    )
