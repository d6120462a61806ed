"""A real Samverkan server for browser tests, on its own throw-away database.

pytest-django's live_server cannot be used: it flushes the database after each test and the
audit log's triggers refuse DELETE/TRUNCATE. So the server runs in a subprocess, exactly as
`make run` would run it, against a database that exists only for this module:

* SQLite: a file in a temporary directory (SQLITE_PATH, no DATABASE_URL);
* PostgreSQL (when the suite itself runs with DATABASE_URL=postgres://...): a database
  `samverkan_browser_<pid>` created on the same server and dropped afterwards.

The test process never touches that database; it only talks to the server over HTTP.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response

PROJECT_DIR = Path(__file__).resolve().parents[2]
MANAGE = str(PROJECT_DIR / "manage.py")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TABLET = {"width": 768, "height": 1024}
TABLET_LANDSCAPE = {"width": 1024, "height": 768}
STARTUP_TIMEOUT = 60.0
QUESTIONNAIRE = str(PROJECT_DIR / "screening" / "questionnaires" / "barnsakert-exempel-v1.toml")


@dataclass
class DemoServer:
    url: str
    env: dict[str, str]
    log_path: Path

    def manage(self, *args: str, timeout: float = 300) -> str:
        """Run `manage.py <args>` against the server's database; returns stdout."""
        return _run([sys.executable, MANAGE, *args], self.env, timeout=timeout)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def _run(cmd: list[str], env: dict[str, str], *, timeout: float) -> str:
    result = subprocess.run(  # noqa: S603 - our own manage.py with sys.executable
        cmd,
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd[1:])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    return result.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _is_postgres(url: str) -> bool:
    return urllib.parse.urlsplit(url).scheme in {"postgres", "postgresql", "pgsql"}


def _with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def _throwaway_postgres(url: str) -> Iterator[str]:
    """Create a fresh database next to the one in `url`; yields its URL, drops it afterwards."""
    import psycopg
    from psycopg import sql

    name = f"samverkan_browser_{os.getpid()}"
    admin_url = _with_database(url, "postgres")

    def connect() -> psycopg.Connection:
        try:
            return psycopg.connect(admin_url, autocommit=True)
        except psycopg.OperationalError:
            # No access to the maintenance database: use the one the suite was given.
            return psycopg.connect(url, autocommit=True)

    def drop(conn: psycopg.Connection) -> None:
        force = sql.SQL(" WITH (FORCE)") if conn.info.server_version >= 130000 else sql.SQL("")
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)) + force)

    with connect() as conn:
        drop(conn)  # left over from a crashed run with the same pid
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(url, name)
    finally:
        with connect() as conn:
            drop(conn)


def _wait_until_healthy(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error: object = None
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"runserver exited with {server.returncode}:\n"
                + log_path.read_text(encoding="utf-8", errors="replace"),
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
                last_error = response.status
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last_error = error
        time.sleep(0.2)
    pytest.fail(
        f"{url}/healthz did not answer 200 within {STARTUP_TIMEOUT:.0f} s ({last_error}):\n"
        + log_path.read_text(encoding="utf-8", errors="replace"),
        pytrace=False,
    )


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """`manage.py runserver` with the demo data loaded, on a database of its own."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (apt chromium)")
    tmp = tmp_path_factory.mktemp("browser-server")
    env = dict(os.environ)
    env.pop("SAMVERKAN_TESTING", None)
    env.update(
        DEBUG="1",  # runserver serves the static files, demo commands are allowed
        SAMVERKAN_DEMO="1",
        SECURE_TLS="0",  # plain http on 127.0.0.1
        DJANGO_SETTINGS_MODULE="samverkan.settings",
        PYTHONUNBUFFERED="1",
    )
    suite_url = os.environ.get("DATABASE_URL", "")
    with contextlib.ExitStack() as stack:
        if suite_url and _is_postgres(suite_url):
            env["DATABASE_URL"] = stack.enter_context(_throwaway_postgres(suite_url))
        else:
            env.pop("DATABASE_URL", None)
            env["SQLITE_PATH"] = str(tmp / "browser.sqlite3")

        _run([sys.executable, MANAGE, "migrate", "--no-input", "-v0"], env, timeout=300)
        _run([sys.executable, MANAGE, "load_demo", "-v0"], env, timeout=600)
        # load_demo does not load a BarnSäkert questionnaire; the kiosk needs a published one.
        # Idempotent: harmless if the demo loader starts loading it one day.
        _run(
            [sys.executable, MANAGE, "load_questionnaire", QUESTIONNAIRE, "--publish", "-v0"],
            env,
            timeout=300,
        )

        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = tmp / "runserver.log"
        log = stack.enter_context(log_path.open("wb"))
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            _wait_until_healthy(url, server, log_path)
            yield DemoServer(url=url, env=env, log_path=log_path)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


@dataclass
class BrowserProblems:
    """What the browser complained about while the test ran."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)
    # Error answers the test provokes on purpose (`expect_status`), and what they caused.
    allowed: set[tuple[int, str]] = field(default_factory=set)
    expected: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return [
            *(f"console error: {e}" for e in self.console_errors),
            *(f"page error: {e}" for e in self.page_errors),
            *(f"CSP violation: {e}" for e in self.csp_violations),
            *(f"HTTP error: {e}" for e in self.failed_responses),
        ]

    def expect_status(self, status: int, url: str) -> None:
        """The test provokes this answer (a refusal, say): it is not a problem, and neither
        is Chromium's console line about it. Anything else stays one."""
        self.allowed.add((status, url))

    def watch(self, page: Page) -> None:
        """Collect the console errors, script errors and error answers of `page`."""
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("response", self._on_response)

    def _on_console(self, msg: ConsoleMessage) -> None:
        if msg.type != "error":
            return
        url = msg.location.get("url", "")
        for status, allowed_url in self.allowed:
            if url == allowed_url and msg.text.startswith(
                f"Failed to load resource: the server responded with a status of {status} "
            ):
                self.expected.append(f"console: {msg.text} ({url})")
                return
        self.console_errors.append(f"{msg.text} ({msg.location})")

    def _on_response(self, response: Response) -> None:
        if response.status < 400:
            return
        text = f"{response.status} {response.request.method} {response.url}"
        if (response.status, response.url) in self.allowed:
            self.expected.append(text)
        else:
            self.failed_responses.append(text)


# Runs in every page before its own scripts; reports CSP violations to the test.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__samverkanCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} on ${event.documentURI}`
    + (event.sourceFile ? ` (${event.sourceFile}:${event.lineNumber})` : "")
  );
});
"""


def _new_context(
    browser: Browser, problems: BrowserProblems, base_url: str, viewport: dict[str, int]
) -> BrowserContext:
    """A context of its own (cookies, session) that reports CSP violations to `problems`."""
    context = browser.new_context(
        viewport=viewport,  # type: ignore[arg-type]
        locale="en-US",  # an English browser still gets the Swedish service
        timezone_id="Europe/Stockholm",
        base_url=base_url,
    )
    context.set_default_timeout(15_000)
    context.expose_binding(
        "__samverkanCspViolation",
        lambda _source, text: problems.csp_violations.append(text),
    )
    context.add_init_script(_CSP_LISTENER)
    return context


@pytest.fixture
def tablet(demo_server: DemoServer):  # type: ignore[no-untyped-def]
    """A Chromium page the size of a portrait tablet, with Swedish as its language."""
    from playwright.sync_api import sync_playwright

    problems = BrowserProblems()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = _new_context(browser, problems, demo_server.url, TABLET)
            page = context.new_page()
            problems.watch(page)
            yield page, problems
            context.close()
        finally:
            browser.close()


# --- Several people, each on a tablet of their own ------------------------------------------

LOGIN_PATH = "/konto/logga-in/"
SECOND_FACTOR_PATH = "/konto/tvastegsverifiering/"


def path_is(path: str) -> re.Pattern[str]:
    """The server's URL for `path`, with any query string."""
    return re.compile(rf"^http://127\.0\.0\.1:\d+{re.escape(path)}(\?.*)?$")


def log_in(page: Page, demo_server: DemoServer, username: str) -> None:
    """Password, then the second factor as a human reads it from `manage.py demo_totp`;
    one retry, in the next 30-second step, if the code rolled over or was already used."""
    from playwright.sync_api import expect

    from demo.data import DEMO_PASSWORD

    page.goto("/")
    expect(page).to_have_url(path_is(LOGIN_PATH))
    password = page.locator("input[name=password]")
    page.locator("input[name=username]").fill(username)
    password.fill(DEMO_PASSWORD)
    page.locator("form", has=password).locator("button[type=submit]").click()
    expect(page).to_have_url(path_is(SECOND_FACTOR_PATH))
    token = page.locator("input[name=token]")
    for attempt in range(2):
        code = demo_server.manage("demo_totp", username, timeout=60).strip()
        assert re.fullmatch(r"\d{6}", code), f"demo_totp printed {code!r}"
        token.fill(code)
        page.locator("form", has=token).locator("button[type=submit]").click()
        page.wait_for_load_state()
        if not path_is(SECOND_FACTOR_PATH).match(page.url):
            expect(page).to_have_url(path_is("/"))
            return
        if attempt == 0:
            # A code is accepted once per 30-second step (django-otp refuses a replayed step,
            # as when the same person logs in twice within one step): wait for the next step,
            # which also outlasts the throttle after a failed code.
            time.sleep(30 - time.time() % 30 + 1.5)
    pytest.fail(
        f"{username}'s second factor was refused twice; the page says:\n{page.inner_text('main')}"
    )


@dataclass
class People:
    """One Chromium; each person logs in on a context of their own (cookies, session), and
    every page reports to the same `problems`."""

    browser: Browser
    demo_server: DemoServer
    problems: BrowserProblems
    contexts: list[BrowserContext] = field(default_factory=list)

    def log_in(self, username: str, *, viewport: dict[str, int] = TABLET) -> Page:
        context = _new_context(self.browser, self.problems, self.demo_server.url, viewport)
        self.contexts.append(context)
        page = context.new_page()
        self.problems.watch(page)
        log_in(page, self.demo_server, username)
        return page


@pytest.fixture
def people(demo_server: DemoServer) -> Iterator[People]:
    """`people.log_in("samordnare")`: a logged-in page of that person's own."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        crowd = People(browser=browser, demo_server=demo_server, problems=BrowserProblems())
        try:
            yield crowd
            for context in crowd.contexts:
                context.close()
        finally:
            browser.close()
