"""Crash safety: kill -9 of app workers, of the gunicorn master and of PostgreSQL while kiosk
submissions and consent changes arrive over HTTP; afterwards nothing acknowledged is lost.

    .venv/bin/python bench/crash.py --db postgres|sqlite [--cycles 5] [--writes 10000]

* PostgreSQL mode runs a private cluster of its own (`bench/cluster.py`: initdb into a temp
  dir as the `postgres` OS user, pg_ctl on a free port from 55432, the production settings of
  `docs/postgresql.conf`, fsync and synchronous_commit on); the machine's shared server is
  never touched. SQLite mode uses a file in a temp dir.
* The world (`manage.py bench_world`): children with two guardians, a started screening with
  a one-time code per guardian, a recorded consent per child, logged-in nurse sessions.
* 2 gunicorn workers on a free loopback port. Client threads drive the kiosk (code, language,
  each question, review, submit; some submits double-tapped) and consent changes (each
  guardian gives, then one withdraws). A write is ACKNOWLEDGED when its final request got
  its 302; it is recorded with its key (kiosk) or request id (consent, = the audit event's).
  A request cut off by a crash is retried as a client would (same cookies, same key).
* Each cycle kills, at random moments: a worker (the master respawns it), the master (its
  workers are killed too, a new master starts), and in PostgreSQL mode the postmaster with
  all its processes (restarted: crash recovery from the WAL).
* Verified afterwards, in a process of its own: every acknowledged write is in the database
  exactly once; no partial records (a response without all its answers, a submitted code
  without its response, a giving or withdrawal without its audit event, a consent given by
  both without being in force); `manage.py verify_audit`; a retried submission with the same
  key gives the same response, other answers under the key SubmissionConflict (422), a key in
  flight SubmissionInFlight (409); both taps of a double tap were answered with the thank-you
  or "being sent" (unless a kill cut one off).

Writes bench/results/crash-<db>.json. Loopback only; bounded by --max-seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cluster import Cluster, free_port, production_settings

PROJECT_DIR = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
CSRF = "BenchCsrfSecretBenchCsrfSecret32"  # 32 letters: an unmasked CSRF secret
TIMEOUT = 20


def log(message: str) -> None:
    print(f"[crash {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(cmd: list[str], env: dict[str, str], timeout: float = 900) -> str:
    result = subprocess.run(  # noqa: S603 - our own tools
        cmd, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


# --- The gunicorn server --------------------------------------------------------------------


class Server:
    def __init__(self, env: dict[str, str], root: Path) -> None:
        self.env = env
        self.port = free_port(18700)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (root / "gunicorn.log").open("ab")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603
            [
                str(VENV_BIN / "gunicorn"),
                "samverkan.wsgi:application",
                "--workers=2",
                f"--bind=127.0.0.1:{self.port}",
                "--reuse-port",
                "--timeout=30",
                "--graceful-timeout=2",
                "--log-level=warning",
            ],
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 60) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not become healthy")

    def workers(self) -> list[int]:
        import psutil

        assert self.proc is not None  # noqa: S101
        with contextlib.suppress(psutil.Error):
            return [p.pid for p in psutil.Process(self.proc.pid).children()]
        return []

    def kill_worker(self) -> None:
        workers = self.workers()
        if workers:
            os.kill(random.choice(workers), signal.SIGKILL)  # noqa: S311

    def kill_master(self) -> None:
        import psutil

        assert self.proc is not None  # noqa: S101
        workers = self.workers()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for pid in workers:  # orphans: they would notice and leave; make it certain
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).wait(timeout=10)
        self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- The clients ----------------------------------------------------------------------------


class Load:
    """Client threads and what they saw; every acknowledged write is in `acks`."""

    def __init__(self, url: str, world: dict[str, Any], stop_at: float) -> None:
        self.url = url
        self.world = world
        self.codes = list(world["codes"])
        self.consents = list(world["consents"])
        random.shuffle(self.codes)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.stop_at = stop_at
        self.acks: list[dict[str, Any]] = []
        self.stats: Counter[str] = Counter()

    def count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.stats[key] += n

    def acknowledged(self) -> int:
        with self.lock:
            return len(self.acks)

    def _session(self, cookies: dict[str, str]) -> Any:
        import requests

        session = requests.Session()
        session.cookies.set(self.world["csrf_cookie"], CSRF, domain="127.0.0.1", path="/")
        for name, value in cookies.items():
            session.cookies.set(name, value, domain="127.0.0.1", path="/")
        return session

    def _request(
        self, session: Any, method: str, path: str, data: dict[str, str] | None = None
    ) -> Any:
        """One request; None when the connection broke (server killed, or down)."""
        import requests

        if data is not None:
            data = {**data, "csrfmiddlewaretoken": CSRF}
        try:
            return session.request(
                method, f"{self.url}{path}", data=data, allow_redirects=False, timeout=TIMEOUT
            )
        except requests.RequestException:
            self.count("connection_errors")
            return None

    def _until(self, session: Any, method: str, path: str, data: dict[str, str] | None, ok: Any):
        """Retry a step (an idempotent one) until `ok(response)` or the run's end."""
        while time.monotonic() < self.stop_at + 120:
            response = self._request(session, method, path, data)
            if response is not None and ok(response):
                return response
            if response is not None:
                self.count(f"retried_{response.status_code}")
            time.sleep(0.3)
        return None

    # The kiosk: one guardian's turn.
    def wait_up(self) -> None:
        """Until the server answers /healthz (it reaches its database): a guardian does not
        type a code into a tablet that shows an error."""
        import requests

        while time.monotonic() < self.stop_at + 120:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            time.sleep(0.3)

    def kiosk_turn(self, code: str) -> None:
        self.wait_up()
        session = self._session({})
        entered = self._request(session, "POST", "/surfplatta/", {"code": code})
        if entered is None or entered.status_code != 302:
            # Opened or not, a code is never entered twice (a used code counts as a guess).
            self.count(f"code_abandoned_{getattr(entered, 'status_code', 'conn')}")
            return
        redirect = lambda r: r.status_code == 302  # noqa: E731
        if self._until(session, "POST", "/surfplatta/sprak/", {"language": "sv"}, redirect) is None:
            return
        answers: dict[str, str] = {}
        for item in self.world["items"]:
            option = random.choice([*item["options"], ""])  # noqa: S311 - "" skips it
            if option:
                answers[str(item["number"])] = option
            data = {"action": "next", "option": option} if option else {"action": "skip"}
            path = f"/surfplatta/fraga/{item['number']}/"
            if self._until(session, "POST", path, data, redirect) is None:
                return
        page = self._until(
            session, "GET", "/surfplatta/svar/", None, lambda r: r.status_code == 200
        )
        match = re.search(r'name="key" value="([^"]+)"', page.text if page is not None else "")
        if match is None:
            self.count("review_without_key")
            return
        key = match.group(1)
        thanks = lambda r: r.status_code == 302 and "/tack/?" in r.headers["Location"]  # noqa: E731
        if random.random() < 0.15:  # noqa: S311 - a double tap: two submits at once
            twin = self._session(dict(session.cookies.items()))
            outcome: list[Any] = []
            other = threading.Thread(
                target=lambda: outcome.append(
                    self._request(twin, "POST", "/surfplatta/skicka/", {"key": key})
                )
            )
            other.start()
            first = self._request(session, "POST", "/surfplatta/skicka/", {"key": key})
            other.join()
            codes = sorted(str(getattr(r, "status_code", "conn")) for r in [first, *outcome])
            self.count("double_taps")
            self.count(f"double_tap_{'+'.join(codes)}")
            if first is not None and thanks(first):
                self._ack("kiosk", code=code, key=key, answers=answers)
                return
        response = self._until(session, "POST", "/surfplatta/skicka/", {"key": key}, thanks)
        if response is None:
            self.count("submit_gave_up")
            return
        self._ack("kiosk", code=code, key=key, answers=answers)

    # Consent changes: each guardian gives, then the first withdraws.
    def consent_changes(self, consent: dict[str, Any], cookie: str) -> None:
        session = self._session({self.world["session_cookie"]: cookie})
        pk = consent["consent"]
        steps = [
            ("give", f"/samtycken/{pk}/ge/", {"guardian": str(g), "method": "tablet"}, g)
            for g in consent["guardians"]
        ]
        first = consent["guardians"][0]
        withdrawal = {"guardian": str(first), "confirm": "on"}
        steps.append(("withdraw", f"/samtycken/{pk}/aterkalla/", withdrawal, first))
        for kind, path, data, guardian in steps:
            retried = False
            while time.monotonic() < self.stop_at + 120:
                response = self._request(session, "POST", path, data)
                if response is not None and response.status_code == 302:
                    # Acknowledged (after a cut-off try, this answer is the one that wrote:
                    # a done step would not be offered again).
                    self._ack(
                        kind,
                        consent=pk,
                        guardian=guardian,
                        request_id=response.headers.get("X-Request-ID", ""),
                        after_retry=retried,
                    )
                    break
                if response is not None and response.status_code == 200:
                    # The form again: after a cut-off try, the step is already done (the
                    # guardian is no longer offered). Not acknowledged; checked as a whole.
                    self.count(f"{kind}_done_by_a_cut_off_try")
                    break
                retried = True
                self.count(f"{kind}_retried_{getattr(response, 'status_code', 'conn')}")
                time.sleep(0.3)

    def _ack(self, kind: str, **record: Any) -> None:
        with self.lock:
            self.acks.append({"kind": kind, "at": time.time(), **record})

    def kiosk_client(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                code = self.codes.pop() if self.codes else None
            if code is None:
                return
            self.kiosk_turn(code["code"])

    def consent_client(self, n: int) -> None:
        cookie = self.world["sessions"][n % len(self.world["sessions"])]
        while not self.stop.is_set():
            with self.lock:
                consent = self.consents.pop() if self.consents else None
            if consent is None:
                return
            self.consent_changes(consent, cookie)


# --- Verification (a process of its own, on the bench database) -----------------------------


def verify(world_path: Path, acks_path: Path) -> dict[str, Any]:
    import django

    sys.path.insert(0, str(PROJECT_DIR))
    django.setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db.models import Count

    from audit.models import AccessEvent, Action
    from consent.models import Consent, GuardianConsent
    from screening.models import KioskSession, Response, SubmissionClaim
    from screening.services import (
        SubmissionConflict,
        SubmissionInFlight,
        _claim,
        _content_hash,
        code_hash,
        response_submit,
    )

    world = json.loads(world_path.read_text())
    acks = json.loads(acks_path.read_text())
    items = len(world["items"])
    problems: list[str] = []
    lost = duplicated = 0

    def note(text: str) -> None:
        if len(problems) < 50:
            problems.append(text)

    # Acknowledged kiosk submissions: there, once, whole, with the answers sent.
    kiosk = [a for a in acks if a["kind"] == "kiosk"]
    for ack in kiosk:
        found = list(Response.objects.filter(idempotency_key=ack["key"]).select_related("session"))
        if not found:
            lost += 1
            note(f"kiosk {ack['key'][:8]} lost")
            continue
        response = found[0]
        stored = {str(a.item.number): a.option for a in response.answers.select_related("item")}
        sent = {str(i["number"]): ack["answers"].get(str(i["number"]), "") for i in world["items"]}
        if stored != sent:
            note(f"kiosk {ack['key'][:8]}: answers {stored} != sent {sent}")
        if response.session.code_hash != code_hash(ack["code"]):
            note(f"kiosk {ack['key'][:8]}: stored under another code")
        if response.content_hash != _content_hash("sv", ack["answers"]):
            note(f"kiosk {ack['key'][:8]}: content hash differs")
        if Response.objects.filter(session=response.session).count() != 1:
            duplicated += 1
    # No partial kiosk records, acknowledged or not.
    partial_responses = (
        Response.objects.annotate(n=Count("answers")).exclude(n=items).count()
    )  # fmt: skip
    submitted_without_response = KioskSession.objects.filter(
        submitted_at__isnull=False, response__isnull=True
    ).count()
    response_without_submitted = Response.objects.filter(session__submitted_at__isnull=True).count()
    claims_left = SubmissionClaim.objects.count()
    claims_with_response = SubmissionClaim.objects.filter(
        idempotency_key__in=Response.objects.values("idempotency_key")
    ).count()

    # Acknowledged consent changes: there, once, with their own audit event.
    consent_acks = [a for a in acks if a["kind"] in ("give", "withdraw")]
    for ack in consent_acks:
        givings = GuardianConsent.objects.filter(
            consent_id=ack["consent"], guardian_id=ack["guardian"]
        )
        action = Action.CONSENT_GIVE if ack["kind"] == "give" else Action.CONSENT_WITHDRAW
        events = AccessEvent.objects.filter(request_id=ack["request_id"], action=action).count()
        if givings.count() != 1:
            lost += givings.count() == 0
            duplicated += givings.count() > 1
            note(f"{ack['kind']} {ack['consent']}/{ack['guardian']}: {givings.count()} givings")
        elif ack["kind"] == "withdraw" and (
            givings.get().withdrawn_at is None
            or Consent.objects.get(pk=ack["consent"]).withdrawn_at is None
        ):
            lost += 1
            note(f"withdraw {ack['consent']} lost")
        if events != 1:
            note(f"{ack['kind']} {ack['consent']}: {events} audit events for its request")
    # No partial consent records: per child (one consent each), givings and withdrawals
    # match their audit events, and a consent given by both is (or was) in force.
    partial_consents = 0
    world_consents = [c["consent"] for c in world["consents"]]
    for consent in Consent.objects.filter(pk__in=world_consents).prefetch_related("givings"):
        givings = list(consent.givings.all())
        give_events = AccessEvent.objects.filter(
            child_id=consent.child_id, action=Action.CONSENT_GIVE, allowed=True
        ).count()
        withdraw_events = AccessEvent.objects.filter(
            child_id=consent.child_id, action=Action.CONSENT_WITHDRAW, allowed=True
        ).count()
        withdrawn = sum(1 for g in givings if g.withdrawn_at is not None)
        bad = (
            give_events != len(givings)
            or withdraw_events != withdrawn
            or (consent.withdrawn_at is not None) != (withdrawn > 0)
            or (len(givings) == 2) != (consent.effective_from is not None)
        )
        if bad:
            partial_consents += 1
            note(
                f"consent {consent.pk}: {len(givings)} givings/{give_events} events, "
                f"{withdrawn} withdrawn/{withdraw_events} events, in force {consent.effective_from}"
            )

    # The audit chain.
    try:
        call_command("verify_audit", verbosity=0)
        audit_ok = True
    except CommandError as error:
        audit_ok = False
        note(f"verify_audit: {error}")

    # Retries after the crashes: same key and answers -> the same response, once; other
    # answers -> conflict (HTTP 422); a key being stored right now -> in flight (HTTP 409).
    sample = random.sample(kiosk, min(200, len(kiosk)))
    same = conflicts = 0
    before = Response.objects.count()
    for ack in sample:
        response = Response.objects.get(idempotency_key=ack["key"])
        answers = {int(k): v for k, v in ack["answers"].items()}
        again = response_submit(
            session=response.session,
            language="sv",
            answers=answers,
            idempotency_key=ack["key"],
        )
        same += again.pk == response.pk
        other = {**answers, 1: "no" if answers.get(1) == "yes" else "yes"}
        try:
            response_submit(
                session=response.session,
                language="sv",
                answers=other,
                idempotency_key=ack["key"],
            )
        except SubmissionConflict:
            conflicts += 1
    in_flight = False
    fresh = KioskSession.objects.filter(opened_at__isnull=True, submitted_at__isnull=True).first()
    if fresh is not None:
        key = "bench-in-flight"
        _claim(key, _content_hash("sv", {"1": "yes"}))
        try:
            response_submit(session=fresh, language="sv", answers={1: "yes"}, idempotency_key=key)
        except SubmissionInFlight:
            in_flight = True
        SubmissionClaim.objects.filter(idempotency_key=key).delete()
    retries = {
        "sampled": len(sample),
        "same_response": same,
        "conflict_422": conflicts,
        "in_flight_409": in_flight,
        "responses_unchanged": Response.objects.count() == before,
    }
    result = {
        "acknowledged": len(acks),
        "acknowledged_kiosk": len(kiosk),
        "acknowledged_consent_changes": len(consent_acks),
        "lost": lost,
        "duplicated": duplicated,
        "partial_responses": partial_responses,
        "submitted_codes_without_response": submitted_without_response,
        "responses_without_submitted_code": response_without_submitted,
        "partial_consents": partial_consents,
        "claims_left_by_crashes": claims_left,
        "claims_with_a_stored_response": claims_with_response,
        "audit_chain_intact": audit_ok,
        "audit_events": AccessEvent.objects.count(),
        "responses_stored": Response.objects.count(),
        "givings_stored": GuardianConsent.objects.count(),
        "retries": retries,
        "problems": problems,
    }
    result["pass"] = (
        lost == 0
        and duplicated == 0
        and partial_responses == 0
        and submitted_without_response == 0
        and response_without_submitted == 0
        and partial_consents == 0
        and claims_with_response == 0
        and audit_ok
        and not problems
        and same == conflicts == len(sample)
        and in_flight
        and retries["responses_unchanged"]
    )
    return result


# --- The run --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"])
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--writes", type=int, default=10000)
    parser.add_argument("--children", type=int, default=0, help="default: enough for --writes")
    parser.add_argument("--kiosk-clients", type=int, default=3)
    parser.add_argument("--consent-clients", type=int, default=6)
    parser.add_argument("--max-seconds", type=float, default=540)
    parser.add_argument("--out")
    parser.add_argument("--verify", nargs=2, metavar=("WORLD", "ACKS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.verify:
        print(json.dumps(verify(Path(args.verify[0]), Path(args.verify[1]))))
        return 0
    if args.db is None:
        parser.error("--db is required")
    out = Path(args.out or PROJECT_DIR / "bench" / "results" / f"crash-{args.db}.json")
    # Each child gives 2 codes and 3 consent changes.
    children = args.children or max(200, args.writes // 3)
    root = Path(tempfile.mkdtemp(prefix="samverkan-crash-"))
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SAMVERKAN_TESTING"}},
        "DJANGO_SETTINGS_MODULE": "samverkan.settings",
        "SECRET_KEY": "crash-bench-" + "k" * 50,
        "DEBUG": "0",
        "SECURE_TLS": "0",
        "SAMVERKAN_DEMO": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "CRITICAL",
        "PYTHONUNBUFFERED": "1",
    }
    cluster: Cluster | None = None
    server: Server | None = None
    started = time.monotonic()
    try:
        if args.db == "postgres":
            cluster = Cluster(root, {**production_settings(), "max_connections": "60"})
            cluster.init()
            cluster.psql("CREATE DATABASE samverkan")
            env["DATABASE_URL"] = cluster.url + "samverkan"
            log(f"private PostgreSQL cluster on port {cluster.port} ({cluster.data})")
        else:
            env["SQLITE_PATH"] = str(root / "crash.sqlite3")
        manage = [sys.executable, str(PROJECT_DIR / "manage.py")]
        run([*manage, "migrate", "--no-input", "-v0"], env)
        world_path = root / "world.json"
        run([*manage, "bench_world", f"--children={children}", f"--out={world_path}"], env)
        world = json.loads(world_path.read_text())
        log(f"world: {len(world['codes'])} codes, {len(world['consents'])} consents")
        server = Server(env, root)
        server.start()
        log(f"gunicorn with 2 workers on {server.url}")

        load = Load(server.url, world, stop_at=time.monotonic() + args.max_seconds)
        threads = [threading.Thread(target=load.kiosk_client) for _ in range(args.kiosk_clients)]
        threads += [
            threading.Thread(target=load.consent_client, args=(n,))
            for n in range(args.consent_clients)
        ]
        for thread in threads:
            thread.start()
        kills: list[dict[str, Any]] = []
        targets = ["worker", "master"] + (["postmaster"] if cluster else [])
        rng = random.Random()  # noqa: S311
        for cycle in range(1, args.cycles + 1):
            for target in targets:
                time.sleep(rng.uniform(3, 9))
                at_acks = load.acknowledged()
                began = time.monotonic()
                if target == "worker":
                    server.kill_worker()
                elif target == "master":
                    server.kill_master()
                else:
                    assert cluster is not None  # noqa: S101
                    cluster.crash()
                    cluster.start()
                kills.append(
                    {
                        "cycle": cycle,
                        "target": target,
                        "acknowledged_before": at_acks,
                        "restart_seconds": round(time.monotonic() - began, 2),
                    }
                )
                log(f"cycle {cycle}: killed {target} (-9) at {at_acks} acknowledged writes")
        while load.acknowledged() < args.writes and time.monotonic() < load.stop_at:
            if not any(t.is_alive() for t in threads):
                break
            time.sleep(1)
        load.stop.set()
        for thread in threads:
            thread.join(timeout=180)
        elapsed = time.monotonic() - started
        log(f"{load.acknowledged()} acknowledged writes; stopping and verifying")
        server.stop()
        acks_path = root / "acks.json"
        acks_path.write_text(json.dumps(load.acks))
        checked = json.loads(
            run([sys.executable, __file__, "--verify", str(world_path), str(acks_path)], env)
            .strip()
            .splitlines()[-1]
        )
        report = {
            "bench": "crash",
            "database": args.db,
            "cycles": args.cycles,
            "kills": kills,
            "kill_count": Counter(k["target"] for k in kills),
            "writes_goal": args.writes,
            "run_seconds": round(elapsed, 1),  # set-up, load and kills (not verification)
            "client_stats": dict(load.stats),
            **checked,
        }
        report["integrity_pass"] = checked["pass"]
        report["writes_goal_met"] = len(load.acks) >= args.writes
        # Both taps of a double tap get the thank-you (302) or "being sent" (409); a tap cut
        # off by a kill (no answer, or 500 while the database restarts) is retried as usual.
        report["double_taps_answered_otherwise"] = {
            name: n
            for name, n in load.stats.items()
            if name.startswith("double_tap_")
            and set(name.removeprefix("double_tap_").split("+")) - {"302", "409", "conn", "500"}
        }
        report["pass"] = bool(
            checked["pass"]
            and len(load.acks) >= args.writes
            and len(kills) >= args.cycles
            and not report["double_taps_answered_otherwise"]
        )
    finally:
        if server is not None:
            server.stop()
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    log(
        f"{'PASS' if report['pass'] else 'FAIL'}: {report['acknowledged']} acknowledged, "
        f"{report['lost']} lost, {report['partial_responses']} partial responses, "
        f"{report['partial_consents']} partial consents, audit intact "
        f"{report['audit_chain_intact']} -> {out}"
    )
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
