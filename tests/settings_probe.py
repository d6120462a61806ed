"""Run code in a fresh interpreter with a given environment: settings as a deployed process
reads them, not as the test process (with its test settings) has them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
