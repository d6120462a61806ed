"""A BarnSäkert screening on one portrait tablet, from the nurse to the kiosk and back.

1. The BVC nurse opens a child of her unit with two guardians in joint custody, starts a
   screening from the child's page with both guardians present and gets two one-time codes.
2. She hands the tablet over to the kiosk (which logs her out). Guardian 1 enters code 1 and
   answers in Arabic, right to left, one question per screen: worried about money, one
   question skipped. The review, the submission, a neutral thank-you; going back or reopening
   the review shows nothing but the code entry.
3. Guardian 2 enters code 2 and answers in Swedish, differently; no page of that turn shows
   anything of guardian 1's answers.
4. Code 1 again is refused with the calm message, revealing nothing.
5. The nurse logs in again on the tablet and opens the child's results: both guardians side by
   side, the positive domains, the trend chart and table, the skipped question unanswered.
6. She documents the follow-up of guardian 1: "Budget- och skuldrådgivning", suggested for the
   economic worry, offered and accepted; the results page shows it.

Screenshots of the Arabic question page and of the results page go to a temporary directory
(run with -s to see the paths).
"""

from __future__ import annotations

import re
import tempfile
import tomllib
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import Locator, Page, expect

from families.models import Custody
from screening.models import Domain, FollowUp

from .conftest import PROJECT_DIR, DemoServer, People, log_in, path_is

NURSE = "bvc-sjukskoterska"
NURSE_UNIT = "BVC Ekby centrum"
SERVICE = "Budget- och skuldrådgivning"
QUESTIONNAIRE = PROJECT_DIR / "screening" / "questionnaires" / "barnsakert-exempel-v1.toml"

TWELVE_DIGITS = re.compile(r"^\d{8}-\d{4}$")
CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}")
CHILD_CANDIDATES = 15  # child pages opened at most while looking for joint custody

KIOSK = "/surfplatta/"
KIOSK_LANGUAGE = "/surfplatta/sprak/"
KIOSK_REVIEW = "/surfplatta/svar/"
KIOSK_THANKS = "/surfplatta/tack/"

# Item number -> option code; None: skipped. Guardian 1 worries about money (items 4-6,
# economic_worry) and skips item 7; guardian 2 is worn out (item 11, parental_stress).
FIRST_ANSWERS: dict[int, str | None] = {
    1: "no",
    2: "yes",
    3: "yes",
    4: "often",
    5: "sometimes",
    6: "yes",
    7: None,
    8: "never",
    9: "yes",
    10: "never",
    11: "sometimes",
    12: "never",
    13: "no",
    14: "no",
    15: "no",
    16: "no",
    17: "no",
    18: "no",
}
SECOND_ANSWERS: dict[int, str | None] = {
    1: "no",
    2: "no_car",
    3: "yes",
    4: "never",
    5: "never",
    6: "no",
    7: "sometimes",
    8: "sometimes",
    9: "yes",
    10: "sometimes",
    11: "often",
    12: "never",
    13: "no",
    14: "no",
    15: "no",
    16: "no",
    17: "no",
    18: "no",
}


def sv(text: str) -> str:
    """`text` as the server shows it in Swedish (the same catalogues, read here)."""
    with translation.override("sv"):
        return translation.gettext(text)


def label(choice: object) -> str:
    """A model choice's label as the Swedish UI shows it."""
    with translation.override("sv"):
        return str(choice.label)  # type: ignore[attr-defined]


def questionnaire() -> dict:
    with QUESTIONNAIRE.open("rb") as file:
        return tomllib.load(file)


def messages(page: Page) -> Locator:
    return page.locator("main .messages")


def number_in(url: str, pattern: str) -> int:
    match = re.search(pattern, url)
    assert match, f"{pattern} not in {url}"
    return int(match.group(1))


def find_child_with_joint_custody(page: Page) -> tuple[str, list[str]]:
    """From the child list: the first unprotected child of her own unit whose page shows two
    guardians in joint custody. Returns (full name, guardians); the child's page is left open."""
    joint = label(Custody.Kind.JOINT)
    rows = page.locator("main table tbody tr")
    opened = 0
    while True:
        expect(rows.first).to_be_visible()
        candidates = []
        for index in range(rows.count()):
            row = rows.nth(index)
            cells = [c.strip() for c in row.locator("td").all_inner_texts()]
            name, number, bvc = cells[0], cells[1], cells[3]
            if row.locator(".tag").count() or bvc != NURSE_UNIT or not TWELVE_DIGITS.match(number):
                continue
            candidates.append(name)
        list_url = page.url
        for name in candidates:
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
                return full_name, guardians
            page.goto(list_url)
        next_page = page.locator("nav.pagination a[rel=next]")
        if opened >= CHILD_CANDIDATES or next_page.count() == 0:
            pytest.fail(
                f"No child of {NURSE_UNIT} with two guardians in joint custody among the "
                f"{opened} child pages opened"
            )
        next_page.click()


def assert_fits_the_width(page: Page) -> None:
    """No sideways scrolling on the portrait tablet."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]} px wide on a {widths[1]} px screen"


def enter_code(page: Page, code: str) -> None:
    expect(page).to_have_url(path_is(KIOSK))
    page.locator("input[name=code]").fill(code)
    page.locator("form", has=page.locator("input[name=code]")).locator(
        "button[type=submit]"
    ).click()


def answer_questionnaire(
    page: Page,
    language: str,
    answers: dict[int, str | None],
    spec: dict,
    *,
    seen: list[str] | None = None,
    screenshot: Path | None = None,
) -> None:
    """One question per screen, from the first to the review page. `seen` collects the HTML
    of every page shown; no option is chosen before the guardian chooses it."""
    items = {item["number"]: item for item in spec["items"]}
    ui = spec["ui"][language]
    total = len(items)
    for n in range(1, total + 1):
        expect(page).to_have_url(path_is(f"/surfplatta/fraga/{n}/"))
        item = items[n]
        text = item["text"][language]
        expect(page.locator("h1.question-text")).to_have_text(text["question"])
        expect(page.locator("#progress-label")).to_have_text(
            ui["progress"].replace("{n}", str(n)).replace("{total}", str(total))
        )
        options = page.locator("input[name=option]")
        expect(options).to_have_count(len(item["options"]))
        expect(page.locator("input[name=option]:checked")).to_have_count(0)
        expect(page.locator("label.option .option-label")).to_have_text(
            [text["options"][code] for code in item["options"]]
        )
        assert_fits_the_width(page)
        if seen is not None:
            seen.append(page.content())
        if n == 1 and screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
            print(f"\nScreenshot of the {language} question page: {screenshot}")
        chosen = answers[n]
        if chosen is None:
            page.get_by_role("button", name=ui["skip"], exact=True).click()
        else:
            page.locator(f"input[name=option][value='{chosen}']").check()
            page.get_by_role("button", name=ui["next"], exact=True).click()
    expect(page).to_have_url(path_is(KIOSK_REVIEW))
    expect(page.get_by_role("heading", level=1)).to_have_text(ui["review"])
    rows = page.locator("ol.review-list li.review-item")
    expect(rows).to_have_count(total)
    expect(rows.locator(".review-question")).to_have_text(
        [items[n]["text"][language]["question"] for n in range(1, total + 1)]
    )
    expect(rows.locator(".review-answer")).to_have_text(
        [
            items[n]["text"][language]["options"][code] if code else ui["unanswered"]
            for n, code in answers.items()
        ]
    )
    for n, code in answers.items():
        expect(rows.nth(n - 1).locator("strong.unanswered")).to_have_count(0 if code else 1)
    assert_fits_the_width(page)
    if seen is not None:
        seen.append(page.content())


def submit_and_thank(page: Page, language: str, spec: dict) -> None:
    """Send the answers; the thank-you shows nothing but its own words."""
    ui = spec["ui"][language]
    page.get_by_role("button", name=ui["submit"], exact=True).click()
    expect(page).to_have_url(path_is(KIOSK_THANKS))
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_have_text(ui["thanks_title"])
    expect(main.locator("p.kiosk-lead")).to_have_text(ui["thanks_body"])
    # Nothing but the thanks, the note and the way back to the code entry.
    assert [t.strip() for t in main.locator("h1, p, a").all_inner_texts()] == [
        ui["thanks_title"],
        ui["thanks_body"],
        ui["answer_saved_note"],
        ui["enter_code"],
    ]
    expect(main.locator("form, input, ol, ul, .review-answer")).to_have_count(0)
    assert_fits_the_width(page)


def answer_labels(spec: dict, language: str, answers: dict[int, str | None]) -> set[str]:
    items = {item["number"]: item for item in spec["items"]}
    return {items[n]["text"][language]["options"][code] for n, code in answers.items() if code}


def assert_nothing_shown(page: Page, spec: dict, language: str, answers: dict) -> None:
    """The page shows the code entry, and none of the questions or chosen answers."""
    expect(page).to_have_url(path_is(KIOSK))
    expect(page.locator("input[name=code]")).to_be_visible()
    body = page.locator("body").inner_text()
    items = {item["number"]: item for item in spec["items"]}
    for n, code in answers.items():
        assert items[n]["text"][language]["question"] not in body
        if code:
            # Long enough not to be part of an ordinary word of the page.
            chosen = items[n]["text"][language]["options"][code]
            assert len(chosen) < 4 or chosen not in body, chosen
    expect(page.locator(".review-list, input[name=option]")).to_have_count(0)


@pytest.mark.browser
def test_barnsakert_screening_on_the_kiosk_and_follow_up(
    demo_server: DemoServer, people: People
) -> None:
    problems = people.problems
    spec = questionnaire()
    shots = Path(tempfile.mkdtemp(prefix="samverkan-barnsakert-"))

    # === 1. The nurse starts a screening for a child with two guardians ====================
    tablet = people.log_in(NURSE)  # one portrait tablet (768x1024), shared by everybody
    expect(tablet.locator("header .who")).to_have_text("Malin Ekholm")
    expect(tablet).to_have_url(path_is("/"))
    child_name, guardians = find_child_with_joint_custody(tablet)
    child_path = re.sub(r"^http://[^/]+", "", tablet.url)
    child_pk = number_in(child_path, r"^/barn/(\d+)/$")
    start_link = tablet.locator("main").get_by_role(
        "link", name=sv("Start BarnSäkert screening"), exact=True
    )
    expect(start_link).to_have_count(1)
    start_link.click()
    expect(tablet).to_have_url(path_is(f"/barnsakert/barn/{child_pk}/starta/"))
    expect(tablet.get_by_role("heading", level=1)).to_have_text(sv("Start BarnSäkert screening"))
    boxes = tablet.locator("input[name=guardians]")
    expect(boxes).to_have_count(2)
    for guardian in guardians:
        tablet.get_by_role("checkbox", name=re.compile(rf"^{re.escape(guardian)}\b")).check()
    if tablet.locator("input[name=occasion]:checked").count() == 0:
        tablet.locator("input[name=occasion]").last.check()  # past every window: the last one
    tablet.get_by_role("button", name=sv("Start the screening and show the codes")).click()
    expect(tablet.get_by_role("heading", level=1)).to_have_text(sv("Codes for the tablet"))
    handed = tablet.locator("ul.handover-list > li")
    expect(handed).to_have_count(2)
    names = [h.strip() for h in handed.locator("h2").all_inner_texts()]
    assert sorted(names) == sorted(guardians), names
    codes = []
    for index in range(2):
        text = handed.nth(index).locator("p.handover-code").inner_text()
        found = CODE.findall(text)
        assert len(found) == 1, text
        codes.append(found[0])
        expect(handed.nth(index).locator(".handover-qr svg")).to_have_count(1)
    assert codes[0] != codes[1]
    first_guardian, second_guardian = names  # in the order of the codes
    first_code, second_code = codes

    # === 2. The kiosk: guardian 1 answers in Arabic ========================================
    kiosk_html = tablet.request.get(KIOSK).text()  # a plain GET changes nothing
    if not re.search(r"<link[^>]+rel=\"icon\"", kiosk_html):
        # APP DEFECT (reported): templates/kiosk/base.html names no icon, unlike base.html,
        # so Chromium asks for /favicon.ico and gets a 404. Tolerated only while that is so.
        problems.expect_status(404, f"{demo_server.url}/favicon.ico")
    tablet.get_by_role("button", name=sv("Open the kiosk on this tablet")).click()
    expect(tablet).to_have_url(path_is(KIOSK))
    expect(tablet.locator("html")).to_have_attribute("lang", "sv")
    expect(tablet.locator("header, nav")).to_have_count(0)  # no staff navigation, no names
    expect(tablet.locator("body")).not_to_contain_text(child_name)
    enter_code(tablet, first_code)
    expect(tablet).to_have_url(path_is(KIOSK_LANGUAGE))
    expect(tablet.locator("body")).not_to_contain_text(first_guardian)
    arabic = tablet.locator("button[name=language][value=ar]")
    expect(arabic).to_have_text("العربية")
    expect(arabic).to_have_attribute("dir", "rtl")
    arabic.click()
    expect(tablet).to_have_url(path_is("/surfplatta/fraga/1/"))
    html = tablet.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    ar_ui = spec["ui"]["ar"]
    expect(tablet.get_by_role("button", name=ar_ui["next"], exact=True)).to_be_visible()
    # Right to left: the question's text starts at the right edge of the form.
    direction = tablet.locator("h1.question-text").evaluate("e => getComputedStyle(e).direction")
    assert direction == "rtl"
    answer_questionnaire(
        tablet, "ar", FIRST_ANSWERS, spec, screenshot=shots / "kiosk-question-ar.png"
    )
    expect(html).to_have_attribute("dir", "rtl")
    review_path = KIOSK_REVIEW
    submit_and_thank(tablet, "ar", spec)

    # Back, and the review reopened: only the code entry.
    tablet.go_back()
    assert_nothing_shown(tablet, spec, "ar", FIRST_ANSWERS)
    tablet.goto(review_path)
    assert_nothing_shown(tablet, spec, "ar", FIRST_ANSWERS)
    tablet.goto("/surfplatta/fraga/4/")
    assert_nothing_shown(tablet, spec, "ar", FIRST_ANSWERS)

    # === 3. Guardian 2 answers in Swedish, and sees nothing of guardian 1 ==================
    first_labels = answer_labels(spec, "ar", FIRST_ANSWERS)
    first_questions = {item["text"]["ar"]["question"] for item in spec["items"]}
    seen: list[str] = []
    enter_code(tablet, second_code)
    expect(tablet).to_have_url(path_is(KIOSK_LANGUAGE))
    seen.append(tablet.content())
    tablet.locator("button[name=language][value=sv]").click()
    expect(tablet.locator("html")).to_have_attribute("lang", "sv")
    expect(tablet.locator("html")).to_have_attribute("dir", "ltr")
    answer_questionnaire(tablet, "sv", SECOND_ANSWERS, spec, seen=seen)
    # She changes her mind about question 1 and comes back to the review.
    tablet.get_by_role("link", name=spec["ui"]["sv"]["change"]).first.click()
    expect(tablet).to_have_url(path_is("/surfplatta/fraga/1/"))
    expect(tablet.locator("input[name=option]:checked")).to_have_value(SECOND_ANSWERS[1])
    seen.append(tablet.content())
    tablet.goto(review_path)
    expect(tablet.locator("ol.review-list li.review-item")).to_have_count(len(SECOND_ANSWERS))
    seen.append(tablet.content())
    submit_and_thank(tablet, "sv", spec)
    seen.append(tablet.content())
    for page_html in seen:
        for text in first_labels | first_questions:
            assert text not in page_html, f"guardian 1's {text!r} shown to guardian 2"
        assert first_guardian not in page_html and child_name not in page_html

    # === 4. Code 1 again: refused, calmly, revealing nothing ===============================
    tablet.goto(KIOSK)
    enter_code(tablet, first_code)
    expect(tablet).to_have_url(path_is(KIOSK))
    expect(tablet.locator(".kiosk-error")).to_contain_text(spec["ui"]["sv"]["code_invalid"])
    expect(tablet.locator(".kiosk-error")).to_contain_text(spec["ui"]["en"]["code_invalid"])
    assert_nothing_shown(tablet, spec, "ar", FIRST_ANSWERS)
    assert_nothing_shown(tablet, spec, "sv", SECOND_ANSWERS)
    expect(tablet.locator("body")).not_to_contain_text(first_guardian)
    expect(tablet.locator("body")).not_to_contain_text(child_name)

    # === 5. The nurse logs in again on the tablet: the results ==============================
    log_in(tablet, demo_server, NURSE)  # the handover logged her out: "/" asked for a login
    expect(tablet.locator("header .who")).to_have_text("Malin Ekholm")
    tablet.goto(child_path)
    tablet.locator("main").get_by_role(
        "link", name=sv("BarnSäkert results and follow-up"), exact=True
    ).click()
    results_path = f"/barnsakert/barn/{child_pk}/"
    expect(tablet).to_have_url(path_is(results_path))
    expect(tablet.get_by_role("heading", level=1)).to_have_text(
        sv("BarnSäkert: %(name)s") % {"name": child_name}
    )
    columns = tablet.locator(".family-overview section.guardian-column")
    expect(columns).to_have_count(2)
    first_column = columns.filter(has=tablet.locator("h3", has_text=first_guardian))
    second_column = columns.filter(has=tablet.locator("h3", has_text=second_guardian))
    expect(first_column).to_have_count(1)
    expect(second_column).to_have_count(1)
    # Side by side on the portrait tablet.
    one, two = first_column.bounding_box(), second_column.bounding_box()
    assert one and two
    assert abs(one["y"] - two["y"]) < 2 and abs(one["x"] - two["x"]) > one["width"] / 2, (
        f"the guardians' columns are not side by side at 768 px: {one} {two}"
    )

    expect(first_column.locator("ul.positive-domains li")).to_have_text(
        [label(Domain.ECONOMIC_WORRY)]
    )
    expect(second_column.locator("ul.positive-domains li")).to_have_text(
        [label(Domain.PARENTAL_STRESS)]
    )
    for column in (first_column, second_column):
        expect(column.locator("figure.overview-chart svg.overview-svg")).to_have_count(1)
        expect(column.locator("table.history tbody tr")).to_have_count(len(Domain.choices))
    positive = sv("positive")
    economic_row = first_column.locator("table.history tbody tr").filter(
        has=tablet.locator("th", has_text=label(Domain.ECONOMIC_WORRY))
    )
    expect(economic_row.locator("td.state-positive")).to_have_text(positive)
    expect(first_column.locator("svg circle.mark-positive")).to_have_count(1)
    expect(second_column.locator("svg circle.mark-positive")).to_have_count(1)
    items = {item["number"]: item for item in spec["items"]}
    skipped = [n for n, code in FIRST_ANSWERS.items() if code is None]
    expect(first_column.locator("ul.items li")).to_have_text(
        [re.compile(rf"^{n}\.\s+{re.escape(items[n]['text']['sv']['question'])}$") for n in skipped]
    )
    expect(second_column.locator("ul.items")).to_have_count(0)
    expect(second_column).to_contain_text(sv("Every question was answered."))
    # Not asserted: the results page scrolls sideways at 768 px (948 px wide), see the report:
    # the visually hidden "no answer" spans in the history table escape `.table-scroll`.
    results_shot = shots / "results.png"
    tablet.screenshot(path=str(results_shot), full_page=True)
    print(f"\nScreenshot of the results page: {results_shot}")

    # === 6. The follow-up of guardian 1: budget and debt counselling, accepted =============
    first_column.locator("ul.page-links a").first.click()
    expect(tablet).to_have_url(re.compile(r"/barnsakert/svar/\d+/uppfoljning/$"))
    expect(tablet.get_by_role("heading", level=1)).to_have_text(
        sv("Follow-up: %(name)s") % {"name": first_guardian}
    )
    positives = tablet.locator("section[aria-labelledby=answers-title] dl.guidance dt")
    expect(positives).to_have_count(3)  # items 4, 5 and 6
    expect(positives).to_contain_text([label(Domain.ECONOMIC_WORRY)] * 3)
    expect(tablet.locator("ol.suggestions li strong")).to_contain_text([SERVICE])
    offer = tablet.locator(".follow-up-form .choice").filter(
        has=tablet.locator("label", has_text=re.compile(rf"^{re.escape(SERVICE)} \("))
    )
    expect(offer).to_have_count(1)
    expect(offer.locator(".tag-suggested")).to_have_text(sv("suggested"))
    tablet.locator("textarea[name=conversation]").fill(
        "Pratade om ekonomin. Föräldern vill gärna ha hjälp med en budget."
    )
    tablet.locator("textarea[name=summary]").fill("Erbjuden budget- och skuldrådgivning.")
    offer.locator("input[name=offered]").check()
    tablet.locator(f"input[name=reply][value={FollowUp.Reply.ACCEPTED.value}]").check()
    tablet.get_by_role("button", name=sv("Save the follow-up")).click()
    expect(tablet).to_have_url(path_is(results_path))
    expect(messages(tablet)).to_contain_text(sv("The follow-up has been saved."))
    documented = tablet.locator("section.follow-ups article.follow-up")
    expect(documented).to_have_count(1)
    expect(documented).to_contain_text(first_guardian)
    expect(documented).to_contain_text(f"{SERVICE} (")
    expect(documented).to_contain_text(label(FollowUp.Reply.ACCEPTED))
    expect(documented).not_to_contain_text(second_guardian)

    assert not problems.all(), "\n".join(problems.all())
