"""In-process steps of the bench, run against one database with bench.settings.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=... python -m bench.prepare STEP --out F

Steps:
- `count`: the number of children (to decide whether a population database can be reused).
- `world`: picks the synthetic users (BVC nurses, team coordinators, SIP editors), creates
  Django sessions for them as after the real login with the second factor (as conftest.py's
  `verified_client` does), probes every page they will use, and prepares a pool of open kiosk
  turns for the kiosk-submission ratio. Written as JSON for the load generator.
- `queries`: the number of SQL queries of each measured page (Django's test client).
- `audit`: the cost of one access event (`audit.services.access_log`) inside a transaction.
- `statistics`: regional statistics vs their hand-written SQL twin, when both exist.

Sessions and kiosk codes depend on SECRET_KEY: the app server must run with the same one.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics as stats
import sys
import time
from importlib import import_module
from pathlib import Path
from typing import Any, NamedTuple

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from accounts.middleware import AUTHENTICATED_AT  # noqa: E402
from directory.models import Membership, Professional, Sector, Unit  # noqa: E402
from families.models import Child  # noqa: E402
from samverkan.middleware import REFRESHED_AT  # noqa: E402

BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- Sessions -------------------------------------------------------------------------------


def _store():  # type: ignore[no-untyped-def]
    return import_module(settings.SESSION_ENGINE).SessionStore


def verified_session(user: Professional) -> str:
    """A session key as after password + TOTP: the user's confirmed device id is set."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = _store()()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[AUTHENTICATED_AT] = time.time()
    session[REFRESHED_AT] = int(time.time())  # as the login's last response leaves it
    session.create()
    return session.session_key


def service_request(user: Professional):  # type: ignore[no-untyped-def]
    request = RequestFactory().post("/")
    request.user = user
    request.request_id = "bench"
    return request


def client_for(session_key: str) -> Client:
    client = Client(headers={"X-Forwarded-Proto": "https"})  # as behind the TLS proxy
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return client


# --- Picking the synthetic users ------------------------------------------------------------


def _current(qs):  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    return qs.filter(
        (Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        & (Q(valid_until__isnull=True) | Q(valid_until__gte=today))
    )


def typical_bvc_units(count: int, size: int | None = None) -> list[tuple[Unit, int]]:
    """BVC units around the median size (children registered there): the measured nurse's
    worklist then has the size a nurse typically has, at any population size. With `size`,
    the units closest to that size instead: the pages compared at two population sizes are
    then those of a unit of the same size in a smaller and a larger country (a nurse's pages
    grow with her unit, which the comparison is not about)."""
    units = list(
        Unit.objects.filter(sector=Sector.CHILD_HEALTH)
        .annotate(children=Count("bvc_children", distinct=True))
        .filter(children__gt=0)
        .order_by("children", "pk")
    )
    if not units:
        return []
    if size is not None:
        return [
            (u, u.children) for u in sorted(units, key=lambda u: (abs(u.children - size), u.pk))
        ][:count]
    middle = len(units) // 2
    ordered = sorted(enumerate(units), key=lambda pair: (abs(pair[0] - middle), pair[1].pk))
    return [(unit, unit.children) for _, unit in ordered[:count]]


def nurse_of(unit: Unit) -> Professional | None:
    membership = (
        _current(Membership.objects.filter(unit=unit, professional__is_active=True))
        .select_related("professional")
        .order_by("pk")
        .first()
    )
    return membership.professional if membership else None


def screening_children(unit: Unit, limit: int) -> list[dict[str, Any]]:
    """Children of the unit with a custodial guardian: each can be screened."""
    ids = list(
        Child.objects.filter(bvc_unit=unit, custodies__isnull=False)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    return [{"child": pk} for pk in ids]


def probe(client: Client, url: str) -> bool:
    response = client.get(url)
    return response.status_code == 200


def page_bytes(client: Client, pages: dict[str, str]) -> dict[str, int]:
    """The size of each page that answers 200: what a page shows, to compare two pages by."""
    sizes = {}
    for name, url in pages.items():
        response = client.get(url)
        if response.status_code == 200:
            sizes[name] = len(response.content)
    return sizes


def unlikeness(sizes: dict[str, int], like: dict[str, int]) -> float:
    """How far the pages' sizes are from those of `like`, relative to them."""
    return sum(abs(sizes.get(name, 0) - size) / size for name, size in like.items() if size)


class _NurseCandidate(NamedTuple):
    unit: Unit
    size: int
    nurse: Professional
    key: str
    client: Client
    pages: dict[str, str]
    sizes: dict[str, int]


TYPICAL_AGENDA = 6  # agenda items of the meeting page compared at two sizes


def world(
    kiosk_pool: int,
    nurses: int,
    coordinators: int,
    editors: int,
    closed_meetings: bool = False,
    unit_size: int | None = None,
    meeting_like: dict[str, Any] | None = None,
    nurse_like: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The synthetic users and their pages. `closed_meetings`: coordinators' meeting pages may
    be of closed meetings too (the pages compared at two sizes only read; the load test's
    coordinators write minutes, so they need open ones). `unit_size`: the nurses' units are
    those closest to that many children (`typical_bvc_units`). `meeting_like`, `nurse_like`: the
    coordinators' meetings and the nurses are those most like them (see below)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_baseline (id bigserial PRIMARY KEY,"
            " payload text NOT NULL, created_at timestamptz NOT NULL)"
        )
    out: dict[str, Any] = {
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "children": Child.objects.count(),
        "nurses": [],
        "coordinators": [],
        "editors": [],
        "kiosk": [],
    }
    # BVC nurses: worklist, start page, "To do", statistics; their children to screen. With
    # `nurse_like` (the sizes of the pages of the nurse chosen in the smaller country), the
    # nurse among the ten units closest in size whose pages are most like those: her "To do"
    # then lists as many cases and plans (a page grows with what it shows, which the
    # comparison is not about).
    candidates: list[_NurseCandidate] = []
    for unit, size in typical_bvc_units(10 if nurse_like else nurses * 2, unit_size):
        if not nurse_like and len(candidates) >= nurses:
            break  # nothing to compare: the first ones will do
        nurse = nurse_of(unit)
        if nurse is None or any(c.nurse.pk == nurse.pk for c in candidates):
            continue
        key = verified_session(nurse)
        client = client_for(key)
        pages = {
            "worklist": reverse("screening:worklist"),
            "child_list": reverse("families:child_list"),
            "todo": reverse("cases:worklist"),
            "screening_stats": reverse("screening:stats"),
        }
        sizes = page_bytes(client, pages)
        pages = {name: url for name, url in pages.items() if name in sizes}
        candidates.append(_NurseCandidate(unit, size, nurse, key, client, pages, sizes))
    if nurse_like:
        candidates.sort(key=lambda c: unlikeness(c.sizes, nurse_like))
    for chosen in candidates[:nurses]:
        children = screening_children(chosen.unit, 400)
        start_ok = [
            c
            for c in children[:3]
            if probe(chosen.client, reverse("screening:start", args=[c["child"]]))
        ]
        out["nurses"].append(
            {
                "user": chosen.nurse.pk,
                "username": chosen.nurse.username,
                "unit": chosen.unit.pk,
                "unit_children": chosen.size,
                "session": chosen.key,
                "pages": chosen.pages,
                "page_bytes": chosen.sizes,
                "children": [c["child"] for c in children] if start_ok else [],
            }
        )
    # Team coordinators: the team's open meetings with agenda items, and lead-time statistics.
    from meetings.models import AgendaItem, Meeting

    now = timezone.now()

    # Meeting pages compared at two population sizes must be the same kind of page: one with
    # an identified child on its agenda where there is one (the page then does all its work:
    # the access check and the log batch) and of a typical length (its work grows with the
    # agenda, not with the population). With `meeting_like` (the traits of the meeting chosen
    # in the smaller country), the one most like it: open or closed the same (an open
    # meeting's page holds the forms for the minutes, a closed one's only their text), the
    # same agenda, as many identified children and a team of the same size. So the meetings
    # of all teams are ranked, best first, one per team.
    def rank(m: Meeting) -> tuple[Any, ...]:
        if meeting_like is None:
            return (m.identified == 0, abs(m.length - TYPICAL_AGENDA), abs(m.starts_at - now), m.pk)
        return (
            m.identified == 0,
            (m.closed_at is None) != meeting_like["open"],
            abs(m.length - meeting_like["length"]),
            abs(m.identified - meeting_like["identified"]),
            abs(m.members - meeting_like["members"]),
            abs(m.starts_at - now),
            m.pk,
        )

    ranked = sorted(
        Meeting.objects.filter(team__coordinator__is_active=True)
        .filter(Q() if closed_meetings else Q(closed_at__isnull=True))
        .annotate(
            length=Count("items", distinct=True),
            identified=Count("items", filter=Q(items__concern__child__isnull=False), distinct=True),
            members=Count("team__memberships", distinct=True),
        )
        .filter(length__gt=0)
        .select_related("team__coordinator"),
        key=rank,
    )
    best: dict[int, Meeting] = {}
    for candidate in ranked:
        best.setdefault(candidate.team_id, candidate)
    for meeting in list(best.values())[: coordinators * 3]:
        if len(out["coordinators"]) >= coordinators:
            break
        team = meeting.team
        key = verified_session(team.coordinator)
        client = client_for(key)
        url = reverse("meetings:meeting_detail", args=[meeting.pk])
        if not probe(client, url):
            continue
        items = list(
            AgendaItem.objects.filter(meeting=meeting).order_by("pk").values_list("pk", flat=True)
        )
        pages = {"meeting": url, "team": reverse("meetings:team_detail", args=[team.pk])}
        stats_url = reverse("cases:referral_stats", args=[team.pk])
        if probe(client, stats_url):
            pages["lead_times"] = stats_url
        out["coordinators"].append(
            {
                "user": team.coordinator.pk,
                "username": team.coordinator.username,
                "meeting_like": {
                    "open": meeting.closed_at is None,
                    "length": meeting.length,
                    "identified": meeting.identified,
                    "members": meeting.members,
                },
                "team": team.pk,
                "meeting": meeting.pk,
                "items": items,
                "session": key,
                "pages": pages,
            }
        )
    # Each coordinator saves the minutes of its own items only: no two users edit one item.
    seen: set[int] = set()
    for coordinator in out["coordinators"]:
        coordinator["items"] = [i for i in coordinator["items"] if i not in seen]
        seen.update(coordinator["items"])
    # SIP editors: a participant of an active plan, one plan per editor.
    from plans.models import Plan, PlanParticipant

    used_users: set[int] = set()
    participants = (
        PlanParticipant.objects.filter(
            plan__status=Plan.Status.ACTIVE,
            removed_at__isnull=True,
            professional__isnull=False,
            professional__is_active=True,
        )
        .select_related("professional")
        .order_by("plan_id", "pk")
    )
    used_plans: set[int] = set()
    for participant in participants[: editors * 20]:
        if len(out["editors"]) >= editors:
            break
        if participant.plan_id in used_plans or participant.professional_id in used_users:
            continue
        key = verified_session(participant.professional)
        client = client_for(key)
        detail = reverse("plans:plan_detail", args=[participant.plan_id])
        edit = reverse("plans:plan_edit", args=[participant.plan_id])
        if not (probe(client, detail) and probe(client, edit)):
            continue
        used_plans.add(participant.plan_id)
        used_users.add(participant.professional_id)
        out["editors"].append(
            {
                "user": participant.professional_id,
                "plan": participant.plan_id,
                "session": key,
                "pages": {"plan": detail, "plan_list": reverse("plans:plan_list")},
                "edit": edit,
            }
        )
    if kiosk_pool:
        out["kiosk"] = kiosk_turns(out["nurses"], kiosk_pool)
    return out


def kiosk_turns(nurses: list[dict[str, Any]], count: int) -> list[dict[str, str]]:
    """Open kiosk turns, each as after code entry, language and every answer: what is left
    is the submit itself (code check, validation, idempotency, scoring)."""
    from consent.services import custodial_guardians
    from screening.kiosk_views import KIOSK
    from screening.services import (
        kiosk_session_open,
        occasions_for,
        region_of,
        screening_start,
    )

    turns: list[dict[str, str]] = []
    candidates = [n for n in nurses if n["children"]]
    if not candidates:
        return turns
    store = _store()
    per_nurse = count // len(candidates) + 1
    for nurse_data in candidates:
        nurse = Professional.objects.get(pk=nurse_data["user"])
        request = service_request(nurse)
        children = Child.objects.filter(pk__in=nurse_data["children"][:50]).order_by("pk")
        prepared = []
        for child in children:
            region = region_of(child)
            occasions = occasions_for(region) if region else []
            guardians = custodial_guardians(child)
            if occasions and guardians:
                prepared.append((child, occasions[0], guardians[0]))
        if not prepared:
            continue
        answers: dict[str, str] | None = None
        for i in range(per_nurse):
            if len(turns) >= count:
                return turns
            child, occasion, guardian = prepared[i % len(prepared)]
            screening, codes = screening_start(
                request=request, child=child, occasion=occasion, guardians=[guardian]
            )
            session = kiosk_session_open(code=codes[guardian.pk], client_ip="127.0.0.1")
            if session is None:
                continue
            if answers is None:
                answers = {
                    str(item.number): item.options[i % len(item.options)]
                    for i, item in enumerate(screening.version.items.order_by("number"))
                }
            key = secrets.token_urlsafe(32)
            django_session = store()
            django_session[KIOSK] = {
                "session": session.pk,
                "language": "sv",
                "answers": answers,
                "key": key,
                "version": screening.version_id,
            }
            django_session.create()
            turns.append({"session": django_session.session_key, "key": key})
    return turns


# --- Query counts ---------------------------------------------------------------------------


def query_counts(world_data: dict[str, Any]) -> dict[str, Any]:
    """SQL queries per page for the first nurse and the first coordinator; each page twice
    (the second, warm, count is the one reported)."""
    counts: dict[str, Any] = {}
    for role in ("nurses", "coordinators"):
        for person in world_data[role][:1]:
            client = client_for(person["session"])
            for name, url in person["pages"].items():
                for _ in range(2):
                    with CaptureQueriesContext(connection) as captured:
                        response = client.get(url)
                counts[name] = {
                    "url": url,
                    "status": response.status_code,
                    "queries": len(captured.captured_queries),
                }
    return counts


# --- Audit overhead -------------------------------------------------------------------------


def audit_overhead(rounds: int) -> dict[str, Any]:
    """The cost of one access event, as a service pays it: a transaction that reads a child and
    writes one row, with and without its access event, alternating. Both commit a write (so
    both wait for the same WAL flush); the difference of the medians is the event itself (lock
    on the chain head, hash, insert). Also measured: a read-only transaction with and without
    the event, where the event is the only write and so adds the commit's flush."""
    from audit.models import Action
    from audit.services import access_log
    from consent.policy import Basis, Decision, Purpose

    child, user, unit = None, None, None
    for unit, _size in typical_bvc_units(10):
        user = nurse_of(unit)
        child = Child.objects.filter(bvc_unit=unit).order_by("pk").first()
        if user is not None and child is not None:
            break
    if child is None or user is None:
        raise SystemExit("no BVC unit with both a child and a current member")
    request = service_request(user)
    decision = Decision(allowed=True, basis=Basis.OWN_UNIT, unit=unit)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_baseline (id bigserial PRIMARY KEY,"
            " payload text NOT NULL, created_at timestamptz NOT NULL)"
        )
    timings: dict[str, list[float]] = {
        "write_with_event": [],
        "write_without": [],
        "read_with_event": [],
        "read_without": [],
    }
    for i in range(rounds * 4):
        write, log = i % 4 < 2, i % 2 == 0
        started = time.perf_counter()
        with transaction.atomic():
            read = Child.objects.select_related("bvc_unit").get(pk=child.pk)
            if write:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "INSERT INTO bench_baseline (payload, created_at) VALUES ('a', now())"
                    )
            if log:
                access_log(
                    request=request,
                    action=Action.VIEW_CHILD,
                    purpose=Purpose.CARE,
                    decision=decision,
                    child=read,
                )
        name = f"{'write' if write else 'read'}_{'with_event' if log else 'without'}"
        timings[name].append((time.perf_counter() - started) * 1000)
    p50 = {name: stats.median(values) for name, values in timings.items()}
    return {
        "rounds": rounds,
        "p50_ms": p50,
        "p95_ms": {name: _pct(values, 95) for name, values in timings.items()},
        "overhead_p50_ms": p50["write_with_event"] - p50["write_without"],
        "overhead_read_only_p50_ms": p50["read_with_event"] - p50["read_without"],
    }


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))
    return ordered[index]


# --- Regional statistics --------------------------------------------------------------------


def regional(rounds: int) -> dict[str, Any]:
    """regional_statistics(...) vs regional_statistics_sql(...) from reports/statistics.py,
    for every region in turn (so over the whole population), the last twelve months."""
    try:
        from reports import statistics as report_statistics  # type: ignore[import-not-found]

        orm = report_statistics.regional_statistics
        sql = report_statistics.regional_statistics_sql
    except (ImportError, AttributeError) as error:
        return {"measured": False, "why": f"not measured yet: {error}"}
    from directory.models import Organisation

    regions = list(Organisation.objects.filter(kind=Organisation.Kind.REGION).order_by("pk"))
    end = timezone.localdate()
    start = end - timezone.timedelta(days=365)
    timings: dict[str, list[float]] = {"orm": [], "sql": []}
    per_region: dict[str, dict[int, list[float]]] = {"orm": {}, "sql": {}}
    for round_number in range(rounds + 1):  # the first round only warms up both
        for name, function in (("orm", orm), ("sql", sql)):
            total = 0.0
            for region in regions:
                started = time.perf_counter()
                function(region, start, end)
                took = (time.perf_counter() - started) * 1000
                total += took
                if round_number:
                    per_region[name].setdefault(region.pk, []).append(took)
            if round_number:
                timings[name].append(total)
    # The 1 s limit is for one region's page: the slowest region's median.
    slowest = max((stats.median(t) for t in per_region["orm"].values()), default=0.0)
    by_region = {
        region.name: {
            "orm_ms": round(stats.median(per_region["orm"][region.pk]), 1),
            "sql_ms": round(stats.median(per_region["sql"][region.pk]), 1),
        }
        for region in regions
        if region.pk in per_region["orm"]
    }
    return {
        "measured": True,
        "rounds": rounds,
        "warm_up_rounds": 1,
        "regions": len(regions),
        "period": [start.isoformat(), end.isoformat()],
        "p50_ms": stats.median(timings["orm"]),
        "p50_sql_ms": stats.median(timings["sql"]),
        "max_ms": slowest,  # the slowest region's median
        "per_region_p50": by_region,
        "raw_ms": timings,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["count", "world", "queries", "audit", "statistics"])
    parser.add_argument("--out")
    parser.add_argument("--world")
    parser.add_argument("--kiosk", type=int, default=0)
    parser.add_argument("--nurses", type=int, default=10)
    parser.add_argument("--coordinators", type=int, default=10)
    parser.add_argument("--editors", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--closed-meetings", action="store_true")
    parser.add_argument("--unit-size", type=int, default=None)
    parser.add_argument("--meeting-like", type=json.loads, default=None)
    parser.add_argument("--nurse-like", type=json.loads, default=None)
    args = parser.parse_args()
    if args.step == "count":
        print(Child.objects.count())
        return
    if args.step == "world":
        result = world(
            args.kiosk,
            args.nurses,
            args.coordinators,
            args.editors,
            args.closed_meetings,
            args.unit_size,
            args.meeting_like,
            args.nurse_like,
        )
    elif args.step == "queries":
        result = query_counts(json.loads(Path(args.world).read_text()))
    elif args.step == "audit":
        result = audit_overhead(args.rounds)
    else:
        result = regional(args.rounds)
    Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
