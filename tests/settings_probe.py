"""Run code in a fresh interpreter with a given environment: settings as a deployed process
reads them, not as the test process (with its test settings) has them."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]


def probe(code: str, *, without: set[str], env: dict[str, str], timeout: float = 120) -> Any:
    """The JSON that `code` prints last, run with this process's environment minus `without`
    plus `env`; the child's error output in the assertion message when it fails."""
    environ = {key: value for key, value in os.environ.items() if key not in without}
    environ.update(env)
    result = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_on_suite_database(args: list[str], out: Path, timeout: float = 180) -> tuple[str, Any]:
    """Run one of our scripts (`python` arguments) against a fresh database of the suite's own
    kind, `--db=postgres` or `--db=sqlite` by DATABASE_URL, with a deployed process's settings.
    The kind, and the JSON the script wrote to `out`; its output in the assertion if it failed."""
    url = os.environ.get("DATABASE_URL", "")
    db = "postgres" if url.startswith(("postgres", "pgsql")) else "sqlite"
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, *args, f"--db={db}", f"--out={out}"],
        cwd=PROJECT_DIR,
        env={k: v for k, v in os.environ.items() if k != "SAMVERKAN_TESTING"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert out.exists() and result.returncode == 0, result.stdout + result.stderr
    return db, json.loads(out.read_text(encoding="utf-8"))


def script_on_a_fresh_database(work: Callable[[], Any], *, fast_schema: bool) -> None:
    """The script side of `run_on_suite_database`: set Django up on a fresh database of the
    kind `--db` names (`fast_schema`: tables straight from the models, without migrations and
    what they add), run `work` and write what it returns as JSON to `--out`."""
    from bench.concurrent_edits import setup_django

    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["postgres", "sqlite"], required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _label, cleanup = setup_django(args.db, Path(tmp), fast_schema=fast_schema)
        try:
            found = work()
        finally:
            cleanup()
    args.out.write_text(json.dumps(found), encoding="utf-8")
