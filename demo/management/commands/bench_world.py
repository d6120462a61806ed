"""`manage.py bench_world --children N --out world.json`: the minimal world of the crash bench
(bench/crash.py), on a fresh database of its own.

One region with a BVC and a preschool, a nurse with a confirmed second factor, N children with
two guardians in joint custody each, a published two-item questionnaire, one started
screening per child with a one-time code per guardian, and one consent per child recorded but
not yet given. The JSON names what the load generator needs: the codes (only here, in clear),
the questionnaire's items, the consents and their guardians, and logged-in sessions of the
nurse (password and second factor done, as after the real login).

`build_edit_world()` is the world of bench/concurrent_edits.py and its quick test: a SIP in
force with a first version, and a team meeting's agenda item, both editable by the nurse.
Fictional data only; refused unless demo data is allowed (SAMVERKAN_DEMO).
"""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

BENCH_PASSWORD = "bench horse battery staple"  # noqa: S105 - fictional bench users only


def request_as(user: Any) -> Any:
    request = RequestFactory().post("/")
    request.user = user
    request.request_id = "bench"  # type: ignore[attr-defined]  # as our middleware sets it
    return request


def _cast(tag: str = "") -> dict[str, Any]:
    from directory.models import Organisation, Sector
    from tests import factories

    region = factories.organisation("Region Bänkland", Organisation.Kind.REGION)
    home = factories.organisation("Ekby kommun")
    bvc = factories.unit(f"BVC Bänk{tag}", Sector.CHILD_HEALTH, home)
    bvc.organisation = region
    bvc.save(update_fields=["organisation"])
    preschool = factories.unit(f"Förskolan Bänken{tag}", Sector.PRESCHOOL, home)
    nurse = factories.professional(f"bench_nurse{tag}", units=[bvc])
    return {"region": region, "home": home, "bvc": bvc, "preschool": preschool, "nurse": nurse}


def logged_in_session(user: Any) -> str:
    """A session as after password and second factor; its key is the session cookie."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.middleware import AUTHENTICATED_AT
    from samverkan.middleware import REFRESHED_AT

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user, confirmed=True).persistent_id
    session[AUTHENTICATED_AT] = time.time()
    session[REFRESHED_AT] = int(time.time())  # as the login's last response leaves it
    session.create()
    return str(session.session_key)


def build_crash_world(children: int, sessions: int) -> dict[str, Any]:
    from consent.policy import Purpose
    from demo.identity_numbers import fictional_personnummer
    from directory.models import Sector
    from families.models import Child
    from screening.models import KioskSession, Screening
    from screening.services import _new_code, code_hash, occasions_for
    from tests import factories

    with transaction.atomic():
        cast = _cast()
        version = factories.questionnaire(items=2, languages=("sv", "en"))
        occasion = occasions_for(cast["region"])[1]
    codes: list[dict[str, Any]] = []
    consents: list[dict[str, Any]] = []
    expires = timezone.now() + datetime.timedelta(days=2)
    for start in range(0, children, 200):
        with transaction.atomic():
            for n in range(start, min(children, start + 200)):
                # 20 serial numbers a day (the test series): a new birth day every 20 children.
                birth = timezone.localdate() - datetime.timedelta(days=60 + n // 20)
                child = Child.objects.create(
                    identity_number=fictional_personnummer(birth, n % 20),
                    first_name="Bänk",
                    last_name=f"Barnsson{n}",
                    birth_date=birth,
                    bvc_unit=cast["bvc"],
                    school_unit=cast["preschool"],
                    street_address="Hemliga gatan 1",
                    postal_code="99130",
                    city="Ekby",
                )
                guardians = [factories.guardian_of(child), factories.guardian_of(child)]
                screening = Screening.objects.create(
                    child=child,
                    unit=cast["bvc"],
                    occasion=occasion,
                    version=version,
                    started_by=cast["nurse"],
                )
                for guardian in guardians:
                    code = _new_code()
                    KioskSession.objects.create(
                        screening=screening,
                        guardian=guardian,
                        code_hash=code_hash(code),
                        expires_at=expires,
                    )
                    codes.append({"code": code, "guardian": guardian.pk})
                consent = factories.consent(
                    child,
                    cast["nurse"],
                    Purpose.INFORMATION_EXCHANGE,
                    state="none",
                    sectors=[Sector.PRESCHOOL],
                )
                consents.append({"consent": consent.pk, "guardians": [g.pk for g in guardians]})
    return {
        "items": [
            {"number": item.number, "options": list(item.options)}
            for item in version.items.order_by("number")
        ],
        "codes": codes,
        "consents": consents,
        "sessions": [logged_in_session(cast["nurse"]) for _ in range(sessions)],
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
    }


def build_edit_world(editors: int = 1, tag: str = "") -> dict[str, Any]:
    """A SIP with its first version and an agenda item of an open team meeting; `editors`
    professionals of the BVC who may edit both (plan participants, team members)."""
    from cases.models import Concern
    from consent.policy import Purpose
    from directory.models import Team
    from meetings import services as meetings
    from meetings.models import Meeting
    from plans import services as plans
    from plans.models import PlanParticipant
    from plans.services import PlanContent
    from tests import factories

    with transaction.atomic():
        cast = _cast(tag)
        nurse, bvc = cast["nurse"], cast["bvc"]
        people = [nurse] + [
            factories.professional(f"bench_editor{tag}_{n}", units=[bvc]) for n in range(1, editors)
        ]
        child = factories.child(bvc=bvc, school=cast["preschool"])
        factories.guardian_of(child)
        factories.guardian_of(child)
        factories.consent(child, nurse, Purpose.SIP, sectors=["social_services"])
        plan = plans.plan_start(
            request=request_as(nurse),
            child=child,
            requested_by="Vårdnadshavarna",
            requested_on=timezone.localdate(),
        )
        for person in people[1:]:
            plans.plan_participant_add(
                request=request_as(nurse),
                plan=plan,
                kind=PlanParticipant.Kind.PROFESSIONAL,
                professional=person,
                unit=bvc,
                role="BVC-sjuksköterska",
            )
        plans.plan_save(
            request=request_as(nurse),
            plan=plan,
            based_on=0,
            content=PlanContent(
                needs="Version 1",
                overall_responsibility=cast["home"],
                coordinator=nurse,
                next_follow_up=timezone.localdate() + datetime.timedelta(days=42),
                goals=["Barnet sover hela natten"],
                interventions=[],
                actions=[],
            ),
        )
        team = factories.team(
            f"BHT Bänk{tag}", Team.Model.BHT_PLUS, nurse, [(p, bvc) for p in people]
        )
        starts = timezone.now().replace(second=0, microsecond=0) + datetime.timedelta(days=7)
        meeting = Meeting.objects.create(
            team=team, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1)
        )
        concern = Concern.objects.create(
            created_by=nurse,
            unit=bvc,
            sector=bvc.sector,
            setting="Vid 18-månadersbesöket",
            age_band="1-3",
            worry="Sover dåligt enligt föräldrarna.",
        )
        item = meetings.item_nominate(request=request_as(nurse), meeting=meeting, concern=concern)
    return {
        "plan": plan.pk,
        "item": item.pk,
        "editors": [p.pk for p in people],
        "municipality": cast["home"].pk,
    }


class Command(BaseCommand):
    help = "Build the crash bench's minimal world on an empty database (fictional data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--children", type=int, default=3000)
        parser.add_argument("--sessions", type=int, default=8)
        parser.add_argument("--out", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_ALLOWED:
            raise CommandError("Bench data is fictional demo data: set SAMVERKAN_DEMO=1.")
        world = build_crash_world(options["children"], options["sessions"])
        Path(options["out"]).write_text(json.dumps(world), encoding="utf-8")
        self.stdout.write(
            f"{len(world['codes'])} codes, {len(world['consents'])} consents -> {options['out']}"
        )
