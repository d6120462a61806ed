"""Bench-only settings: the production settings plus a bare baseline view (`bench/urls.py`).

Used only by `make bench` (gunicorn and the in-process measurements run with
DJANGO_SETTINGS_MODULE=bench.settings). Nothing in the project imports this module, so the
baseline view is never reachable in production.
"""

from samverkan.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# The in-process measurements (query counts) use Django's test client.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405

# The table the baseline view writes to; created with raw SQL by bench/prepare.py.
BENCH_BASELINE_TABLE = "bench_baseline"
