"""Six months of fictional team work: meetings with minutes, cases (anonymous and identified),
consents in every state, referrals with realistic lead times, reports of concern.

Written straight to the models with past timestamps (the services always stamp "now");
nothing here reads or shows a child, so nothing is written to the access log.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from cases.models import Action, AgeBand, Concern, Referral, ReportOfConcern, Theme
from consent.models import Consent, ConsentScope, GuardianConsent
from consent.policy import Purpose
from consent.services import consent_form_text, custodial_guardians
from directory.models import Professional, Service, Team, TeamMember, Unit
from families.models import Child
from meetings.models import AgendaItem, Attendance, Meeting
from meetings.services import meetings_generate

from . import data

# Typical waits from referral to the family's first contact, in days.
LEAD_TIMES = {
    "child_psychologist": (20, 60),
    "speech_therapist": (25, 70),
    "family_therapy": (5, 20),
    "budget_debt": (7, 25),
    "family_counselling": (10, 30),
    "open_preschool": (2, 10),
    "parenting_support": (7, 30),
}


def demo_services_load() -> None:
    units = {unit.name: unit for unit in Unit.objects.all()}
    Unit.objects.filter(name__in=data.INTAKE_UNITS).update(receives_reports_of_concern=True)
    for name, kind, provider, municipality, domains, languages, ages in data.SERVICES:
        Service.objects.get_or_create(
            name=name,
            provider=units[provider],
            defaults={
                "kind": kind,
                "municipality": _municipality(municipality),
                "phone": "0999-200 00",
                "email": "kontakt@example.org",
                "description": f"{name} för familjer i {municipality}.",
                "domains": domains,
                "languages": languages,
                "min_age_years": ages[0],
                "max_age_years": ages[1],
                "target_group": "Föräldrar och barn",
                "opening_hours": "Mån–fre 8–16",
                "street_address": "Storgatan 1",
                "postal_code": "99130",
                "city": municipality.split()[0],
            },
        )
    Team.objects.filter(working_model=Team.Model.HLT).update(consent_before_identified=True)


def _municipality(name: str):  # type: ignore[no-untyped-def]
    from directory.models import Organisation

    return Organisation.objects.get(name=name)


def demo_history_load(
    anchor: datetime.date, *, on_meeting: Callable[[], object] | None = None
) -> int:
    """Returns the number of past meetings given minutes (0 when already loaded)."""
    if AgendaItem.objects.exists():
        return 0
    rng = random.Random("samverkan-demo-history")  # noqa: S311 - fictional data
    themes = {theme.code: theme for theme in Theme.objects.all()}
    services = {service.kind: service for service in Service.objects.all()}
    done = 0
    for team in Team.objects.order_by("pk"):
        members = list(TeamMember.objects.filter(team=team).select_related("professional", "unit"))
        meetings = meetings_generate(
            team=team, start=anchor - relativedelta(months=6), end=anchor + relativedelta(months=6)
        )
        past = [m for m in meetings if m.starts_at.date() < anchor]
        for meeting in past:
            with transaction.atomic():
                _meeting_history(rng, team, meeting, members, themes, services)
            done += 1
            if on_meeting is not None:
                on_meeting()
        upcoming = next((m for m in meetings if m.starts_at.date() >= anchor), None)
        if upcoming is not None:
            with transaction.atomic():
                _nominations(rng, team, upcoming, members, themes)
    with transaction.atomic():
        _consents_in_every_state(rng, anchor)
        _reports_of_concern(anchor)
    return done


def _children_of(unit: Unit) -> list[Child]:
    return list(Child.objects.filter(bvc_unit=unit) | Child.objects.filter(school_unit=unit))


def _concern(
    rng: random.Random,
    team: Team,
    member: TeamMember,
    when: datetime.datetime,
    themes: dict[str, Theme],
    child: Child | None,
) -> Concern:
    worry, theme = rng.choice(data.WORRIES)
    concern = Concern.objects.create(
        created_by=member.professional,
        unit=member.unit,
        created_at=when,
        sector=member.unit.sector,
        setting=rng.choice(data.SETTINGS),
        age_band=AgeBand.of(child.birth_date) if child else rng.choice(AgeBand.values[:4]),
        worry=worry,
        team=team,
        child=child,
        contact_person=member.professional,
        identified_at=when if child else None,
        identified_by=member.professional if child else None,
    )
    concern.themes.set([themes[theme]])
    return concern


def _team_consent(
    child: Child,
    team: Team,
    member: TeamMember,
    given: datetime.datetime,
    *,
    sectors: list[str],
    months: int = 12,
) -> Consent:
    start = timezone.localdate(given)
    end = start + relativedelta(months=months)
    consent = Consent.objects.create(
        child=child,
        purpose=Purpose.TEAM_DISCUSSION,
        team=team,
        valid_from=start,
        valid_until=end,
        recorded_by=member.professional,
        recorded_unit=member.unit,
        child_age_years=max(0, (start - child.birth_date).days // 365),
        form_language="sv",
        form_text=consent_form_text(
            child=child,
            purpose=Purpose.TEAM_DISCUSSION,
            team=team,
            service=None,
            sectors=sectors,
            units=[],
            valid_from=start,
            valid_until=end,
            language="sv",
            contact=member.unit,
        ),
        effective_from=given,
    )
    ConsentScope.objects.bulk_create(
        ConsentScope(consent=consent, sector=s, municipality_id=member.unit.municipality_id)
        for s in sectors
    )
    for guardian in custodial_guardians(child):
        GuardianConsent.objects.create(
            consent=consent,
            guardian=guardian,
            method=GuardianConsent.Method.SIGNED_FORM,
            given_at=given,
            recorded_by=member.professional,
        )
    return consent


def _meeting_history(
    rng: random.Random,
    team: Team,
    meeting: Meeting,
    members: list[TeamMember],
    themes: dict[str, Theme],
    services: dict[str, Service],
) -> None:
    sectors = sorted({m.unit.sector for m in members})
    noticers = [m for m in members if _children_of(m.unit)]
    for position in range(rng.randint(3, 5)):
        member = rng.choice(noticers or members)
        noticed = meeting.starts_at - datetime.timedelta(days=rng.randint(3, 20))
        child = None
        if rng.random() < 0.45 and noticers:
            child = rng.choice(_children_of(member.unit))
            if not custodial_guardians(child):
                child = None
        concern = _concern(rng, team, member, noticed, themes, child)
        if child is not None:
            consent = _team_consent(
                child, team, member, noticed + datetime.timedelta(days=1), sectors=sectors
            )
            Concern.objects.filter(pk=concern.pk).update(identifying_consent=consent)
        item = AgendaItem.objects.create(
            meeting=meeting,
            concern=concern,
            nominated_by=member.professional,
            position=position + 1,
            discussion="Teamet diskuterade situationen och möjliga stöd.",
            decisions=rng.choice(data.DECISIONS),
            version=2,
        )
        item.themes.set(concern.themes.all())
        if team.working_model == Team.Model.HLT:
            Concern.objects.filter(pk=concern.pk).update(
                feedback_due=meeting.starts_at.date() + datetime.timedelta(days=7),
                family_contacted_at=meeting.starts_at + datetime.timedelta(days=rng.randint(1, 9)),
            )
        responsible = rng.choice(members).professional
        due = meeting.starts_at.date() + datetime.timedelta(days=rng.randint(7, 40))
        Action.objects.create(
            agenda_item=item,
            concern=concern,
            team=team,
            what=rng.choice(data.DECISIONS),
            responsible=responsible,
            due_date=due,
            created_by=team.coordinator,
            done_at=meeting.starts_at + datetime.timedelta(days=rng.randint(3, 30))
            if rng.random() < 0.7
            else None,
        )
        if child is not None and rng.random() < 0.6:
            _referral(rng, concern, member, meeting, services)
    for member in members:
        Attendance.objects.get_or_create(
            meeting=meeting,
            professional=member.professional,
            defaults={"present": rng.random() < 0.85},
        )
    Meeting.objects.filter(pk=meeting.pk).update(
        closed_at=meeting.ends_at, closed_by=team.coordinator
    )


def _referral(
    rng: random.Random,
    concern: Concern,
    member: TeamMember,
    meeting: Meeting,
    services: dict[str, Service],
) -> None:
    # Only identified concerns are referred: the child is there.
    child: Child = concern.child  # type: ignore[assignment]
    kind = rng.choice([k for k in LEAD_TIMES if k in services])
    service = services[kind]
    sent = meeting.starts_at + datetime.timedelta(days=rng.randint(1, 6))
    start = timezone.localdate(sent)
    consent = Consent.objects.create(
        child=child,
        purpose=Purpose.REFERRAL,
        service=service,
        valid_from=start,
        valid_until=start + relativedelta(months=12),
        recorded_by=member.professional,
        recorded_unit=member.unit,
        child_age_years=0,
        form_language="sv",
        form_text=consent_form_text(
            child=child,
            purpose=Purpose.REFERRAL,
            team=None,
            service=service,
            sectors=[],
            units=[service.provider],
            valid_from=start,
            valid_until=start + relativedelta(months=12),
            language="sv",
        ),
        effective_from=sent,
    )
    ConsentScope.objects.create(consent=consent, unit=service.provider)
    for guardian in custodial_guardians(child):
        GuardianConsent.objects.create(
            consent=consent,
            guardian=guardian,
            given_at=sent,
            method=GuardianConsent.Method.TABLET,
            recorded_by=member.professional,
        )
    low, high = LEAD_TIMES[kind]
    received = sent + datetime.timedelta(days=rng.randint(1, 4))
    first_contact = sent + datetime.timedelta(days=rng.randint(low, high))
    now = timezone.now()
    closed = first_contact + datetime.timedelta(days=rng.randint(20, 80))
    Referral.objects.create(
        concern=concern,
        child=child,
        service=service,
        consent=consent,
        created_by=member.professional,
        unit=member.unit,
        sent_at=sent,
        received_at=received if received < now else None,
        first_contact_at=first_contact if first_contact < now else None,
        closed_at=closed if closed < now else None,
        outcome=Referral.Outcome.COMPLETED if closed < now else "",
        note="Familjen önskar stöd.",
    )


def _nominations(
    rng: random.Random,
    team: Team,
    meeting: Meeting,
    members: list[TeamMember],
    themes: dict[str, Theme],
) -> None:
    for position in range(2):
        member = rng.choice(members)
        concern = _concern(
            rng, team, member, timezone.now() - datetime.timedelta(days=2), themes, None
        )
        AgendaItem.objects.create(
            meeting=meeting,
            concern=concern,
            nominated_by=member.professional,
            position=position + 1,
        )


def _consents_in_every_state(rng: random.Random, anchor: datetime.date) -> None:
    """A few information-exchange consents: waiting for one guardian, withdrawn, expired."""
    nurse_unit = Unit.objects.get(name="BVC Ekby centrum")
    nurse = Professional.objects.get(username="bvc-sjukskoterska")
    children = [
        c
        for c in Child.objects.filter(bvc_unit=nurse_unit).order_by("pk")
        if len(custodial_guardians(c)) == 2
    ][:3]
    for child, state in zip(children, ["one_of_two", "withdrawn", "expired"], strict=False):
        start = anchor - relativedelta(months=14 if state == "expired" else 1)
        end = start + relativedelta(months=12)
        guardians = custodial_guardians(child)
        consent = Consent.objects.create(
            child=child,
            purpose=Purpose.INFORMATION_EXCHANGE,
            valid_from=start,
            valid_until=end,
            recorded_by=nurse,
            recorded_unit=nurse_unit,
            child_age_years=0,
            form_text=consent_form_text(
                child=child,
                purpose=Purpose.INFORMATION_EXCHANGE,
                team=None,
                service=None,
                sectors=["social_services"],
                units=[],
                valid_from=start,
                valid_until=end,
                language="sv",
                contact=nurse_unit,
            ),
        )
        ConsentScope.objects.create(
            consent=consent, sector="social_services", municipality_id=nurse_unit.municipality_id
        )
        given = datetime.datetime.combine(start, datetime.time(10), timezone.get_current_timezone())
        for guardian in guardians[: 1 if state == "one_of_two" else 2]:
            GuardianConsent.objects.create(
                consent=consent,
                guardian=guardian,
                given_at=given,
                method=GuardianConsent.Method.VERBAL,
                witness="Kollega på BVC",
                recorded_by=nurse,
                withdrawn_at=given + datetime.timedelta(days=10)
                if state == "withdrawn" and guardian == guardians[0]
                else None,
            )
        if state != "one_of_two":
            consent.effective_from = given
        if state == "withdrawn":
            consent.withdrawn_at = given + datetime.timedelta(days=10)
            consent.withdrawn_by = guardians[0]
        consent.save()


def _reports_of_concern(anchor: datetime.date) -> None:
    intake = Unit.objects.get(name="Socialtjänsten Ekby, öppenvård")
    teacher_unit = Unit.objects.get(name="Ekbyskolan")
    principal = Professional.objects.get(username="rektor")
    handler = Professional.objects.get(username="socialsekreterare")
    for index, child in enumerate(
        Child.objects.filter(school_unit=teacher_unit).order_by("pk")[:2]
    ):
        sent = timezone.now() - datetime.timedelta(days=20 - index * 15)
        ReportOfConcern.objects.create(
            child=child,
            reporter=principal,
            reporter_unit=teacher_unit,
            to_unit=intake,
            what="Barnet har berättat om bråk hemma och verkar rädd att gå hem.",
            sent_at=sent,
            acknowledged_at=sent + datetime.timedelta(hours=5) if index == 0 else None,
            acknowledged_by=handler if index == 0 else None,
        )
