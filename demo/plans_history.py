"""Fictional SIP history: a few coordinated individual plans of Ekby children, each under the
guardians' SIP consent, with participants (a neighbour, an investigator from child and
adolescent psychiatry, the child), meetings with attendance, and two or three versions.

The consents go through the consent services, as a professional records them (dated in the
past); the plans are written straight to the models with past timestamps (the services always
stamp "now" and refuse a follow-up date in the past).

Also readies the browser test of the SIP flow: the child of the principal's newest identified
HLT case gets an effective SIP consent, and no plan yet.
"""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from cases.models import Concern
from consent.models import Consent, GuardianConsent
from consent.policy import Purpose
from consent.services import consent_give, consent_record, custodial_guardians
from directory.models import Organisation, Professional, Sector, Team, Unit
from families.models import Child, ProtectionLevel
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

from . import data

Kind = PlanParticipant.Kind
Status = PlanAction.Status
OPEN = (Status.PLANNED, Status.ONGOING)


def demo_plans_load(anchor: datetime.date) -> int:
    """Returns the number of plans made (0 when already loaded)."""
    if Plan.objects.exists():
        return 0
    world = _World.load()
    used: set[int] = set()
    browser_child = _browser_test_child(world, anchor)
    if browser_child is not None:
        used.add(browser_child.pk)
    made = 0
    for build in (_sleep_plan, _school_plan, _speech_plan, _new_plan):
        with transaction.atomic():
            if build(world, anchor, used) is not None:
                made += 1
    return made


class _World:
    """The demo's people, units and responsible bodies, looked up once."""

    people: dict[str, Professional]
    units: dict[str, Unit]
    municipality: Organisation
    region: Organisation

    @classmethod
    def load(cls) -> _World:
        world = cls()
        world.people = {p.username: p for p in Professional.objects.all()}
        world.units = {u.name: u for u in Unit.objects.all()}
        world.municipality = Organisation.objects.get(name="Ekby kommun")
        world.region = Organisation.objects.get(name=data.REGION)
        return world


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), timezone.get_current_timezone())


def _request(user: Professional):  # type: ignore[no-untyped-def]
    request = RequestFactory().post("/")
    request.user = user
    request.request_id = "demo"  # type: ignore[attr-defined]  # as our middleware sets it
    return request


def _sip_consent(
    child: Child, recorder: Professional, given: datetime.date, sectors: list[str]
) -> Consent:
    """The guardians' SIP consent, recorded and given through the consent services."""
    request = _request(recorder)
    consent = consent_record(
        request=request,
        child=child,
        purpose=Purpose.SIP,
        sectors=sectors,
        valid_from=given,
        valid_until=given + relativedelta(months=18),
    )
    for guardian in custodial_guardians(child):
        consent_give(
            request=request,
            consent=consent,
            guardian=guardian,
            method=GuardianConsent.Method.VERBAL,
            witness="Kollega vid mötet",
            given_at=_at(given, 9),
        )
    return Consent.objects.get(pk=consent.pk)


def _pick(
    used: set[int], *, age: tuple[int, int], anchor: datetime.date, **filters: object
) -> Child | None:
    """The first unprotected child matching `filters`, of an age, with two custodial guardians
    and no plan or SIP consent yet (deterministic: by id)."""
    candidates = (
        Child.objects.filter(protection=ProtectionLevel.NONE, identity_number__isnull=False)
        .filter(**filters)
        .exclude(consents__purpose=Purpose.SIP)
        .order_by("pk")
    )
    for child in candidates:
        years = (anchor - child.birth_date).days // 365
        if child.pk in used or not age[0] <= years <= age[1]:
            continue
        if len(custodial_guardians(child)) == 2:
            used.add(child.pk)
            return child
    return None


def _browser_test_child(world: _World, anchor: datetime.date) -> Child | None:
    hlt = Team.objects.filter(working_model=Team.Model.HLT).order_by("pk").first()
    principal = world.people.get("rektor")
    if hlt is None or principal is None:
        return None
    concern = (
        Concern.objects.filter(
            team=hlt, created_by=principal, child__isnull=False, status=Concern.Status.OPEN
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if concern is None:
        return None
    child: Child = concern.child  # type: ignore[assignment]  # filtered on child__isnull=False
    if not custodial_guardians(child):
        return None
    if not child.consents.filter(purpose=Purpose.SIP).exists():
        _sip_consent(
            child,
            principal,
            anchor - datetime.timedelta(days=3),
            [Sector.STUDENT_HEALTH, Sector.SOCIAL_SERVICES, Sector.PRIMARY_CARE],
        )
    return child


class _Plan:
    """Writes one plan's history: participants, meetings, versions."""

    def __init__(
        self,
        world: _World,
        child: Child,
        consent: Consent,
        *,
        starter: str,
        unit: str,
        requested_by: str,
        requested_on: datetime.date,
    ) -> None:
        self.world = world
        self.starter = world.people[starter]
        self.unit = world.units[unit]
        self.plan = Plan.objects.create(
            child=child,
            consent=consent,
            requested_by=requested_by,
            requested_on=requested_on,
            started_by=self.starter,
            started_unit=self.unit,
            started_at=_at(requested_on, 11),
            first_meeting_due=requested_on + datetime.timedelta(days=21),
        )
        self.by_name: dict[str, PlanParticipant] = {}
        self.professional(starter, unit, str(self.starter.get_profession_display()), requested_on)

    def _add(self, key: str, invited: datetime.date, **fields: object) -> PlanParticipant:
        participant = PlanParticipant.objects.create(
            plan=self.plan, added_by=self.starter, invited_at=_at(invited, 12), **fields
        )
        PlanParticipant.objects.filter(pk=participant.pk).update(added_at=_at(invited, 12))
        self.by_name[key] = participant
        return participant

    def professional(self, username: str, unit: str, role: str, on: datetime.date) -> None:
        self._add(
            username,
            on,
            kind=Kind.PROFESSIONAL,
            professional=self.world.people[username],
            unit=self.world.units[unit],
            role=role,
        )

    def guardians(self, on: datetime.date) -> None:
        for custody in self.plan.child.custodies.select_related("guardian").order_by("pk"):
            self._add(
                f"guardian-{custody.guardian_id}",
                on,
                kind=Kind.GUARDIAN,
                guardian=custody.guardian,
                role=custody.get_relation_display(),
            )

    def other(self, name: str, role: str, on: datetime.date, contact: str = "") -> None:
        self._add(name, on, kind=Kind.OTHER, name=name, role=role, contact=contact)

    def child(self, role: str, on: datetime.date) -> None:
        self._add("child", on, kind=Kind.CHILD, role=role)

    def meeting(
        self, kind: str, day: datetime.date, place: str, absent: tuple[str, ...] = ()
    ) -> PlanMeeting:
        meeting = PlanMeeting.objects.create(
            plan=self.plan,
            kind=kind,
            starts_at=_at(day, 14),
            place=place,
            created_by=self.starter,
            held=True,
        )
        PlanAttendance.objects.bulk_create(
            PlanAttendance(meeting=meeting, participant=p, present=key not in absent)
            for key, p in self.by_name.items()
        )
        return meeting

    def version(
        self,
        meeting: PlanMeeting,
        *,
        needs: str,
        voice: tuple[str, str, str],
        family_view: str,
        goals: list[str],
        interventions: list[tuple[str, str, str]],
        actions: list[tuple[str, str, int, str]],
        next_follow_up: datetime.date,
        coordinator: str,
        evaluation: str = "",
        evaluations: dict[str, tuple[str, str]] | None = None,
    ) -> PlanVersion:
        """One version. interventions: (what, provider kind, other provider); actions: (what,
        who: a participant key or free text, days after the meeting, status); evaluations: the
        previous version's actions by text → (status, how it went), carried over when open."""
        plan = self.plan
        previous = plan.versions.filter(number=plan.current_number).first()
        number = plan.current_number + 1
        day = timezone.localdate(meeting.starts_at)
        version = PlanVersion.objects.create(
            plan=plan,
            number=number,
            kind=PlanVersion.Kind.FIRST if number == 1 else PlanVersion.Kind.FOLLOW_UP,
            meeting=meeting,
            created_by=self.starter,
            created_unit=self.unit,
            created_at=meeting.starts_at + datetime.timedelta(hours=2),
            needs=needs,
            family_view=family_view,
            child_voice=voice[0],
            child_voice_method=voice[1],
            child_voice_by=voice[2],
            overall_responsibility=self.world.municipality,
            coordinator=self.world.people[coordinator],
            next_follow_up=next_follow_up,
            evaluation=evaluation,
        )
        PlanGoal.objects.bulk_create(
            PlanGoal(version=version, text=text, position=n) for n, text in enumerate(goals)
        )
        PlanIntervention.objects.bulk_create(
            PlanIntervention(
                version=version,
                what=what,
                provider_kind=kind,
                provider={"region": self.world.region, "municipality": self.world.municipality}.get(
                    kind
                ),
                provider_other=other,
                position=n,
            )
            for n, (what, kind, other) in enumerate(interventions)
        )
        rows = []
        # Every open action of the version before is evaluated; finished ones stay there.
        for old in previous.actions.filter(status__in=OPEN) if previous else []:
            status, how = (evaluations or {}).get(old.what, (Status.DONE, ""))
            rows.append(
                PlanAction(
                    version=version,
                    what=old.what,
                    unit_id=old.unit_id,
                    responsible_id=old.responsible_id,
                    responsible_other=old.responsible_other,
                    due_date=next_follow_up - datetime.timedelta(days=7)
                    if status in (Status.PLANNED, Status.ONGOING)
                    else old.due_date,
                    status=status,
                    evaluation=how,
                    carried_from=old,
                )
            )
        for what, who, days, status in actions:
            participant = self.by_name.get(who)
            if participant is not None and participant.kind != Kind.PROFESSIONAL:
                participant = None
            rows.append(
                PlanAction(
                    version=version,
                    what=what,
                    unit_id=participant.unit_id if participant else None,
                    responsible_id=participant.professional_id if participant else None,
                    responsible_other="" if participant else who,
                    due_date=day + datetime.timedelta(days=days),
                    status=status,
                )
            )
        for n, row in enumerate(rows):
            row.position = n
        PlanAction.objects.bulk_create(rows)
        Plan.objects.filter(pk=plan.pk).update(current_number=number, next_follow_up=next_follow_up)
        plan.refresh_from_db()
        return version


def _sleep_plan(world: _World, anchor: datetime.date, used: set[int]) -> Plan | None:
    """A preschool child of BVC Ekby centrum: three versions, a follow-up due within a week
    for the BVC nurse and the family therapist, a neighbour in the network."""
    child = _pick(
        used,
        age=(2, 4),
        anchor=anchor,
        bvc_unit=world.units["BVC Ekby centrum"],
        school_unit__isnull=False,
    )
    if child is None:
        return None
    start = anchor - datetime.timedelta(days=120)
    consent = _sip_consent(
        child, world.people["bvc-sjukskoterska"], start, [Sector.SOCIAL_SERVICES, Sector.PRESCHOOL]
    )
    p = _Plan(
        world,
        child,
        consent,
        starter="bvc-sjukskoterska",
        unit="BVC Ekby centrum",
        requested_by="Vårdnadshavarna, efter BVC-besök",
        requested_on=start,
    )
    p.professional(
        "familjebehandlare", "Socialtjänsten Ekby, öppenvård", "Familjebehandlare", start
    )
    school: Unit = child.school_unit  # type: ignore[assignment]  # picked with a school unit
    p.professional("specialpedagog", school.name, "Specialpedagog, förskolan", start)
    p.guardians(start)
    p.other("Greta Lindqvist", "Granne, hämtar ibland på förskolan", start, "070-000 11 22")
    first = p.meeting(
        PlanMeeting.Kind.FIRST, start + datetime.timedelta(days=14), "BVC Ekby centrum"
    )
    p.version(
        first,
        needs="Barnet sover oroligt och vaknar flera gånger per natt. Föräldrarna är utmattade "
        "och det blir ofta konflikter vid lämning på förskolan.",
        voice=(
            "Visade med nallen att han är ledsen när mamma går. Vill ha ”ett gosedjur till på "
            "förskolan”.",
            PlanVersion.VoiceMethod.TRUSTED_PERSON,
            "Förskolläraren",
        ),
        family_view="Vi vill ha lugnare kvällar och hjälp att få rutinerna att hålla.",
        goals=[
            "Barnet somnar i egen säng och sover större delen av natten.",
            "Lugnare lämningar på förskolan.",
        ],
        interventions=[
            ("Sömnrådgivning på BVC", "region", ""),
            ("Föräldrastöd i hemmet", "municipality", ""),
            ("Grannen hämtar på tisdagar så att föräldrarna hinner vila", "other", "Grannen"),
        ],
        actions=[
            ("Två sömnsamtal med föräldrarna", "bvc-sjukskoterska", 21, Status.PLANNED),
            ("Fyra hembesök om kvällsrutiner", "familjebehandlare", 45, Status.PLANNED),
            ("Lugn lämningsrutin med samma pedagog", "specialpedagog", 14, Status.PLANNED),
            ("Föra sömndagbok i tre veckor", "Vårdnadshavarna", 21, Status.PLANNED),
        ],
        next_follow_up=start + datetime.timedelta(days=70),
        coordinator="familjebehandlare",
    )
    second = p.meeting(
        PlanMeeting.Kind.FOLLOW_UP,
        start + datetime.timedelta(days=70),
        "Familjecentralen Ekby",
        absent=("Greta Lindqvist",),
    )
    p.version(
        second,
        needs="Sömnen har blivit bättre men kvällarna är fortfarande svåra.",
        voice=(
            "”Jag sover hos nallen nu.”",
            PlanVersion.VoiceMethod.AT_MEETING,
            "BVC-sjuksköterskan",
        ),
        family_view="Det går bättre. Vi behöver fortsatt stöd med kvällarna.",
        goals=["Barnet sover hela natten minst fem nätter i veckan."],
        interventions=[("Föräldrastöd i hemmet", "municipality", "")],
        actions=[("Föräldragrupp på familjecentralen", "familjebehandlare", 30, Status.PLANNED)],
        evaluation="Sömndagboken visar färre uppvaknanden. Lämningarna fungerar bra.",
        evaluations={
            "Två sömnsamtal med föräldrarna": (Status.DONE, "Två samtal hölls, bra uppslutning."),
            "Fyra hembesök om kvällsrutiner": (Status.ONGOING, "Tre av fyra besök gjorda."),
            "Lugn lämningsrutin med samma pedagog": (Status.DONE, "Fungerar bra."),
            "Föra sömndagbok i tre veckor": (Status.DONE, "Dagboken fördes i fyra veckor."),
        },
        next_follow_up=anchor - datetime.timedelta(days=10),
        coordinator="familjebehandlare",
    )
    third = p.meeting(
        PlanMeeting.Kind.FOLLOW_UP, anchor - datetime.timedelta(days=10), "BVC Ekby centrum"
    )
    p.version(
        third,
        needs="Sömnen fungerar oftast. Föräldrarna vill avsluta när kvällarna håller.",
        voice=(
            "Ritade sin säng och sa att den är ”mysig”.",
            PlanVersion.VoiceMethod.SEPARATELY,
            "Specialpedagogen",
        ),
        family_view="Vi känner oss tryggare och vill följa upp en sista gång.",
        goals=["Behålla de nya rutinerna utan stöd."],
        interventions=[("Uppföljande samtal på BVC", "region", "")],
        actions=[("Avslutande samtal med familjen", "bvc-sjukskoterska", 12, Status.PLANNED)],
        evaluation="Målen är i stort sett nådda. Föräldragruppen uppskattades.",
        evaluations={
            "Fyra hembesök om kvällsrutiner": (Status.DONE, "Alla besök gjorda."),
            "Föräldragrupp på familjecentralen": (Status.ONGOING, "Två träffar kvar."),
        },
        next_follow_up=anchor + datetime.timedelta(days=6),
        coordinator="familjebehandlare",
    )
    return p.plan


def _school_plan(world: _World, anchor: datetime.date, used: set[int]) -> Plan | None:
    """An Ekbyskolan pupil after an HLT discussion: the child takes part, an investigator from
    child and adolescent psychiatry joins; two versions."""
    child = _pick(used, age=(9, 12), anchor=anchor, school_unit=world.units["Ekbyskolan"])
    if child is None:
        return None
    start = anchor - datetime.timedelta(days=60)
    consent = _sip_consent(
        child,
        world.people["rektor"],
        start,
        [Sector.STUDENT_HEALTH, Sector.SOCIAL_SERVICES, Sector.PRIMARY_CARE],
    )
    p = _Plan(
        world,
        child,
        consent,
        starter="rektor",
        unit="Ekbyskolan",
        requested_by="HLT Ekbyskolan, med föräldrarnas medgivande",
        requested_on=start,
    )
    p.professional("kurator", "Elevhälsan Ekbyskolan", "Skolkurator", start)
    p.professional(
        "socialsekreterare", "Socialtjänsten Ekby, öppenvård", "Socialsekreterare", start
    )
    p.professional("lakare", "Hälsocentralen Ekby", "Läkare, hälsocentralen", start)
    p.guardians(start)
    p.child("Deltar i början av mötet", start)
    p.other("Jonna Berg", "Utredare, barn- och ungdomspsykiatrin (BUP)", start)
    first = p.meeting(PlanMeeting.Kind.FIRST, start + datetime.timedelta(days=17), "Ekbyskolan")
    p.version(
        first,
        needs="Hög frånvaro sedan höstlovet, ont i magen på morgnarna. Utredning på BUP pågår.",
        voice=(
            "”Det är jobbigt på rasterna. Jag vill att någon vuxen är ute.” Vill själv "
            "vara med en stund på mötena.",
            PlanVersion.VoiceMethod.AT_MEETING,
            "Kuratorn",
        ),
        family_view="Vi vill att skolan och vården pratar med varandra så att vi slipper "
        "berätta allt flera gånger.",
        goals=["Närvaro minst 80 procent.", "Trygga raster."],
        interventions=[
            ("Utredning på barn- och ungdomspsykiatrin", "region", ""),
            ("Anpassad studiegång och rastvärd", "municipality", ""),
            ("Samtalsstöd via skolkuratorn", "municipality", ""),
        ],
        actions=[
            ("Rastvärd varje dag på förmiddagsrasten", "kurator", 7, Status.PLANNED),
            ("Läkarbesök om magsmärtorna", "lakare", 21, Status.PLANNED),
            ("Veckovis kontakt mellan hem och skola", "Pappa", 14, Status.PLANNED),
        ],
        next_follow_up=anchor - datetime.timedelta(days=2),
        coordinator="kurator",
    )
    second = p.meeting(
        PlanMeeting.Kind.FOLLOW_UP, anchor - datetime.timedelta(days=2), "Ekbyskolan"
    )
    p.version(
        second,
        needs="Närvaron har ökat. Utredningen på BUP blir klar i vår.",
        voice=("”Rasterna är bättre nu.”", PlanVersion.VoiceMethod.AT_MEETING, "Kuratorn"),
        family_view="Det går åt rätt håll.",
        goals=["Närvaro minst 90 procent."],
        interventions=[("Utredning på barn- och ungdomspsykiatrin", "region", "")],
        actions=[
            ("Återkoppling från utredningen till nätverket", "Jonna Berg", 40, Status.PLANNED)
        ],
        evaluation="Närvaron har gått från 60 till 82 procent.",
        evaluations={
            "Rastvärd varje dag på förmiddagsrasten": (Status.ONGOING, "Fungerar, fortsätter."),
            "Läkarbesök om magsmärtorna": (Status.DONE, "Inga kroppsliga fynd."),
            "Veckovis kontakt mellan hem och skola": (Status.DONE, "Fungerade bra."),
        },
        next_follow_up=anchor + datetime.timedelta(days=35),
        coordinator="kurator",
    )
    return p.plan


def _speech_plan(world: _World, anchor: datetime.date, used: set[int]) -> Plan | None:
    """A toddler of BVC Ekby norra with speech therapy from the region: two versions."""
    child = _pick(used, age=(2, 4), anchor=anchor, bvc_unit=world.units["BVC Ekby norra"])
    if child is None:
        return None
    start = anchor - datetime.timedelta(days=80)
    consent = _sip_consent(
        child, world.people["bvc-psykolog"], start, [Sector.PRESCHOOL, Sector.PRIMARY_CARE]
    )
    p = _Plan(
        world,
        child,
        consent,
        starter="bvc-psykolog",
        unit="BVC Ekby norra",
        requested_by="BVC-psykologen",
        requested_on=start,
    )
    p.professional(
        "specialpedagog",
        child.school_unit.name if child.school_unit else "Förskolan Ekorren",
        "Specialpedagog",
        start,
    )
    p.guardians(start)
    first = p.meeting(PlanMeeting.Kind.FIRST, start + datetime.timedelta(days=20), "BVC Ekby norra")
    p.version(
        first,
        needs="Talet har kommit sent; barnet blir frustrerat när det inte blir förstått.",
        voice=(
            "Pekar och visar gärna. Blev glad när vi använde bildstöd.",
            PlanVersion.VoiceMethod.SEPARATELY,
            "BVC-psykologen",
        ),
        family_view="Vi vill förstå hur vi kan hjälpa hemma.",
        goals=["Barnet använder fler ord och tecken hemma och på förskolan."],
        interventions=[
            ("Logopedbedömning", "region", ""),
            ("Bildstöd på förskolan", "municipality", ""),
        ],
        actions=[
            ("Remiss till logopedmottagningen", "bvc-psykolog", 7, Status.PLANNED),
            ("Bildschema på avdelningen", "specialpedagog", 30, Status.PLANNED),
        ],
        next_follow_up=anchor - datetime.timedelta(days=5),
        coordinator="bvc-psykolog",
    )
    second = p.meeting(
        PlanMeeting.Kind.FOLLOW_UP, anchor - datetime.timedelta(days=5), "BVC Ekby norra"
    )
    p.version(
        second,
        needs="Logopedkontakt har startat. Fler ord hemma.",
        voice=(
            "Säger ”mer” och ”titta” och visar stolt sina bilder.",
            PlanVersion.VoiceMethod.AT_MEETING,
            "Föräldrarna",
        ),
        family_view="Vi ser framsteg.",
        goals=["Tio nya ord till nästa uppföljning."],
        interventions=[("Logopedbehandling", "region", "")],
        actions=[("Tecken som stöd för familjen", "Vårdnadshavarna", 30, Status.PLANNED)],
        evaluation="Remissen skickad och besvarad; bildschemat används dagligen.",
        evaluations={
            "Remiss till logopedmottagningen": (Status.DONE, "Första besöket är gjort."),
            "Bildschema på avdelningen": (Status.DONE, "Används varje dag."),
        },
        next_follow_up=anchor + datetime.timedelta(days=50),
        coordinator="bvc-psykolog",
    )
    return p.plan


def _new_plan(world: _World, anchor: datetime.date, used: set[int]) -> Plan | None:
    """Just started by social services: no version yet, the first meeting due in ten days."""
    child = _pick(used, age=(1, 4), anchor=anchor, bvc_unit=world.units["BVC Ekby centrum"])
    if child is None:
        return None
    start = anchor - datetime.timedelta(days=11)
    consent = _sip_consent(
        child, world.people["bvc-sjukskoterska"], start, [Sector.SOCIAL_SERVICES]
    )
    p = _Plan(
        world,
        child,
        consent,
        starter="familjebehandlare",
        unit="Socialtjänsten Ekby, öppenvård",
        requested_by="Mamma",
        requested_on=start,
    )
    p.professional("bvc-sjukskoterska", "BVC Ekby centrum", "BVC-sjuksköterska", start)
    p.guardians(start)
    return p.plan
