"""Extended home visits in real browsers, each person on a tablet of their own.

1. The BVC nurse opens the home-visit worklist and finds a newborn of her unit in an
   all-families area of "Utökat hembesöksprogram Ekby" (two guardians in joint custody, not
   yet offered), and offers the programme from the worklist.
2. She records the family's acceptance: each guardian confirms (one on the tablet, one
   verbally with a witness); that is the consent to joint visits with social services, and
   the visits are scheduled from the birth date.
3. She books the first visit jointly with the family therapist.
4. The family therapist finds the visit on her own home-visit worklist, opens the family and
   documents the visit with her topics, in social services' record.
5. The nurse documents the same visit with hers, in the BVC's record. Without a consent to
   information exchange neither sees the other's note text: only that a note exists there.
6. The family moves away: the nurse books the next visit, cancels that booking with the
   reason, and ends the programme. The visits not made are cancelled; the one made stays.

The demo data (demo/visits_history.py) provides the programme and the newborn.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Locator, Page, expect

from families.models import Custody
from visits.models import Enrolment, VisitNote

from .conftest import DemoServer, People, path_is

NURSE = "bvc-sjukskoterska"
THERAPIST = "familjebehandlare"
NURSE_NAME = "Malin Ekholm"
THERAPIST_NAME = "Amir Haddad"
PROGRAMME = "Utökat hembesöksprogram Ekby"
PARTNER_UNIT = "Socialtjänsten Ekby, öppenvård"
NURSE_UNIT = "BVC Ekby centrum"
ALL_FAMILIES_CODES = ("99130", "99134")  # Ekby centrum and Ekby norra
WITNESS = "Undersköterska på BVC Ekby centrum"
NURSE_TEXT = "Amningen fungerar bra och viktkurvan följer sin kanal. Navelstumpen är läkt."
THERAPIST_TEXT = "Föräldrarna berättar att nätterna är tunga; vi pratade om att turas om."
CHILD_CANDIDATES = 8
ENROLMENT_PATH = re.compile(r"/hembesok/inskrivning/(\d+)/$")


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


def open_worklist(page: Page) -> None:
    page.locator("nav.main-nav").get_by_role("link", name=sv("Home visits"), exact=True).click()
    expect(page).to_have_url(path_is("/hembesok/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(sv("Extended home visits"))


def eligible_rows(page: Page) -> Locator:
    return page.locator("section[aria-labelledby=eligible-title] tbody tr")


def find_newborn(page: Page) -> tuple[str, list[str]]:
    """On the worklist: the first newborn offered nothing yet for PROGRAMME whose page shows
    an address in an all-families area and two guardians in joint custody. Returns the name
    as the list shows it ("Last, First") and the guardians; the worklist is left open."""
    joint = label(Custody.Kind.JOINT)
    rows = eligible_rows(page)
    expect(rows.first).to_be_visible()
    candidates = []
    for index in range(rows.count()):
        cells = [c.strip() for c in rows.nth(index).locator("td").all_inner_texts()]
        if cells[2] == PROGRAMME:
            candidates.append(cells[0].splitlines()[0].strip())
    for name in candidates[:CHILD_CANDIDATES]:
        page.locator("section[aria-labelledby=eligible-title]").get_by_role(
            "link", name=name, exact=True
        ).click()
        expect(page).to_have_url(re.compile(r"/barn/\d+/$"))
        address = page.locator("main > dl.facts").inner_text()
        cards = page.locator("main ul.cards > li")
        custodies = [card.locator("dl.facts dd").first.inner_text().strip() for card in cards.all()]
        in_area = any(re.search(rf"\b{code}\b", address) for code in ALL_FAMILIES_CODES)
        if in_area and len(custodies) == 2 and all(c == joint for c in custodies):
            guardians = [h.strip() for h in cards.locator("h3").all_inner_texts()]
            open_worklist(page)
            return name, guardians
        open_worklist(page)
    pytest.fail(
        f"No newborn of {NURSE_UNIT} to offer {PROGRAMME} in an all-families area with two "
        f"guardians in joint custody among {candidates[:CHILD_CANDIDATES]}"
    )


def booked_visit(page: Page) -> Locator:
    """The family page's section of the booked visit (the one that can be moved)."""
    return page.locator("section.card").filter(
        has=page.get_by_role("link", name=re.compile("^" + re.escape(sv("Move the visit"))))
    )


def visit_section(page: Page, section: str) -> Locator:
    return page.locator(f"section.card[aria-labelledby={section}]")


def document(page: Page, section: str, topics: list[str], text: str, unit: str) -> None:
    """From the family page: document the visit of `section` in `unit`'s record."""
    visit_section(page, section).get_by_role(
        "link", name=re.compile("^" + re.escape(sv("Document the visit")))
    ).click()
    expect(page).to_have_url(re.compile(r"/hembesok/besok/\d+/dokumentera/$"))
    expect(page.locator("main dl.facts")).to_contain_text(unit)
    for topic in topics:
        page.get_by_role("checkbox", name=topic, exact=True).check()
    page.get_by_role("textbox", name=sv("Note"), exact=True).fill(text)
    page.get_by_role("button", name=sv("Save the note")).click()
    expect(page).to_have_url(ENROLMENT_PATH)
    expect(messages(page)).to_contain_text(
        sv("The note has been saved in the record of %(unit)s.") % {"unit": unit}
    )


def hidden_note_notice(unit: str) -> str:
    with translation.override("sv"):
        return translation.ngettext(
            "%(unit)s has a note about this visit in its own record. Reading it needs the "
            "family's consent to information exchange.",
            "%(unit)s has %(counter)s notes about this visit in its own record. Reading "
            "them needs the family's consent to information exchange.",
            1,
        ) % {"unit": unit, "counter": 1}


@pytest.mark.browser
def test_home_visit_from_offer_to_a_jointly_documented_visit(
    demo_server: DemoServer, people: People
) -> None:
    problems = people.problems
    today = timezone.localdate()  # the server's day (Europe/Stockholm)
    visit_day = (today + datetime.timedelta(days=2)).isoformat()

    # === 1. The nurse offers the programme to a newborn from her worklist ==================
    nurse = people.log_in(NURSE)
    expect(nurse.locator("header .who")).to_have_text(NURSE_NAME)
    open_worklist(nurse)
    name, guardians = find_newborn(nurse)
    row = eligible_rows(nurse).filter(has=nurse.get_by_role("link", name=name, exact=True))
    expect(row.locator("td").nth(2)).to_have_text(PROGRAMME)
    row.get_by_role("button", name=re.compile("^" + re.escape(sv("Offer")))).click()
    expect(nurse).to_have_url(ENROLMENT_PATH)
    enrolment_path = ENROLMENT_PATH.search(nurse.url).group(0)  # type: ignore[union-attr]
    expect(messages(nurse)).to_contain_text(
        sv("The programme has been offered. Record the family's answer when they give it.")
    )
    last, first = (part.strip() for part in name.split(",", 1))
    expect(nurse.get_by_role("heading", level=1)).to_contain_text(f"{first} {last}")
    expect(nurse.locator("main dl.facts").first).to_contain_text(label(Enrolment.Status.OFFERED))
    # Offered: it has left the newborns to offer, and awaits the family's answer.
    open_worklist(nurse)
    expect(eligible_rows(nurse).filter(has_text=name)).to_have_count(0)
    expect(
        nurse.locator("section[aria-labelledby=offered-title]").get_by_role(
            "link", name=name, exact=True
        )
    ).to_be_visible()

    # === 2. Both guardians accept: the consent to joint visits, and the schedule ===========
    nurse.goto(enrolment_path)
    nurse.get_by_role("link", name=sv("Record that the family accepts")).click()
    expect(nurse).to_have_url(re.compile(r"/hembesok/inskrivning/\d+/ja/$"))
    expect(nurse.locator("main .worry")).to_contain_text(PARTNER_UNIT)
    fieldsets = nurse.locator("main form fieldset.choices")
    expect(fieldsets).to_have_count(2)
    for index, guardian in enumerate(guardians):
        fieldset = fieldsets.filter(has=nurse.locator("legend", has_text=guardian))
        fieldset.get_by_role("checkbox").check()
        if index == 1:
            fieldset.locator("input[type=radio][value=verbal]").check()
            fieldset.get_by_role("textbox").fill(WITNESS)
    nurse.get_by_role("button", name=sv("Record the family's acceptance")).click()
    expect(nurse).to_have_url(path_is(enrolment_path))
    expect(messages(nurse)).to_contain_text(
        sv(
            "The family has accepted: the consent is in force and the visits are "
            "scheduled from the birth date."
        )
    )
    expect(nurse.locator("main dl.facts").first).to_contain_text(label(Enrolment.Status.ACCEPTED))
    expect(nurse.locator("section.card").first).to_be_visible()

    # === 3. She books the first visit jointly with the family therapist ====================
    nurse.get_by_role("link", name=re.compile("^" + re.escape(sv("Book the visit")))).first.click()
    expect(nurse).to_have_url(re.compile(r"/hembesok/besok/\d+/boka/$"))
    nurse.locator("input[name=date]").fill(visit_day)
    nurse.locator("input[name=time]").fill("10:00")
    nurse.locator("select[name=nurse]").select_option(label=NURSE_NAME)
    nurse.locator("select[name=therapist]").select_option(label=THERAPIST_NAME)
    nurse.get_by_role("button", name=sv("Book the visit")).click()
    expect(nurse).to_have_url(path_is(enrolment_path))
    expect(messages(nurse)).to_contain_text(sv("The visit has been booked."))
    expect(booked_visit(nurse)).to_contain_text(f"{visit_day} 10:00")
    expect(booked_visit(nurse)).to_contain_text(THERAPIST_NAME)
    section = booked_visit(nurse).get_attribute("aria-labelledby") or ""
    assert re.fullmatch(r"visit-\d+", section), section

    # === 4. The family therapist sees it on her worklist and documents her part ============
    therapist = people.log_in(THERAPIST)
    open_worklist(therapist)
    visits = therapist.locator("section[aria-labelledby=visits-title] tbody tr").filter(
        has=therapist.get_by_role("link", name=name, exact=True)
    )
    expect(visits).to_have_count(1)
    expect(visits).to_contain_text(f"{visit_day} 10:00")
    expect(visits).to_contain_text(NURSE_NAME)
    # Newborns to offer are the BVC's: the therapist has no such list.
    expect(therapist.locator("section[aria-labelledby=eligible-title]")).to_have_count(0)
    visits.get_by_role("link", name=name, exact=True).click()
    expect(therapist).to_have_url(path_is(enrolment_path))
    document(
        therapist,
        section,
        [label(VisitNote.Topic.PARENTHOOD), label(VisitNote.Topic.COMMUNICATION)],
        THERAPIST_TEXT,
        PARTNER_UNIT,
    )
    expect(therapist.locator("main")).to_contain_text(THERAPIST_TEXT)

    # === 5. The nurse documents hers; neither reads the other's note text ==================
    nurse.goto(enrolment_path)
    document(
        nurse,
        section,
        [label(VisitNote.Topic.FEEDING), label(VisitNote.Topic.GROWTH)],
        NURSE_TEXT,
        NURSE_UNIT,
    )
    documented = visit_section(nurse, section)
    expect(documented).to_contain_text(NURSE_TEXT)
    expect(documented).to_contain_text(label(VisitNote.Topic.FEEDING))
    expect(documented.locator(".notice")).to_have_text(hidden_note_notice(PARTNER_UNIT))
    expect(nurse.locator("main")).not_to_contain_text(THERAPIST_TEXT)

    therapist.reload()
    expect(therapist.locator("main")).to_contain_text(THERAPIST_TEXT)
    expect(therapist.locator("main")).not_to_contain_text(NURSE_TEXT)
    expect(visit_section(therapist, section).locator(".notice")).to_have_text(
        hidden_note_notice(NURSE_UNIT)
    )

    # === 6. The family moves away: a booking cancelled, then the programme ended ==========
    nurse.get_by_role("link", name=re.compile("^" + re.escape(sv("Book the visit")))).first.click()
    nurse.locator("input[name=date]").fill(visit_day)
    nurse.locator("input[name=time]").fill("14:00")
    for select, person in (("nurse", NURSE_NAME), ("therapist", THERAPIST_NAME)):
        if nurse.locator(f"select[name={select}]").count():
            nurse.locator(f"select[name={select}]").select_option(label=person)
    nurse.get_by_role("button", name=sv("Book the visit")).click()
    expect(messages(nurse)).to_contain_text(sv("The visit has been booked."))
    booked_visit(nurse).get_by_role(
        "link", name=re.compile("^" + re.escape(sv("Cancel the booking")))
    ).click()
    expect(nurse).to_have_url(re.compile(r"/hembesok/besok/\d+/avboka/$"))
    nurse.get_by_role("textbox", name=sv("Why the booking is cancelled")).fill("Familjen flyttar")
    nurse.get_by_role("button", name=sv("Cancel the booking")).click()
    expect(nurse).to_have_url(path_is(enrolment_path))
    expect(messages(nurse)).to_contain_text(sv("The booking has been cancelled."))
    expect(booked_visit(nurse)).to_have_count(0)
    expect(nurse.locator("main")).to_contain_text("Familjen flyttar")

    nurse.get_by_role("link", name=sv("End the programme"), exact=True).click()
    nurse.get_by_role("textbox", name=sv("Why the programme ends")).fill("Familjen har flyttat")
    nurse.get_by_role("button", name=sv("End the programme")).click()
    expect(nurse).to_have_url(path_is(enrolment_path))
    expect(messages(nurse)).to_contain_text(
        sv("The programme has ended; the visits not yet made are cancelled.")
    )
    expect(nurse.locator("main")).to_contain_text(sv("Cancelled: the programme ended"))
    expect(visit_section(nurse, section)).to_contain_text(NURSE_TEXT)  # the visit made stays
    expect(nurse.get_by_role("link", name=sv("End the programme"), exact=True)).to_have_count(0)
    booking_links = nurse.get_by_role("link", name=re.compile(re.escape(sv("Book the visit"))))
    expect(booking_links).to_have_count(0)

    assert problems.all() == [], "\n".join(problems.all())
