"""The main flow in a real browser: a BVC nurse logs in and finds one of her children.

Runs against a real server (see conftest.py) on a tablet-sized Chromium page, as a nurse
would on the clinic's iPad: password, second factor from `manage.py demo_totp` (as the
README tells a human), the start page, a search by name, a search by 10-digit identity
number, and the child's page with guardians and custody.
"""

from __future__ import annotations

import datetime
import re
import tempfile
import time
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from demo import data
from demo.services import demo_plan
from families.models import Custody

from .conftest import BrowserProblems, DemoServer

USERNAME = "bvc-sjukskoterska"
HER_UNIT = "BVC Ekby centrum"
TWELVE_DIGITS = re.compile(r"^(\d{8})-(\d{4})$")
LOGIN_PATH = "/konto/logga-in/"
SECOND_FACTOR_PATH = "/konto/tvastegsverifiering/"


def sv(text: str) -> str:
    """`text` as the server shows it in Swedish (the same catalogues, read here)."""
    with translation.override("sv"):
        return translation.gettext(text)


def path_is(path: str) -> re.Pattern[str]:
    return re.compile(rf"^http://127\.0\.0\.1:\d+{re.escape(path)}(\?.*)?$")


def totp_submit(page: Page, demo_server: DemoServer) -> None:
    """Type the current code and send it; one retry if the 30-second code rolled over."""
    token = page.locator("input[name=token]")
    for attempt in range(2):
        code = demo_server.manage("demo_totp", USERNAME, timeout=60).strip()
        assert re.fullmatch(r"\d{6}", code), f"demo_totp printed {code!r}"
        token.fill(code)
        page.locator("form", has=token).locator("button[type=submit]").click()
        page.wait_for_load_state()
        if not path_is(SECOND_FACTOR_PATH).match(page.url):
            return
        if attempt == 0:
            time.sleep(30 - time.time() % 30 + 1.5)  # next step: a used code is refused
    pytest.fail(f"The second factor was refused twice; the page says:\n{page.inner_text('main')}")


def child_list_rows(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("main table tbody tr")


def search(page: Page, text: str) -> None:
    form = page.get_by_role("search")
    form.locator("input[name=q]").fill(text)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def expected_family(identity_number: str):  # type: ignore[no-untyped-def]
    """The demo plan of the child with this 12-digit number (the demo is deterministic).

    load_demo anchors the plan on the day it ran: today, or yesterday around midnight.
    """
    today = datetime.date.today()
    for anchor in (today, today - datetime.timedelta(days=1)):
        for plan in demo_plan(anchor):
            if plan.lookup.get("identity_number") == identity_number:
                return plan
    pytest.fail(f"No demo child with number {identity_number}")


@pytest.mark.browser
def test_bvc_nurse_logs_in_and_finds_a_child_of_her_unit(
    demo_server: DemoServer, tablet: tuple[Page, BrowserProblems]
) -> None:
    page, problems = tablet
    html = page.locator("html")

    # --- Log in: the start page sends her to the password page -------------------------
    page.goto("/")
    expect(page).to_have_url(path_is(LOGIN_PATH))
    expect(html).to_have_attribute("lang", "sv")
    # Django's own Swedish labels on the login form.
    expect(page.get_by_label("Användarnamn")).to_be_visible()
    page.locator("input[name=username]").fill(USERNAME)
    page.locator("input[name=password]").fill(data.DEMO_PASSWORD)
    page.locator("form", has=page.locator("input[name=password]")).locator(
        "button[type=submit]"
    ).click()

    # --- Second factor: the code a human would read from `manage.py demo_totp` ------------
    expect(page).to_have_url(path_is(SECOND_FACTOR_PATH))
    expect(html).to_have_attribute("lang", "sv")
    totp_submit(page, demo_server)

    # --- Start page: her unit and her children ------------------------------------------
    expect(page).to_have_url(path_is("/"))
    expect(html).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_have_text(sv("Children in my units"))
    expect(page.locator(".unit-list")).to_contain_text(HER_UNIT)
    expect(page.locator("header .who")).to_have_text("Malin Ekholm")
    rows = child_list_rows(page)
    expect(rows.first).to_be_visible()

    # The first child on the list with an identity number and no protected identity.
    chosen = None
    for index in range(rows.count()):
        cells = rows.nth(index).locator("td")
        number = cells.nth(1).inner_text().strip()
        if TWELVE_DIGITS.match(number) and rows.nth(index).locator(".tag").count() == 0:
            chosen = rows.nth(index)
            break
    assert chosen is not None, "No unprotected child with an identity number on the first page"
    cells = chosen.locator("td")
    list_name = cells.nth(0).inner_text().strip()  # "Last, First"
    number = cells.nth(1).inner_text().strip()  # YYYYMMDD-NNNN
    assert cells.nth(3).inner_text().strip() == HER_UNIT
    last_name, first_name = (part.strip() for part in list_name.split(",", 1))
    century_date, serial = TWELVE_DIGITS.match(number).groups()  # type: ignore[union-attr]
    ten_digit_number = f"{century_date[2:]}-{serial}"  # YYMMDD-NNNN, as people type it

    # --- Search by name --------------------------------------------------------------------
    search(page, f"{first_name} {last_name}")
    expect(page).to_have_url(re.compile(r"[?&]q="))
    expect(rows.first).to_be_visible()
    for name in rows.locator("td:first-child a").all_inner_texts():
        assert first_name in name and last_name in name, f"{name!r} found by the name search"
    expect(rows.filter(has_text=number)).to_have_count(1)

    # --- Search by 10-digit identity number -----------------------------------------------
    search(page, ten_digit_number)
    expect(page.locator("input[name=q]")).to_have_value(ten_digit_number)
    hit = rows.filter(has_text=number)
    expect(hit).to_have_count(1)
    digits = ten_digit_number.replace("-", "")
    for shown in rows.locator("td:nth-child(2)").all_inner_texts():
        assert digits in shown.replace("-", ""), f"{shown} found by {ten_digit_number}"

    # --- The child's page: name, guardians and custody -------------------------------------
    hit.get_by_role("link", name=list_name).click()
    expect(page).to_have_url(re.compile(r"/barn/\d+/$"))
    expect(html).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{first_name} {last_name}")
    expect(page.locator("main dl.facts").first).to_contain_text(number)
    expect(page.get_by_role("heading", level=2, name=sv("Guardians"))).to_be_visible()

    plan = expected_family(century_date + serial)
    assert (plan.first_name, plan.last_name) == (first_name, last_name)
    kind = Custody.Kind.SOLE if plan.sole_custody else Custody.Kind.JOINT
    with translation.override("sv"):
        custody_label = str(kind.label)
    cards = page.locator("main ul.cards > li")
    expect(cards).to_have_count(len(plan.guardians))
    for guardian in plan.guardians:
        card = cards.filter(
            has=page.get_by_role("heading", level=3, name=f"{guardian.first_name} {last_name}")
        )
        expect(card).to_have_count(1)
        expect(card).to_contain_text(sv("Custody"))
        expect(card).to_contain_text(custody_label)
        expect(card).to_contain_text(guardian.phone)

    # --- Rendered as designed: the stylesheet applied, a screenshot for the record ---------
    assert page.evaluate(
        "() => [...document.styleSheets].some(s => s.href && s.cssRules.length > 0)"
    ), "samverkan.css did not load"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 768, (
        "The child page scrolls sideways on a 768 px tablet"
    )
    shots = Path(tempfile.mkdtemp(prefix="samverkan-browser-"))
    shot = shots / "child-page-tablet.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"\nScreenshot of the child page: {shot}")

    assert problems.all() == [], "\n".join(problems.all())
