"""Locust scenarios of `make bench`, chosen by BENCH_MODE (run headless by bench/run.py).

- `insert`: the bare baseline view, one POST per request, as fast as possible.
- `kiosk`: one kiosk submission per request (a prepared, open turn each), as fast as possible.
- `pages`: a BVC nurse's worklist, start page and "To do" page, a team's meeting page, at
  two population sizes (two servers) in turn.
- `mix`: the load test: nurses screening (start a screening, a guardian answers at the
  kiosk), coordinators running meetings (meeting pages, minutes), SIP editing (open a plan,
  save a version) and statistics, with think times.

Users log in through sessions prepared by bench/prepare.py (password and second factor
already done). The server runs as behind the TLS proxy: every request says
X-Forwarded-Proto: https, and the __Host- cookies are sent by hand (a cookie jar would not
send Secure cookies over the loopback's plain HTTP). Every request is recorded (name, start,
duration, outcome) and written to BENCH_EVENTS at the end.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import secrets
import threading
import time
from typing import Any

from forms import forms_of  # bench/forms.py: locust puts the locustfile's folder on the path
from locust import HttpUser, between, constant, events, task
from locust.exception import StopUser

MODE = os.environ.get("BENCH_MODE", "mix")
WORLD: dict[str, Any] = json.loads(open(os.environ["BENCH_WORLD"]).read())  # noqa: SIM115
RECORDS: list[tuple[str, float, float, int, str]] = []
POOL_LOCK = threading.Lock()
KIOSK_POOL = list(WORLD.get("kiosk", []))
INSERT_POOL = int(os.environ.get("BENCH_REQUESTS", str(len(KIOSK_POOL) or 1000)))
QUITTING = threading.Event()
STOPPING = threading.Event()  # the time limit is reached: requests cut now are not errors
CUT: list[str] = []
COUNTERS = {role: itertools.count() for role in ("nurse", "coordinator", "editor", "stats")}
CODE = re.compile(r'class="handover-code">.*?</span>\s*([A-Z0-9-]+)\s*</p>', re.S)


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response, exception, **kw):  # type: ignore[no-untyped-def]
    status = getattr(response, "status_code", 0) or 0
    if STOPPING.is_set() and not status:
        CUT.append(name)
        return
    RECORDS.append(
        (
            name,
            time.time() - response_time / 1000,
            response_time,
            status,
            repr(exception)[:200] if exception else "",
        )
    )


@events.test_stopping.add_listener
def _stopping(environment, **kw):  # type: ignore[no-untyped-def]
    STOPPING.set()


@events.quitting.add_listener
def _dump(environment, **kw):  # type: ignore[no-untyped-def]
    with open(os.environ["BENCH_EVENTS"], "w") as f:
        json.dump(RECORDS, f)


def _pool_empty(environment) -> None:  # type: ignore[no-untyped-def]
    """The fixed number of requests is done: stop the whole run (once)."""
    if not QUITTING.is_set():
        QUITTING.set()
        import gevent

        gevent.spawn_later(0.2, environment.runner.quit)
    raise StopUser()


def _why(response) -> str:  # type: ignore[no-untyped-def]
    """The connection error behind a status 0, if any."""
    error = getattr(response, "error", None)
    return f"({type(error).__name__}: {str(error)[:80]})" if error else ""


# Human pacing in the load test's mix: a professional reads a page for a few seconds before the
# next click and writes for longer before saving; a guardian reads and answers a question in a
# few seconds. (The first load tests used 0.3-1.5 s between clicks: 50 users then send about
# 40 requests per second, a stress test of two cores, not the mix of 50 people.)
READ = (2.0, 8.0)  # seconds on a page before the next one
ANSWER = (2.0, 6.0)  # seconds for a guardian to answer one question on the kiosk
WRITE = (5.0, 15.0)  # seconds of writing before a save


class BenchUser(HttpUser):
    abstract = True
    wait_time = between(3, 10)

    def on_start(self) -> None:
        self.csrf = secrets.token_hex(16)  # 32 characters: Django accepts the unmasked secret
        self.session = ""
        # A user's first click comes after a think time too. Without it, the ten users locust
        # starts each second all click in the same millisecond, a burst no clinic makes: the
        # first seconds' pages then queued behind each other (up to 360 ms), later ones not.
        self.think()

    def _headers(self) -> dict[str, str]:
        host = self.host.split("://", 1)[1].rstrip("/")
        cookies = [f"{WORLD['csrf_cookie']}={self.csrf}"]
        if self.session:
            cookies.append(f"{WORLD['session_cookie']}={self.session}")
        return {
            "X-Forwarded-Proto": "https",
            "Origin": f"https://{host}",
            "Cookie": "; ".join(cookies),
        }

    def _after(self, response) -> None:  # type: ignore[no-untyped-def]
        new = response.cookies.get(WORLD["session_cookie"])
        if new:
            self.session = new
        self.client.cookies.clear()

    def get(self, url: str, name: str, expect: int | tuple[int, ...] = 200):  # type: ignore[no-untyped-def]
        expected = expect if isinstance(expect, tuple) else (expect,)
        with self.client.get(
            url, headers=self._headers(), name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code not in expected:
                response.failure(f"{response.status_code} instead of {expect} {_why(response)}")
            self._after(response)
            return response

    def post(self, url: str, data: Any, name: str, expect: int = 302):  # type: ignore[no-untyped-def]
        if isinstance(data, dict):
            data = list(data.items())
        data = [*data, ("csrfmiddlewaretoken", self.csrf)]
        with self.client.post(
            url,
            data=data,
            headers=self._headers(),
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code} instead of {expect} {_why(response)}")
            self._after(response)
            return response

    def think(self, pace: tuple[float, float] = READ) -> None:
        if MODE == "mix":
            time.sleep(random.uniform(*pace))  # noqa: S311


def _persona(role: str, people: list[dict[str, Any]]) -> tuple[dict[str, Any], int, int]:
    """The n-th locust user of a role plays people[n % len], as its (n // len)-th copy."""
    n = next(COUNTERS[role])
    return people[n % len(people)], n // len(people), (len(people) and 1)


# --- Throughput: baseline and kiosk submission ----------------------------------------------


class InsertUser(BenchUser):
    wait_time = constant(0)
    fixed_count = 0

    @task
    def insert(self) -> None:
        global INSERT_POOL
        with POOL_LOCK:
            if INSERT_POOL <= 0:
                _pool_empty(self.environment)
            INSERT_POOL -= 1
        self.post("/bench/insert/", {"payload": "x" * 40}, "baseline insert", expect=200)


class KioskSubmitUser(BenchUser):
    wait_time = constant(0)

    @task
    def submit(self) -> None:
        with POOL_LOCK:
            if not KIOSK_POOL:
                _pool_empty(self.environment)
            turn = KIOSK_POOL.pop()
        self.session = turn["session"]
        self.post("/surfplatta/skicka/", {"key": turn["key"]}, "kiosk submit", expect=302)


# --- Pages at two population sizes ----------------------------------------------------------


MEASURED = {"worklist", "child_list", "todo", "meeting"}


class PagesUser(BenchUser):
    """The same person's pages at every population size in turn (WORLD["sizes"]: a server
    and the same kind of nurse or coordinator each), so that both sizes are measured at the
    same moments. Which size comes first alternates. Named "<page>@<size's position>"."""

    wait_time = constant(0)

    def on_start(self) -> None:
        super().on_start()
        n = next(COUNTERS["nurse"])
        self.people = [
            [*size["nurses"][:1], *size["coordinators"][:1]][n % 2] for size in WORLD["sizes"]
        ]
        self.turn = itertools.count()

    @task
    def pages(self) -> None:
        for name in self.people[0]["pages"]:
            if name not in MEASURED or any(name not in p["pages"] for p in self.people):
                continue
            order = list(enumerate(zip(self.people, WORLD["sizes"], strict=True)))
            if next(self.turn) % 2:
                order.reverse()
            for position, (person, size) in order:
                self.session = person["session"]
                self.get(size["url"] + person["pages"][name], f"{name}@{position}")

    def _headers(self) -> dict[str, str]:
        # A new connection for each request: a kept-alive one stays with the worker that
        # took it, and whether the two users share a worker (and its interpreter lock) at
        # one size and not at the other decided more than the population did.
        return {**super()._headers(), "Connection": "close"}


# --- The load test ---------------------------------------------------------------------------


class Nurse(BenchUser):
    """A BVC nurse: looks at the worklist and the start page, starts a screening and hands the
    tablet to the guardian, who answers every question and sends the answers."""

    weight = 20

    def on_start(self) -> None:
        super().on_start()
        people = [n for n in WORLD["nurses"] if n["children"]] or WORLD["nurses"]
        self.person, copy, _ = _persona("nurse", people)
        copies = max(1, -(-20 // len(people)))
        children = self.person["children"]
        self.children = children[copy::copies] or children
        random.shuffle(self.children)

    @task(3)
    def look(self) -> None:
        self.session = self.person["session"]
        for name in ("worklist", "child_list", "todo"):
            if name in self.person["pages"]:
                self.get(self.person["pages"][name], name)
                self.think()

    @task(2)
    def screening(self) -> None:
        if not self.children:
            return
        child = self.children.pop()
        self.session = self.person["session"]
        url = f"/barnsakert/barn/{child}/starta/"
        page = self.get(url, "screening start (form)")
        if page.status_code != 200:
            return
        form = next(
            (f for f in forms_of(page.text) if any(k == "occasion" for k, _ in f["fields"])),
            None,
        )
        if form is None:
            return
        guardians = [c for c in form["choices"] if c[0] == "guardians"][:1]
        self.think()
        done = self.post(url, form["fields"] + guardians, "screening start", expect=200)
        codes = CODE.findall(done.text)
        if not codes:
            done.failure("no code shown")
            return
        self.kiosk(codes[0])

    def kiosk(self, code: str) -> None:
        # The tablet: a fresh browser, no login.
        self.session = ""
        self.get("/surfplatta/", "kiosk code page")
        self.think()
        self.post("/surfplatta/", {"code": code}, "kiosk code")
        self.get("/surfplatta/sprak/", "kiosk language page")
        self.post("/surfplatta/sprak/", {"language": "sv"}, "kiosk language")
        n = 1
        while n < 60:
            page = self.get(f"/surfplatta/fraga/{n}/", "kiosk question page", expect=(200, 302))
            if page.status_code != 200:
                break
            options = [c[1] for f in forms_of(page.text) for c in f["choices"] if c[0] == "option"]
            self.think(ANSWER)
            self.post(f"/surfplatta/fraga/{n}/", {"option": random.choice(options)}, "kiosk answer")  # noqa: S311
            n += 1
        review = self.get("/surfplatta/svar/", "kiosk review")
        key = re.search(r'name="key" value="([^"]+)"', review.text)
        if not key:
            review.failure("no idempotency key")
            return
        self.post("/surfplatta/skicka/", {"key": key.group(1)}, "kiosk submit")
        self.get("/surfplatta/tack/", "kiosk thanks")


class Coordinator(BenchUser):
    """A team coordinator running a meeting: the meeting page, then the minutes of an item."""

    weight = 15

    def on_start(self) -> None:
        super().on_start()
        self.person, copy, _ = _persona("coordinator", WORLD["coordinators"])
        copies = max(1, -(-15 // len(WORLD["coordinators"])))
        self.items = self.person["items"][copy::copies]
        self.session = self.person["session"]

    @task(2)
    def meeting(self) -> None:
        self.get(self.person["pages"]["meeting"], "meeting")
        self.think()
        self.get(self.person["pages"]["team"], "team")

    @task(1)
    def minutes(self) -> None:
        if not self.items:
            self.get(self.person["pages"]["meeting"], "meeting")
            return
        item = random.choice(self.items)  # noqa: S311
        page = self.get(self.person["pages"]["meeting"], "meeting")
        form = next(
            (f for f in forms_of(page.text) if f["action"].endswith(f"/punkt/{item}/protokoll/")),
            None,
        )
        if form is None:
            page.failure(f"no minutes form for item {item}")
            return
        fields = [
            [k, v + f" Noted {time.time():.0f}."] if k.endswith("-discussion") else [k, v]
            for k, v in form["fields"]
        ]
        self.think(WRITE)
        self.post(form["action"], fields, "minutes save")


class PlanEditor(BenchUser):
    """A SIP participant: opens the plan and saves a new version."""

    weight = 10

    def on_start(self) -> None:
        super().on_start()
        self.person, copy, _ = _persona("editor", WORLD["editors"])
        self.writes = copy == 0  # one writer per plan: no one else edits it meanwhile
        self.session = self.person["session"]

    @task(2)
    def read(self) -> None:
        self.get(self.person["pages"]["plan_list"], "plan list")
        self.think()
        self.get(self.person["pages"]["plan"], "plan")

    @task(1)
    def save(self) -> None:
        if not self.writes:
            self.get(self.person["pages"]["plan"], "plan")
            return
        page = self.get(self.person["edit"], "plan editor")
        form = next(
            (f for f in forms_of(page.text) if any(k == "plan-based_on" for k, _ in f["fields"])),
            None,
        )
        if form is None:
            page.failure("no plan form")
            return
        fields, changed = [], False
        for k, v in form["fields"]:
            if not changed and k.startswith("goals-") and k.endswith("-text") and v:
                v, changed = v.rstrip(".") + f" (reviewed {time.time():.0f}).", True
            fields.append([k, v])
        self.think(WRITE)
        self.post(self.person["edit"], fields, "plan save")


class Statistician(BenchUser):
    """Statistics pages: the BVC's screening statistics and the team's referral lead times."""

    weight = 5

    def on_start(self) -> None:
        super().on_start()
        people = [
            (n["session"], n["pages"]["screening_stats"])
            for n in WORLD["nurses"]
            if "screening_stats" in n["pages"]
        ] + [
            (c["session"], c["pages"]["lead_times"])
            for c in WORLD["coordinators"]
            if "lead_times" in c["pages"]
        ]
        self.session, self.url = people[next(COUNTERS["stats"]) % len(people)]

    @task
    def statistics(self) -> None:
        self.get(self.url, "statistics")


_CLASSES = {
    "insert": [InsertUser],
    "kiosk": [KioskSubmitUser],
    "pages": [PagesUser],
    "mix": [Nurse, Coordinator, PlanEditor, Statistician],
}
for _name, _cls in list(globals().items()):
    if isinstance(_cls, type) and issubclass(_cls, BenchUser) and _cls is not BenchUser:
        _cls.abstract = _cls not in _CLASSES[MODE]
