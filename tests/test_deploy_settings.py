"""Production settings: Django's deploy checks pass with no message, and the project's own
security baseline holds (CSP, session limits, __Host- cookies, HSTS, no-store everywhere).

The settings are read in a subprocess started with the environment a production process has
(no DEBUG, no test flag, a real secret), since the test process itself runs with test settings.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_deny_by_default import PATTERNS, example_path

PROJECT_DIR = Path(__file__).resolve().parents[1]


def production_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SAMVERKAN_TESTING", "SAMVERKAN_DEMO", "SECURE_TLS"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="samverkan.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="samverkan.region.example",
        DEBUG="0",
    )
    return env


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own manage.py with sys.executable
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_deploy_checks_give_no_message_with_production_settings():
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.fixture(scope="module")
def production() -> dict[str, object]:
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({name: getattr(s, name) for name in ["
        "'DEBUG', 'CONTENT_SECURITY_POLICY', 'SESSION_COOKIE_AGE', 'SESSION_IDLE_TIMEOUT', "
        "'SESSION_ABSOLUTE_TIMEOUT', 'SESSION_REFRESH_SECONDS', 'MIDDLEWARE', "
        "'SESSION_COOKIE_NAME', "
        "'CSRF_COOKIE_NAME', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SESSION_COOKIE_HTTPONLY', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', "
        "'SECURE_SSL_REDIRECT', 'X_FRAME_OPTIONS', 'SECURE_CONTENT_TYPE_NOSNIFF']}))"
    )
    result = run("-c", script)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_has_a_strict_content_security_policy(production):
    directives = production["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    # No inline scripts or styles, nothing from elsewhere.
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert not any("unsafe" in value for values in directives.values() for value in values)


def test_production_sessions_end_after_30_idle_minutes_and_12_hours_at_most(production):
    assert production["DEBUG"] is False
    assert production["SESSION_IDLE_TIMEOUT"] <= 30 * 60
    assert production["SESSION_COOKIE_AGE"] <= 30 * 60
    # The idle clock restarts at least once a minute of activity (accounts/tests/test_login.py).
    assert production["SESSION_REFRESH_SECONDS"] <= 60
    assert "samverkan.middleware.idle_session_refresh" in production["MIDDLEWARE"]
    assert production["SESSION_ABSOLUTE_TIMEOUT"] <= 12 * 3600


def test_production_cookies_are_host_only_secure_and_hsts_lasts_a_year(production):
    assert production["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert production["CSRF_COOKIE_NAME"].startswith("__Host-")
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SESSION_COOKIE_HTTPONLY"]
    assert production["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert production["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert production["SECURE_SSL_REDIRECT"]
    assert production["X_FRAME_OPTIONS"] == "DENY"


@pytest.mark.django_db
def test_every_authenticated_response_is_no_store_and_carries_the_csp(cast, as_user):
    """Whatever the page answers (a page, a redirect, a 404 for an unknown id, a 405), a
    shared computer keeps no copy of it, and no page is a 500."""
    client = as_user(cast.nurse)
    for pattern, name, _view in PATTERNS:
        if name in {"accounts:logout"}:
            continue
        response = client.get(example_path(pattern))
        assert response.status_code < 500, (pattern, response.status_code)
        assert "no-store" in response.get("Cache-Control", ""), (pattern, response.status_code)
        assert "object-src 'none'" in response.get("Content-Security-Policy", ""), pattern
