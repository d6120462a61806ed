"""Concurrent edits: 8, 16 and 32 editors x 200 edits each on one SIP and on one meeting
agenda item's minutes, through the services, against a real database of this run's own.

    .venv/bin/python bench/concurrent_edits.py --db postgres|sqlite [--editors 8,16,32]
        [--edits 200] [--out bench/results/concurrent-edits-<db>.json] [--no-baseline]

Each editor is a thread with its own database connection. An edit reads the current state,
changes it and saves it based on the version it read (`plans.services.plan_save` with
`based_on`, `meetings.services.minutes_save` with `version`); a refused conflict is counted
and the next edit starts from a fresh read. Plan edits write their marker as the new
version's needs; minutes edits append their marker line to the discussion they read.

Verified afterwards (0 lost updates):
* plan: every acknowledged save is its own version (number = the version it was based on + 1,
  numbers unique and contiguous, the stored needs are the editor's marker);
* minutes: the final text holds every acknowledged edit's line, the version counter equals
  1 + the acknowledged saves.
Baseline (same load, minutes only): read, append, plain `save()`; the share of acknowledged
lines missing from the final text is the lost-update rate optimistic locking prevents.

PostgreSQL: a database `samverkan_crash_edits_<pid>` on the server of DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards. SQLite: a temp file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import urllib.parse
from importlib import import_module
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def _with_database(url: str, name: str) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path=f"/{name}"))


def _admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(statement)


def setup_django(db: str, workdir: Path, *, fast_schema: bool = False) -> tuple[str, Any]:
    """Point Django at a fresh database of this run; returns its label and a cleanup."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="samverkan.settings",
        SECRET_KEY="bench-" + "x" * 50,
        DEBUG="0",
        SECURE_TLS="0",
        SAMVERKAN_DEMO="1",
    )
    os.environ.pop("SAMVERKAN_TESTING", None)
    cleanup: Any = lambda: None  # noqa: E731
    if db == "postgres":
        server = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("DATABASE_URL")
        if not server or not server.startswith(("postgres", "pgsql")):
            server = DEFAULT_SERVER
        name = f"samverkan_crash_edits_{os.getpid()}"
        _admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _admin(server, f"CREATE DATABASE {name}")
        os.environ["DATABASE_URL"] = _with_database(server, name)

        def cleanup() -> None:
            from django.db import connections

            connections.close_all()
            _admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

        label = name
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(workdir / "edits.sqlite3")
        label = os.environ["SQLITE_PATH"]
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command

    # The bench's fictional editors never log in: no need for Argon2's deliberate slowness.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if fast_schema:  # tables straight from the models (no migrations, no triggers): quick tests
        settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
        call_command("migrate", verbosity=0, interactive=False, run_syncdb=True)
        # ...and the functions the code calls (the access log's appends on PostgreSQL).
        from django.db import connection

        audit_0008 = import_module("audit.migrations.0008_hash_scheme_and_head_link")
        with connection.schema_editor() as editor:
            audit_0008.create_links(apps, editor)
    else:
        call_command("migrate", verbosity=0, interactive=False)
    return label, cleanup


def _run_threads(count: int, work: Any) -> float:
    from django.db import connection

    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def body(n: int) -> None:
        try:
            start.wait()
            work(n)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(n,)) for n in range(count)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} editors failed; first: {errors[0]!r}") from errors[0]
    return time.perf_counter() - began


def plan_round(world: dict[str, Any], editors: int, edits: int) -> dict[str, Any]:
    from django.db import OperationalError

    from demo.management.commands.bench_world import request_as
    from directory.models import Organisation, Professional
    from plans import services
    from plans.models import Plan, PlanVersion

    acknowledged: list[tuple[int, int, str]] = []
    refused, busy = [0], [0]
    lock = threading.Lock()
    municipality = Organisation.objects.get(pk=world["municipality"])

    def work(n: int) -> None:
        user = Professional.objects.get(pk=world["editors"][n % len(world["editors"])])
        request = request_as(user)
        for j in range(edits):
            plan = Plan.objects.get(pk=world["plan"])  # the editor (re)reads the plan
            based_on = plan.current_number
            marker = f"editor {n} edit {j} on version {based_on}"
            content = services.PlanContent(
                needs=marker,
                overall_responsibility=municipality,
                coordinator=user,
                next_follow_up=plan.next_follow_up,
                goals=["Barnet sover hela natten"],
            )
            try:
                version = services.plan_save(
                    request=request, plan=plan, based_on=based_on, content=content
                )
            except services.PlanConflict:
                with lock:
                    refused[0] += 1
                continue
            except OperationalError:  # SQLite: waited out the busy timeout; not saved
                with lock:
                    busy[0] += 1
                continue
            with lock:
                acknowledged.append((based_on, version.number, marker))

    seconds = _run_threads(editors, work)
    plan = Plan.objects.get(pk=world["plan"])
    stored = dict(PlanVersion.objects.filter(plan=plan).values_list("number", "needs"))
    numbers = sorted(number for _based, number, _marker in acknowledged)
    lost = [
        (based, number, marker)
        for based, number, marker in acknowledged
        if number != based + 1 or stored.get(number) != marker
    ]
    return {
        "object": "plan",
        "editors": editors,
        "edits_per_editor": edits,
        "seconds": round(seconds, 2),
        "acknowledged": len(acknowledged),
        "refused_conflicts": refused[0],
        "refused_database_busy": busy[0],
        "lost_updates": len(lost),
        "versions_stored": len(stored),
        "versions_unique_and_contiguous": numbers == list(range(2, 2 + len(acknowledged))),
        "final_version": plan.current_number,
        "ok": not lost
        and numbers == list(range(2, 2 + len(acknowledged)))
        and plan.current_number == 1 + len(acknowledged)
        and len(stored) == 1 + len(acknowledged),
    }


def minutes_round(
    world: dict[str, Any], editors: int, edits: int, *, optimistic: bool = True
) -> dict[str, Any]:
    from django.db import OperationalError

    from demo.management.commands.bench_world import request_as
    from directory.models import Professional
    from meetings import services
    from meetings.models import AgendaItem

    acknowledged: list[str] = []
    refused, busy = [0], [0]
    lock = threading.Lock()
    start_version = AgendaItem.objects.get(pk=world["item"]).version

    def work(n: int) -> None:
        user = Professional.objects.get(pk=world["editors"][n % len(world["editors"])])
        request = request_as(user)
        for j in range(edits):
            item = AgendaItem.objects.select_related("meeting__team", "concern").get(
                pk=world["item"]
            )
            line = f"editor {n} edit {j}"
            text = f"{item.discussion}\n{line}" if item.discussion else line
            if optimistic:
                try:
                    services.minutes_save(
                        request=request,
                        item=item,
                        version=item.version,
                        discussion=text,
                        decisions="",
                        themes=[],
                        contact_person=None,
                    )
                except services.StaleEdit:
                    with lock:
                        refused[0] += 1
                    continue
                except OperationalError:  # SQLite: waited out the busy timeout; not saved
                    with lock:
                        busy[0] += 1
                    continue
            else:
                item.discussion = text
                try:
                    item.save(update_fields=["discussion"])  # last write wins
                except OperationalError:
                    with lock:
                        busy[0] += 1
                    continue
            with lock:
                acknowledged.append(line)

    seconds = _run_threads(editors, work)
    item = AgendaItem.objects.get(pk=world["item"])
    present = set(item.discussion.splitlines())
    lost = [line for line in acknowledged if line not in present]
    result = {
        "object": "minutes" if optimistic else "minutes, plain save() (baseline)",
        "editors": editors,
        "edits_per_editor": edits,
        "seconds": round(seconds, 2),
        "acknowledged": len(acknowledged),
        "refused_conflicts": refused[0],
        "refused_database_busy": busy[0],
        "lost_updates": len(lost),
        "lost_share": round(len(lost) / len(acknowledged), 3) if acknowledged else 0.0,
        "final_version": item.version,
    }
    if optimistic:
        result["ok"] = not lost and item.version == start_version + len(acknowledged)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], required=True)
    parser.add_argument("--editors", default="8,16,32")
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--out")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--fast-schema", action="store_true", help="tables from the models, no migrations"
    )
    args = parser.parse_args(argv)
    out = Path(args.out or PROJECT_DIR / "bench" / "results" / f"concurrent-edits-{args.db}.json")
    counts = [int(n) for n in args.editors.split(",")]
    with tempfile.TemporaryDirectory(prefix="samverkan-edits-") as tmp:
        label, cleanup = setup_django(args.db, Path(tmp), fast_schema=args.fast_schema)
        try:
            from django.db import connection

            from demo.management.commands.bench_world import build_edit_world

            rounds = []
            for editors in counts:
                world = build_edit_world(editors=editors, tag=f"_{editors}")
                for run in (plan_round, minutes_round):
                    result = run(world, editors, args.edits)
                    rounds.append(result)
                    print(json.dumps(result), flush=True)
                if not args.no_baseline:
                    base = build_edit_world(editors=editors, tag=f"_{editors}_plain")
                    result = minutes_round(base, editors, args.edits, optimistic=False)
                    rounds.append(result)
                    print(json.dumps(result), flush=True)
            report = {
                "bench": "concurrent_edits",
                "database": args.db,
                "vendor": connection.vendor,
                "database_name": label,
                "rounds": rounds,
                "lost_updates": sum(r["lost_updates"] for r in rounds if "ok" in r),
                "baseline_lost_share": [
                    r["lost_share"] for r in rounds if "ok" not in r and "lost_share" in r
                ],
                "pass": all(r["ok"] for r in rounds if "ok" in r),
            }
        finally:
            cleanup()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"{'PASS' if report['pass'] else 'FAIL'}: {out}")
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
