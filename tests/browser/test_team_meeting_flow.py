"""The BHT Plus flow in real browsers, each person on a tablet of their own.

1. The BVC nurse records an anonymous concern for BHT Plus Ekby and nominates it to the
   team's next meeting.
2. The coordinator opens that meeting: the item shows the age band and the concern, nothing
   more; she writes the discussion into the minutes.
3. The nurse records the guardians' consent to team discussion for a child of her unit with
   two guardians in joint custody, one guardian at a time (the consent page names the one
   still missing, then shows it in force), and links the anonymous case to that child.
4. The family therapist (social services, covered by the consent) now sees the child's name
   on the meeting page; a BVC nurse of another municipality gets a 404 for the meeting and
   for the child.
5. The nurse records a referral consent for "Barnpsykolog" and sends the referral.
6. The coordinator gives the family therapist an action, closes the meeting, and finds the
   action among the open actions of the team's next meeting.

Every person has a browser context (cookies, session) of their own; all pages report to one
collector of console errors, CSP violations and error answers (conftest.py).
"""

from __future__ import annotations

import datetime
import re
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Locator, Page, expect

from cases.models import AgeBand
from consent.models import Consent, GuardianConsent
from consent.policy import Basis, Purpose
from directory.models import Sector
from families.models import Custody

from .conftest import TABLET_LANDSCAPE, DemoServer, People, path_is

NURSE = "bvc-sjukskoterska"
THERAPIST = "familjebehandlare"
COORDINATOR = "samordnare"
OUTSIDER = "bvc-sjostad"
NURSE_UNIT = "BVC Ekby centrum"
TEAM = "BHT Plus Ekby"
THERAPIST_NAME = "Amir Haddad"
SERVICE = "Barnpsykolog"
SERVICE_LABEL = "Barnpsykolog (Barnpsykologmottagningen Sjöland)"

AGE_BAND = AgeBand.PRESCHOOL
# No names, no numbers: the service would stop the form with an identity warning.
SETTING = "BVC-besök"
WORRY = (
    "Barnet sover oroligt och vaknar många gånger varje natt. "
    "Föräldrarna är mycket trötta och ber om stöd."
)
DISCUSSION = "Teamet diskuterade sömnen. Öppna förskolan har en sömnträff för föräldrar."
ACTION = "Erbjuda familjen stödsamtal om sömn och rutiner"
WITNESS = "Undersköterska på BVC Ekby centrum"

TWELVE_DIGITS = re.compile(r"^\d{8}-\d{4}$")
CHILD_CANDIDATES = 12  # child pages opened at most while looking for joint custody


def sv(text: str) -> str:
    """`text` as the server shows it in Swedish (the same catalogues, read here)."""
    with translation.override("sv"):
        return translation.gettext(text)


def label(choice: object) -> str:
    """A model choice's label as the Swedish UI shows it."""
    with translation.override("sv"):
        return str(choice.label)  # type: ignore[attr-defined]


def messages(page: Page) -> Locator:
    return page.locator("main .messages")


def number_in(url: str, pattern: str) -> int:
    match = re.search(pattern, url)
    assert match, f"{pattern} not in {url}"
    return int(match.group(1))


def open_team_meeting(page: Page) -> str:
    """Teams and meetings → the team's card → its next meeting. Returns the meeting's path."""
    page.locator("nav.main-nav").get_by_role(
        "link", name=sv("Teams and meetings"), exact=True
    ).click()
    expect(page).to_have_url(path_is("/moten/"))
    card = page.locator("li.team-card").filter(has=page.get_by_role("heading", level=2, name=TEAM))
    link = card.locator("ul.meeting-links a").first
    href = link.get_attribute("href")
    assert href and re.fullmatch(r"/moten/\d+/", href), f"meeting link {href!r}"
    link.click()
    expect(page).to_have_url(path_is(href))
    expect(page.get_by_role("heading", level=1)).to_contain_text(TEAM)
    return href


def agenda_item(page: Page, item_pk: int) -> Locator:
    return page.locator(f"article#item-{item_pk}")


def facts(item: Locator) -> dict[str, str]:
    """The case facts of an agenda item, term → text."""
    facts = item.locator("section.case dl.facts")
    terms = [t.strip() for t in facts.locator("dt").all_inner_texts()]
    values = [v.strip() for v in facts.locator("dd").all_inner_texts()]
    return dict(zip(terms, values, strict=True))


def give_consent(page: Page, guardian: str, *, method: str, witness: str = "") -> None:
    """On the give page: one guardian gives the consent, and how."""
    expect(page).to_have_url(re.compile(r"/samtycken/\d+/ge/$"))
    expect(page.locator(".notice.missing")).to_contain_text(guardian)
    page.get_by_role("radio", name=guardian, exact=True).check()
    page.locator(f"input[name=method][value={method}]").check()
    if witness:
        page.locator("input[name=witness]").fill(witness)
    page.get_by_role("button", name=sv("Record the guardian's consent")).click()
    expect(messages(page)).to_contain_text(
        sv("%(name)s's consent has been recorded.") % {"name": guardian}
    )


def consent_card(page: Page, consent_pk: int) -> Locator:
    return page.locator(f"li.consent-card#samtycke-{consent_pk}")


def find_child_with_joint_custody(page: Page) -> tuple[str, str, list[str]]:
    """The first unprotected child of her own unit, in the concern's age band, whose page
    shows two guardians in joint custody. Returns (full name, identity number, guardians);
    the child's page is left open."""
    joint = label(Custody.Kind.JOINT)
    rows = page.locator("main table tbody tr")
    opened = 0
    while True:
        expect(rows.first).to_be_visible()
        candidates = []
        for index in range(rows.count()):
            row = rows.nth(index)
            cells = [c.strip() for c in row.locator("td").all_inner_texts()]
            name, number, born, bvc = cells[0], cells[1], cells[2], cells[3]
            if row.locator(".tag").count() or bvc != NURSE_UNIT or not TWELVE_DIGITS.match(number):
                continue
            if AgeBand.of(datetime.date.fromisoformat(born)) != AGE_BAND:
                continue
            candidates.append((name, number))
        list_url = page.url
        for name, number in candidates:
            if opened >= CHILD_CANDIDATES:
                break
            opened += 1
            page.locator("main table tbody").get_by_role("link", name=name, exact=True).click()
            expect(page).to_have_url(re.compile(r"/barn/\d+/$"))
            cards = page.locator("main ul.cards > li")
            custodies = [
                card.locator("dl.facts dd").first.inner_text().strip() for card in cards.all()
            ]
            if len(custodies) == 2 and all(c == joint for c in custodies):
                guardians = [h.strip() for h in cards.locator("h3").all_inner_texts()]
                full_name = page.get_by_role("heading", level=1).inner_text().strip()
                last, first = (part.strip() for part in name.split(",", 1))
                assert full_name == f"{first} {last}"
                return full_name, number, guardians
            page.goto(list_url)
        next_page = page.locator("nav.pagination a[rel=next]")
        if opened >= CHILD_CANDIDATES or next_page.count() == 0:
            pytest.fail(
                f"No child of {NURSE_UNIT} aged {AGE_BAND.label} with two guardians in joint "
                f"custody among the {opened} child pages opened"
            )
        next_page.click()


@pytest.mark.browser
def test_bht_plus_case_from_anonymous_concern_to_follow_up(
    demo_server: DemoServer, people: People
) -> None:
    problems = people.problems
    today = timezone.localdate()  # the server's day (Europe/Stockholm), as its pages show it

    # === 1. The nurse: an anonymous concern, nominated to the team's next meeting =========
    nurse = people.log_in(NURSE)
    expect(nurse.locator("header .who")).to_have_text("Malin Ekholm")
    nurse.locator("nav.main-nav").get_by_role(
        "link", name=sv("New anonymous concern"), exact=True
    ).click()
    expect(nurse).to_have_url(path_is("/arenden/ny/"))
    expect(nurse.get_by_role("heading", level=1)).to_have_text(sv("Record an anonymous concern"))
    # An anonymous concern has no field that could hold an identity.
    for field in ("name", "first_name", "last_name", "identity_number", "birth_date", "child"):
        expect(nurse.locator(f"main form [name={field}]")).to_have_count(0)
    expect(nurse.locator("select[name=unit] option:checked")).to_have_text(NURSE_UNIT)
    nurse.locator("select[name=age_band]").select_option(AGE_BAND.value)
    nurse.locator("input[name=setting]").fill(SETTING)
    nurse.locator("textarea[name=worry]").fill(WORRY)
    nurse.get_by_role("checkbox", name="Sömn", exact=True).check()
    nurse.locator("select[name=team]").select_option(label=TEAM)
    nurse.get_by_role("button", name=sv("Record the concern")).click()
    expect(nurse).to_have_url(re.compile(r"/arenden/\d+/$"))
    concern_pk = number_in(nurse.url, r"/arenden/(\d+)/$")
    concern_path = f"/arenden/{concern_pk}/"
    expect(messages(nurse)).to_contain_text(sv("The concern has been recorded."))
    expect(nurse.locator("#identity-title")).to_have_text(sv("Anonymous case"))
    expect(nurse.locator("main .worry")).to_contain_text(WORRY)

    meeting_path = open_team_meeting(nurse)
    nurse.get_by_role("link", name=sv("Nominate a case"), exact=True).click()
    expect(nurse).to_have_url(path_is(f"{meeting_path}nominera/"))
    case_choice = nurse.locator("select[name=concern]")
    # The choice describes her case without a name: number, date, age band, where, worry.
    # (The date is not compared: the label prints it in UTC, see the report.)
    expect(case_choice.locator(f"option[value='{concern_pk}']")).to_have_text(
        re.compile(
            rf"^#{concern_pk} · \d{{4}}-\d{{2}}-\d{{2}} · {re.escape(label(AGE_BAND))} · "
            rf"{re.escape(label(Sector.CHILD_HEALTH))} – {re.escape(SETTING)} · "
            rf"{re.escape(WORRY[:40])}"
        )
    )
    case_choice.select_option(str(concern_pk))
    nurse.get_by_role("button", name=sv("Put it on the agenda")).click()
    expect(nurse).to_have_url(re.compile(rf"{re.escape(meeting_path)}#item-\d+$"))
    item_pk = number_in(nurse.url, r"#item-(\d+)$")
    expect(messages(nurse)).to_contain_text(sv("The case is on the agenda."))
    expect(agenda_item(nurse, item_pk).locator("h3")).to_contain_text(
        sv("Case #%(pk)s") % {"pk": concern_pk}
    )

    # === 2. The coordinator opens the meeting: age band and concern only; minutes =========
    coordinator = people.log_in(COORDINATOR, viewport=TABLET_LANDSCAPE)
    assert open_team_meeting(coordinator) == meeting_path
    item = agenda_item(coordinator, item_pk)
    expect(item).to_be_visible()
    shown = facts(item)
    assert list(shown) == [sv("Age band"), sv("Noticed in"), sv("The concern")], shown
    assert shown[sv("Age band")] == label(AGE_BAND)
    assert shown[sv("Noticed in")] == f"{label(Sector.CHILD_HEALTH)} – {SETTING}"
    assert shown[sv("The concern")] == WORRY
    discussion = item.locator(f"textarea[name='minutes-{item_pk}-discussion']")
    discussion.fill(DISCUSSION)
    item.get_by_role("button", name=sv("Save the minutes")).click()
    expect(coordinator).to_have_url(re.compile(rf"{re.escape(meeting_path)}#item-{item_pk}$"))
    expect(messages(coordinator)).to_contain_text(sv("The minutes have been saved."))
    expect(
        agenda_item(coordinator, item_pk).locator(f"textarea[name='minutes-{item_pk}-discussion']")
    ).to_have_value(DISCUSSION)

    # === 3. The nurse: team-discussion consent from both guardians; the case identified ===
    nurse.locator("nav.main-nav").get_by_role("link", name=sv("Children"), exact=True).click()
    expect(nurse).to_have_url(path_is("/"))
    child_name, child_number, guardians = find_child_with_joint_custody(nurse)
    child_path = re.sub(r"^http://[^/]+", "", nurse.url)
    child_pk = number_in(child_path, r"^/barn/(\d+)/$")
    first_guardian, second_guardian = guardians

    nurse.get_by_role("link", name=sv("Consents"), exact=True).click()
    consents_path = f"/samtycken/barn/{child_pk}/"
    expect(nurse).to_have_url(path_is(consents_path))
    nurse.get_by_role("link", name=sv("Record a new consent"), exact=True).click()
    expect(nurse).to_have_url(path_is(f"{consents_path}nytt/"))
    nurse.locator("select[name=purpose]").select_option(Purpose.TEAM_DISCUSSION.value)
    nurse.locator("select[name=team]").select_option(label=TEAM)
    for sector in (Sector.SOCIAL_SERVICES, Sector.PRESCHOOL):
        nurse.locator(f"input[name=sectors][value={sector.value}]").check()
    nurse.get_by_role("button", name=sv("Record the consent")).click()
    expect(nurse).to_have_url(re.compile(r"/samtycken/\d+/ge/$"))
    team_consent_pk = number_in(nurse.url, r"/samtycken/(\d+)/ge/$")

    # The first guardian confirms it on the tablet.
    give_consent(nurse, first_guardian, method="tablet")
    expect(messages(nurse)).to_contain_text(
        sv("Still missing: %(names)s.") % {"names": second_guardian}
    )
    # The consent page: waiting, and names the guardian still missing.
    nurse.locator("main").get_by_role(
        "link", name=re.compile(re.escape(sv("Consents")))
    ).first.click()
    expect(nurse).to_have_url(path_is(consents_path))
    card = consent_card(nurse, team_consent_pk)
    expect(card.locator("h2")).to_contain_text(TEAM)
    expect(card.locator("h2 .state")).to_have_text(label(Consent.State.PENDING))
    expect(card.locator("dd.missing")).to_have_text(second_guardian)
    expect(card).to_contain_text(f"{first_guardian} – {label(GuardianConsent.Method.TABLET)}")
    # A sector reaches its units in the recording unit's municipality only, and says so.
    for sector in (Sector.SOCIAL_SERVICES, Sector.PRESCHOOL):
        expect(card).to_contain_text(
            sv("%(sector)s in %(municipality)s")
            % {"sector": label(sector), "municipality": "Ekby kommun"}
        )

    # The second guardian says yes in the room, with a colleague as witness.
    card.get_by_role("link", name=sv("Record a guardian's consent"), exact=True).click()
    give_consent(nurse, second_guardian, method="verbal", witness=WITNESS)
    expect(nurse).to_have_url(path_is(consents_path))
    expect(messages(nurse)).to_contain_text(
        sv("Every guardian has given it: the consent is in force.")
    )
    card = consent_card(nurse, team_consent_pk)
    expect(card.locator("h2 .state")).to_have_text(label(Consent.State.EFFECTIVE))
    expect(card.locator("dd.missing")).to_have_count(0)
    expect(card).to_contain_text(second_guardian)
    expect(card).to_contain_text(WITNESS)

    # Link the anonymous case to the child: To do → my cases → the case → identify.
    nurse.locator("nav.main-nav").get_by_role("link", name=sv("To do"), exact=True).click()
    nurse.locator(f"section[aria-labelledby=cases-title] a[href='{concern_path}']").click()
    expect(nurse).to_have_url(path_is(concern_path))
    nurse.get_by_role(
        "link", name=sv("Link the case to the child (needs the guardians' consent)")
    ).click()
    expect(nurse).to_have_url(path_is(f"{concern_path}identifiera/"))
    search = nurse.get_by_role("search")
    search.locator("input[name=q]").fill(child_number)
    search.locator("button[type=submit]").click()
    results = nurse.locator("main ul.results li")
    expect(results).to_have_count(1)
    results.get_by_role("link").click()
    expect(nurse.locator("#chosen-title")).to_have_text(child_name)
    nurse.locator(f"input[name=consent][value='{team_consent_pk}']").check()
    nurse.get_by_role("button", name=sv("Link the case to the child")).click()
    expect(nurse).to_have_url(path_is(concern_path))
    expect(messages(nurse)).to_contain_text(sv("The case is now linked to the child."))
    expect(nurse.locator("#identity-title")).to_have_text(child_name)

    # On the agenda the item is identified now: the nurse sees whom it is about.
    open_team_meeting(nurse)
    shown = facts(agenda_item(nurse, item_pk))
    assert shown.get(sv("Child")) == child_name, shown
    assert shown.get(sv("Identity number")) == child_number, shown

    # === 4. The family therapist sees the child; the outsider sees nothing =================
    therapist = people.log_in(THERAPIST)
    assert open_team_meeting(therapist) == meeting_path
    item = agenda_item(therapist, item_pk)
    shown = facts(item)
    assert shown.get(sv("Child")) == child_name, shown
    assert shown.get(sv("Identity number")) == child_number, shown
    assert shown[sv("The concern")] == WORRY
    expect(item.locator("section.case p.muted")).to_contain_text(label(Basis.CONSENT))

    outsider = people.log_in(OUTSIDER)
    expect(outsider.locator("header .who")).to_have_text("Johan Lund")
    # runserver runs with DEBUG=1: its technical 404 page has no icon, Chromium asks for one.
    problems.expect_status(404, f"{demo_server.url}/favicon.ico")
    for path in (meeting_path, child_path):
        problems.expect_status(404, f"{demo_server.url}{path}")
        response = outsider.goto(path)
        assert response is not None and response.status == 404, (
            f"{OUTSIDER} got {response and response.status} for {path}"
        )
        body = outsider.locator("body")
        expect(body).not_to_contain_text(child_name)
        expect(body).not_to_contain_text(child_number)
        expect(body).not_to_contain_text(WORRY)

    # === 5. The nurse: referral consent for Barnpsykolog, and the referral =================
    nurse.locator("nav.main-nav").get_by_role("link", name=sv("Children"), exact=True).click()
    nurse.get_by_role("search").locator("input[name=q]").fill(child_number)
    nurse.get_by_role("search").locator("button[type=submit]").click()
    nurse.locator("main table tbody tr").filter(has_text=child_number).get_by_role("link").click()
    expect(nurse).to_have_url(path_is(child_path))
    nurse.get_by_role("link", name=sv("Consents"), exact=True).click()
    nurse.get_by_role("link", name=sv("Record a new consent"), exact=True).click()
    nurse.locator("select[name=purpose]").select_option(Purpose.REFERRAL.value)
    nurse.locator("select[name=service]").select_option(label=SERVICE_LABEL)
    nurse.get_by_role("button", name=sv("Record the consent")).click()
    expect(nurse).to_have_url(re.compile(r"/samtycken/\d+/ge/$"))
    referral_consent_pk = number_in(nurse.url, r"/samtycken/(\d+)/ge/$")
    give_consent(nurse, first_guardian, method="tablet")
    give_consent(nurse, second_guardian, method="tablet")
    expect(nurse).to_have_url(path_is(consents_path))
    card = consent_card(nurse, referral_consent_pk)
    expect(card.locator("h2")).to_contain_text(SERVICE)
    expect(card.locator("h2 .state")).to_have_text(label(Consent.State.EFFECTIVE))

    nurse.locator("nav.main-nav").get_by_role("link", name=sv("To do"), exact=True).click()
    nurse.locator(f"section[aria-labelledby=cases-title] a[href='{concern_path}']").click()
    nurse.get_by_role("link", name=sv("Refer the family to a service"), exact=True).click()
    expect(nurse).to_have_url(path_is(f"{concern_path}remiss/"))
    nurse.locator("select[name=service]").select_option(label=SERVICE_LABEL)
    nurse.locator(f"input[name=consent][value='{referral_consent_pk}']").check()
    nurse.locator("textarea[name=note]").fill("Sömnsvårigheter sedan ett halvår.")
    nurse.get_by_role("button", name=sv("Send the referral")).click()
    expect(nurse).to_have_url(path_is(concern_path))
    expect(messages(nurse)).to_contain_text(sv("The referral has been sent."))
    referral = nurse.locator("section[aria-labelledby=referrals-title] li.card").filter(
        has=nurse.get_by_role("heading", level=3, name=re.compile(rf"^{SERVICE}\b"))
    )
    expect(referral).to_have_count(1)
    expect(referral.locator("h3 .tag")).to_have_text(sv("Sent"))
    expect(referral.locator("dl.steps dd").first).to_contain_text(f"{today:%Y-%m-%d}")

    # === 6. The coordinator: an action, the meeting closed, followed up at the next one ====
    assert open_team_meeting(coordinator) == meeting_path
    item = agenda_item(coordinator, item_pk)
    # Her own unit is an open preschool, a sector the consent does not name: she runs the
    # meeting without learning whom the case is about.
    shown = facts(item)
    assert sv("Child") not in shown, shown
    expect(item).not_to_contain_text(child_name)
    due = today + datetime.timedelta(days=14)
    item.locator("details summary").filter(has_text=sv("Add an action")).click()
    item.locator(f"input[name='action-{item_pk}-what']").fill(ACTION)
    item.locator(f"select[name='action-{item_pk}-responsible']").select_option(
        label=f"{THERAPIST_NAME} (Socialtjänsten Ekby, öppenvård)"
    )
    item.locator(f"input[name='action-{item_pk}-due_date']").fill(f"{due:%Y-%m-%d}")
    item.get_by_role("button", name=sv("Add the action")).click()
    expect(messages(coordinator)).to_contain_text(sv("The action has been added."))
    action = agenda_item(coordinator, item_pk).locator("ul.action-list li").filter(has_text=ACTION)
    expect(action).to_contain_text(f"{THERAPIST_NAME}, {sv('due')} {due:%Y-%m-%d}")

    coordinator.get_by_role("button", name=sv("Close the meeting and lock the minutes")).click()
    expect(coordinator).to_have_url(path_is(meeting_path))
    expect(messages(coordinator)).to_contain_text(
        sv("The meeting is closed and its minutes are locked.")
    )
    minutes = agenda_item(coordinator, item_pk).locator("section.minutes")
    # Locked: no minutes form any more (only the coordinator's corrections), the text kept.
    expect(minutes.locator(f"[name^='minutes-{item_pk}-']")).to_have_count(0)
    expect(minutes.locator("dl.facts dd").first).to_have_text(DISCUSSION)
    expect(minutes.locator("summary")).to_contain_text([sv("Correct the discussion")])

    # The team page: the meeting after the one just closed.
    coordinator.locator("main").get_by_role("link", name=TEAM).first.click()
    upcoming = coordinator.locator("h2#upcoming + table tbody tr")
    expect(upcoming.first).to_be_visible()
    hrefs = [link.get_attribute("href") for link in upcoming.locator("td:first-child a").all()]
    assert meeting_path in hrefs, hrefs
    closed_row = upcoming.nth(hrefs.index(meeting_path))
    expect(closed_row.locator("td").nth(2)).to_have_text(sv("Closed"))
    assert hrefs.index(meeting_path) + 1 < len(hrefs), "no meeting after the one just closed"
    next_path = hrefs[hrefs.index(meeting_path) + 1]
    upcoming.locator(f"a[href='{next_path}']").click()
    expect(coordinator).to_have_url(path_is(next_path))
    follow_up = coordinator.locator("#follow-up table tbody tr").filter(has_text=ACTION)
    expect(follow_up).to_have_count(1)
    cells = follow_up.locator("td")
    expect(cells.nth(1)).to_have_text(THERAPIST_NAME)
    expect(cells.nth(2)).to_contain_text(f"{due:%Y-%m-%d}")
    expect(cells.nth(3).get_by_role("link")).to_have_attribute(
        "href", f"{meeting_path}#item-{item_pk}"
    )
    expect(cells.nth(4)).to_contain_text(f"#{concern_pk}")

    # --- The final page, as the coordinator's tablet shows it -----------------------------
    width = TABLET_LANDSCAPE["width"]
    assert coordinator.evaluate("() => document.documentElement.scrollWidth") <= width, (
        f"The meeting page scrolls sideways on a {width} px tablet"
    )
    shot = Path(tempfile.mkdtemp(prefix="samverkan-browser-")) / "next-meeting-follow-up.png"
    coordinator.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"\nScreenshot of the next meeting's follow-up: {shot}")

    for path in (meeting_path, child_path):  # the outsider's refusals, and nothing else
        assert f"404 GET {demo_server.url}{path}" in problems.expected, problems.expected
    assert problems.all() == [], "\n".join(problems.all())
