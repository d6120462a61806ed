"""Fictional extended home visits: the Ekby programme (all families in Ekby centrum and Ekby
norra, first-time parents only in Ängby), an inactive Sjöstad variant of the Rinkeby model to
show that a programme is configuration, and families at every stage in both kinds of area:
eligible and not yet offered, offered, declined (with and without a reason), accepted with
visits done on time and late, due now, overdue and booked (one booking moved), documented by
the BVC nurse and the family therapist each in their own record.

Rows are written straight to the models with past timestamps, except the families' home-visit
consents, which go through the consent services as a guardian's consent always does (so the
family therapist's access is real, and logged).
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from consent.models import GuardianConsent
from consent.policy import Purpose
from consent.services import consent_give, consent_record, custodial_guardians
from directory.models import Organisation, Professional, Unit
from families.models import Child, Custody, Guardian
from visits.eligibility import eligible_children, is_first_born
from visits.models import (
    Enrolment,
    HomeVisit,
    Programme,
    ProgrammeArea,
    ProgrammeVisit,
    VisitBooking,
    VisitNote,
)

from . import data
from .identity_numbers import fictional_personnummer

EKBY = "Utökat hembesöksprogram Ekby"
SJOSTAD = "Hembesöksprogram Sjöstad (Rinkebymodellen)"
NURSE, THERAPIST = "bvc-sjukskoterska", "familjebehandlare"
BOTH = ["bvc_nurse", "family_therapist"]

# number, Swedish name, English name, months, weeks, days before, days after, professions
EKBY_VISITS = [
    (1, "Nyfödd, 1–2 veckor", "Newborn, 1–2 weeks", 0, 1, 3, 14, BOTH),
    (2, "2 månader", "2 months", 2, 0, 14, 14, BOTH),
    (3, "4 månader", "4 months", 4, 0, 14, 14, ["bvc_nurse"]),
    (4, "8 månader", "8 months", 8, 0, 21, 21, BOTH),
    (5, "15 månader", "15 months", 15, 0, 30, 30, BOTH),
]
SJOSTAD_VISITS = [
    (1, "Nyfödd", "Newborn", 0, 1, 3, 14, BOTH),
    (2, "2 månader", "2 months", 2, 0, 14, 14, BOTH),
    (3, "4 månader", "4 months", 4, 0, 14, 14, BOTH),
    (4, "8 månader", "8 months", 8, 0, 21, 21, BOTH),
    (5, "12 månader", "12 months", 12, 0, 30, 30, BOTH),
    (6, "15 månader", "15 months", 15, 0, 30, 30, BOTH),
]
ALL, FIRST = ProgrammeArea.Rule.ALL_FAMILIES, ProgrammeArea.Rule.FIRST_TIME_PARENTS
EKBY_RULES = {"99130": ALL, "99134": ALL, "99138": FIRST}


@dataclass(frozen=True)
class Family:
    """One fictional home-visit family: where it lives, the child's age and its stage."""

    postal_code: str
    age_days: int
    stage: str
    child: str
    surname: str
    parents: tuple[str, ...]
    older_sibling: str = ""  # an older child of the same guardians (not first-time parents)


# Every stage in an all-families area (Ekby centrum) and a first-time-parents area (Ängby).
FAMILIES = [
    # Eligible and not yet offered: two guardians in joint custody, no older sibling. The
    # browser test of the home-visit flow offers the programme to Ines.
    Family("99130", 12, "new", "Ines", "Strandberg", ("Klara", "Viktor")),
    Family("99130", 24, "new", "Malte", "Öhman", ("Tove", "Rasmus"), older_sibling="Juni"),
    Family("99130", 30, "offered", "Sigrid", "Lövgren", ("Elin", "Samuel")),
    Family("99130", 55, "declined_reason", "Ture", "Hagström", ("Frida", "Emil")),
    Family("99130", 42, "declined", "Nova", "Rydén", ("Moa",)),
    Family("99130", 66, "booked", "Idris", "Karimi", ("Shirin", "Navid")),
    Family("99130", 300, "overdue", "Vera", "Bergqvist", ("Hanna", "Oskar")),
    Family("99130", 470, "due", "Otto", "Almgren", ("Lisa", "Jonatan")),
    # Moved away after three visits: the BVC ended the programme, the rest were cancelled.
    Family("99130", 200, "moved", "Elsa", "Norberg", ("Linnea", "David")),
    Family("99138", 16, "new", "Siri", "Nordin", ("Alva", "Petter")),
    Family("99138", 20, "not_eligible", "Ebbe", "Sandell", ("Maja", "Kim"), older_sibling="Lo"),
    Family("99138", 33, "offered", "Halvard", "Ek", ("Ylva", "Anton")),
    Family("99138", 58, "declined_reason", "Ronja", "Wallin", ("Sanna", "Martin")),
    Family("99138", 46, "declined", "Melker", "Fors", ("Agnes",)),
    Family("99138", 63, "booked", "Aziz", "Rahimi", ("Mina", "Farid")),
    Family("99138", 305, "overdue", "Juno", "Lindgren", ("Ida", "Albin")),
    Family("99138", 475, "due", "Vilgot", "Sjödin", ("Emelie", "Axel")),
]

NURSE_NOTES = [
    (["feeding", "growth"], "Amning fungerar bra, god viktuppgång. Navel läkt."),
    (["health", "growth"], "Följer sin kurva. Pratade om sömn och D-droppar."),
    (["feeding", "health"], "Börjat smakportioner. Inga infektioner sedan förra besöket."),
]
THERAPIST_NOTES = [
    (["parenthood"], "Föräldrarna berättar att nätterna är tunga; vi pratade om att turas om."),
    (["communication", "parenthood"], "Samtal om att läsa barnets signaler och om samspel."),
    (["siblings", "parenthood"], "Storasyskonets reaktioner på bebisen; tips om egen tid."),
]


def demo_visits_load(anchor: datetime.date) -> int:
    """Returns the number of families given a home-visit history (0 when already loaded)."""
    if Programme.objects.filter(name=EKBY).exists():
        return 0
    with transaction.atomic():
        return _load(anchor)


def _load(anchor: datetime.date) -> int:
    units = {unit.name: unit for unit in Unit.objects.all()}
    people = {p.username: p for p in Professional.objects.filter(username__in=[NURSE, THERAPIST])}
    orgs = {org.name: org for org in Organisation.objects.all()}
    ekby = _programme(
        EKBY,
        orgs,
        units["Socialtjänsten Ekby, öppenvård"],
        "Ekby kommun",
        anchor - relativedelta(years=2),
        EKBY_VISITS,
        [(name, code, EKBY_RULES[code]) for name, code in data.AREAS["Ekby kommun"]],
        active=True,
        description="Fem gemensamma hembesök av BVC-sjuksköterska och familjebehandlare under "
        "barnets två första år. Alla nyblivna föräldrar i Ekby centrum och Ekby norra, "
        "förstagångsföräldrar i Ängby.",
    )
    _programme(
        SJOSTAD,
        orgs,
        units["Socialtjänsten Sjöstad"],
        "Sjöstad kommun",
        anchor + relativedelta(months=3),
        SJOSTAD_VISITS,
        [(name, code, FIRST) for name, code in data.AREAS["Sjöstad kommun"]],
        active=False,
        description="Rinkebymodellen: sex hembesök från nyfödd till 15 månader, för "
        "förstagångsföräldrar. Planerad, ännu inte i gång.",
    )
    _administrator_may_set_up_programmes()
    bvc = units["BVC Ekby centrum"]
    story = _Story(anchor, ekby, bvc, people[NURSE], people[THERAPIST])
    for family in FAMILIES:
        story.family(family)
    # The demo region's own newborns and toddlers of BVC Ekby centrum: most offered at birth,
    # most of those accepted, so the coverage figures have something to show.
    own = {c.pk for c in story.children}
    earlier = (
        eligible_children(ekby, Child.objects.filter(bvc_unit=bvc))
        .exclude(pk__in=own)
        .order_by("birth_date", "pk")
    )
    offered = 0
    for index, child in enumerate(earlier):
        age = (anchor - child.birth_date).days
        if age < 7 * ekby.offer_until_weeks:
            continue  # still to be offered: on the nurse's worklist
        stage = ["accepted", "accepted", "accepted", "declined", "missed"][index % 5]
        if stage != "missed":
            story.enrol(child, stage, late_every=4 if index % 2 else 0)
            offered += 1
    return len(FAMILIES) + offered


def _programme(
    name: str,
    orgs: dict[str, Organisation],
    partner: Unit,
    municipality: str,
    born_from: datetime.date,
    visits: list[tuple[int, str, str, int, int, int, int, list[str]]],
    areas: list[tuple[str, str, str]],
    *,
    active: bool,
    description: str,
) -> Programme:
    programme = Programme.objects.create(
        name=name,
        description=description,
        region=orgs[data.REGION],
        municipality=orgs[municipality],
        partner_unit=partner,
        children_born_from=born_from,
        active=active,
    )
    ProgrammeVisit.objects.bulk_create(
        ProgrammeVisit(
            programme=programme,
            number=number,
            name_sv=sv,
            name_en=en,
            age_months=months,
            age_weeks=weeks,
            window_days_before=before,
            window_days_after=after,
            professions=professions,
        )
        for number, sv, en, months, weeks, before, after, professions in visits
    )
    ProgrammeArea.objects.bulk_create(
        ProgrammeArea(programme=programme, name=area, postal_code_prefix=code, rule=rule)
        for area, code, rule in areas
    )
    return programme


def _administrator_may_set_up_programmes() -> None:
    admin = Professional.objects.filter(username=data.ADMIN_USERNAME).first()
    if admin is not None:
        admin.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="visits",
                content_type__model__in=["programme", "programmevisit", "programmearea"],
            )
        )


class _Story:
    """Writes the families and what happened to them, relative to the anchor date."""

    def __init__(
        self,
        anchor: datetime.date,
        programme: Programme,
        bvc: Unit,
        nurse: Professional,
        therapist: Professional,
    ) -> None:
        self.anchor = anchor
        self.programme = programme
        self.bvc = bvc
        self.nurse = nurse
        self.therapist = therapist
        self.visits = list(programme.visits.order_by("number"))
        self.areas = {area.postal_code_prefix: area for area in programme.areas.all()}
        self.children: list[Child] = []
        self.request = RequestFactory().post("/")
        self.request.user = nurse
        self.request.request_id = "demo-visits"  # type: ignore[attr-defined]
        self.tz = timezone.get_current_timezone()
        self.serials = itertools.count()

    def at(self, day: datetime.date, hour: int = 10) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(hour), self.tz)

    def family(self, family: Family) -> None:
        birth = self.anchor - datetime.timedelta(days=family.age_days)
        guardians = [
            self._person(
                Guardian,
                datetime.date(1990 + n, 3 + 4 * n, 11),
                name,
                family,
                phone=f"070-555 {len(self.children):02d} {n}0",
            )
            for n, name in enumerate(family.parents)
        ]
        kind = Custody.Kind.JOINT if len(guardians) > 1 else Custody.Kind.SOLE
        if family.older_sibling:
            older = self._person(
                Child, birth - datetime.timedelta(days=3 * 365 + 40), family.older_sibling, family
            )
            for guardian in guardians:
                Custody.objects.create(child=older, guardian=guardian, kind=kind)
        child = self._person(Child, birth, family.child, family)
        for n, guardian in enumerate(guardians):
            relation = Custody.Relation.MOTHER if n == 0 else Custody.Relation.FATHER
            Custody.objects.create(child=child, guardian=guardian, kind=kind, relation=relation)
        self.children.append(child)
        if family.stage not in ("new", "not_eligible"):
            self.enrol(child, family.stage)

    def _person(self, model, birth: datetime.date, first: str, family: Family, **extra):  # type: ignore[no-untyped-def]
        area = next(name for name, code in data.AREAS["Ekby kommun"] if code == family.postal_code)
        fields = {
            "first_name": first,
            "last_name": family.surname,
            "street_address": f"{data.STREETS[len(self.children) % len(data.STREETS)]} "
            f"{len(self.children) + 3}",
            "postal_code": family.postal_code,
            "city": "Ekby",
            **extra,
        }
        if model is Child:
            fields |= {"birth_date": birth, "bvc_unit": self.bvc, "area": area}
        else:
            fields |= {"email": f"hembesok{len(self.children)}@example.org"}
        return model.objects.create(identity_number=self._number(birth), **fields)

    def _number(self, birth: datetime.date) -> str:
        """A free test-series number for `birth` (the demo families may share birth dates)."""
        start = next(self.serials)
        for step in range(20):
            number = fictional_personnummer(birth, (start + step) % 20)
            if not (
                Child.objects.filter(identity_number=number).exists()
                or Guardian.objects.filter(identity_number=number).exists()
            ):
                return number
        raise RuntimeError(f"no free test number on {birth}")

    # --- What happened ----------------------------------------------------------------------

    def enrol(self, child: Child, stage: str, *, late_every: int = 0) -> None:
        area = self.areas[child.postal_code[:5]]
        guardians = custodial_guardians(child)
        offered = child.birth_date + datetime.timedelta(days=8)
        if stage == "offered":
            offered = self.anchor - datetime.timedelta(days=3)
        answered = offered + datetime.timedelta(days=2)
        enrolment = Enrolment.objects.create(
            child=child,
            programme=self.programme,
            unit=self.bvc,
            area=area,
            rule=area.rule,
            first_time_parents=is_first_born(child),
            offered_at=self.at(offered),
            offered_by=self.nurse,
        )
        if stage == "offered":
            return
        if stage in ("declined", "declined_reason"):
            enrolment.status = Enrolment.Status.DECLINED
            enrolment.decline_reason = (
                "Familjen har redan kontakt med familjebehandlare och vill inte ha fler besök."
                if stage == "declined_reason"
                else ""
            )
        else:
            enrolment.status = Enrolment.Status.ACCEPTED
            enrolment.consent = self._consent(child, guardians, answered)
        enrolment.decided_at = self.at(answered, 11)
        enrolment.decided_by = guardians[0]
        enrolment.decision_recorded_by = self.nurse
        enrolment.save()
        if enrolment.status == Enrolment.Status.ACCEPTED:
            self._visits(enrolment, stage, late_every)
            if stage == "moved":
                self._moved_away(enrolment)
                return
            # The visits were just made.
            last: HomeVisit = enrolment.visits.order_by("-window_end").first()  # type: ignore[assignment]
            if last.window_end < self.anchor:
                # Past the last visit: the programme is over for the family.
                Enrolment.objects.filter(pk=enrolment.pk).update(
                    status=Enrolment.Status.ENDED,
                    ended_at=self.at(last.window_end, 16),
                    end_reason="Alla besök i programmet är gjorda.",
                )

    def _consent(self, child: Child, guardians: list[Guardian], answered: datetime.date):  # type: ignore[no-untyped-def]
        """The family's acceptance is their consent to joint visits with social services."""
        last = self.visits[-1]
        until = last.target_date(child.birth_date) + datetime.timedelta(
            days=last.window_days_after + 30
        )
        consent = consent_record(
            request=self.request,
            child=child,
            purpose=Purpose.HOME_VISITS,
            units=[self.programme.partner_unit],
            valid_from=answered,
            valid_until=until,
        )
        for guardian in guardians:
            consent_give(
                request=self.request,
                consent=consent,
                guardian=guardian,
                method=GuardianConsent.Method.TABLET,
                given_at=self.at(answered, 11),
            )
        return consent

    def _visits(self, enrolment: Enrolment, stage: str, late_every: int) -> None:
        birth = enrolment.child.birth_date
        rows = []
        for pv in self.visits:
            due = pv.target_date(birth)
            rows.append(
                HomeVisit(
                    enrolment=enrolment,
                    programme_visit=pv,
                    due_date=due,
                    window_start=due - datetime.timedelta(days=pv.window_days_before),
                    window_end=due + datetime.timedelta(days=pv.window_days_after),
                )
            )
        HomeVisit.objects.bulk_create(rows)
        notes = []
        for visit in enrolment.visits.select_related("programme_visit").order_by("due_date"):
            number = visit.programme_visit.number
            if visit.window_end >= self.anchor:
                # Not over yet: due now or later. A young family has its next visit booked.
                if stage == "booked" and visit.window_start <= self.anchor:
                    self._booking(visit)
                continue
            if stage == "overdue" and number == 4:
                continue  # missed: the window closed without a visit
            day = visit.due_date - datetime.timedelta(days=2)
            late = (stage == "overdue" and number == 3) or (late_every and number % late_every == 0)
            if late:
                day = visit.window_end + datetime.timedelta(days=6)
            if day >= self.anchor:
                continue
            visit.done_at = self.at(day, 13)
            visit.save(update_fields=["done_at"])
            notes.extend(self._notes(visit, number))
        VisitNote.objects.bulk_create(notes)

    def _notes(self, visit: HomeVisit, number: int) -> list[VisitNote]:
        # Only visits done have notes.
        written: datetime.datetime = visit.done_at + datetime.timedelta(hours=2)  # type: ignore[operator,assignment]
        topics, text = NURSE_NOTES[number % len(NURSE_NOTES)]
        notes = [
            VisitNote(
                visit=visit,
                author=self.nurse,
                unit=self.bvc,
                topics=topics,
                text=text,
                created_at=written,
            )
        ]
        if "family_therapist" in visit.programme_visit.professions:
            topics, text = THERAPIST_NOTES[number % len(THERAPIST_NOTES)]
            notes.append(
                VisitNote(
                    visit=visit,
                    author=self.therapist,
                    unit=self.programme.partner_unit,
                    topics=topics,
                    text=text,
                    created_at=written + datetime.timedelta(minutes=30),
                )
            )
        return notes

    def _moved_away(self, enrolment: Enrolment) -> None:
        """The family moved to another municipality: the BVC ended the programme, and the
        visits not made were cancelled, the next one's booking with them."""
        ended = self.at(self.anchor - datetime.timedelta(days=5), 15)
        reason = "Familjen har flyttat till en annan kommun."
        remaining = enrolment.visits.filter(done_at__isnull=True, cancelled_at__isnull=True)
        VisitBooking.objects.create(
            visit=remaining.order_by("due_date").first(),  # type: ignore[misc]  # some remain
            starts_at=self.at(self.anchor + datetime.timedelta(days=30), 10),
            nurse=self.nurse,
            therapist=self.therapist,
            booked_by=self.nurse,
            cancelled_at=ended,
            cancel_reason=reason,
        )
        remaining.update(cancelled_at=ended)
        Enrolment.objects.filter(pk=enrolment.pk).update(
            status=Enrolment.Status.ENDED, ended_at=ended, end_reason=reason
        )

    def _booking(self, visit: HomeVisit) -> None:
        """A joint visit booked, then moved at the family's request: both bookings kept."""
        first = VisitBooking.objects.create(
            visit=visit,
            starts_at=self.at(self.anchor + datetime.timedelta(days=1), 10),
            nurse=self.nurse,
            therapist=self.therapist,
            booked_by=self.nurse,
            cancelled_at=self.at(self.anchor - datetime.timedelta(days=1), 9),
            cancel_reason="Familjen bad om en annan tid.",
        )
        VisitBooking.objects.filter(pk=first.pk).update(
            booked_at=self.at(self.anchor - datetime.timedelta(days=6), 9)
        )
        live = VisitBooking.objects.create(
            visit=visit,
            starts_at=self.at(self.anchor + datetime.timedelta(days=3), 13),
            nurse=self.nurse,
            therapist=self.therapist,
            booked_by=self.nurse,
        )
        VisitBooking.objects.filter(pk=live.pk).update(
            booked_at=self.at(
                self.anchor - datetime.timedelta(days=1),
                9,
            )
        )
