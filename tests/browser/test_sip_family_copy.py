"""The family's copy of a SIP in a real browser at tablet size, in Swedish and in English.

The demo has no plan of its own (yet), so one is made on the server's database through
`manage.py shell`: a SIP consent given by both guardians of a child of the nurse's BVC, and a
plan with one version, an action for the family therapist and the therapist taking part.
The nurse then opens the copy, switches to English, checks the print layout and the PDF.
"""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from .conftest import DemoServer, People

NURSE = "bvc-sjukskoterska"
ACTION = "Boka ett första stödsamtal om sömn"
NEIGHBOUR = "Nils Granne"

pytestmark = pytest.mark.browser

# Runs inside the server's environment; prints "PLAN <plan id> <child's first name>".
MAKE_PLAN = f"""
import datetime
from django.test import RequestFactory
from django.utils import timezone
from consent.models import GuardianConsent
from consent.policy import Purpose
from consent.services import consent_give, consent_record, custodial_guardians
from directory.models import Professional, Sector
from families.models import Child
from plans.models import Plan, PlanAction, PlanParticipant, PlanVersion

nurse = Professional.objects.get(username="{NURSE}")
therapist = Professional.objects.get(username="familjebehandlare")
unit = nurse.units.order_by("pk").first()
social = therapist.units.order_by("pk").first()
children = Child.objects.filter(bvc_unit=unit).order_by("pk")
child = next(c for c in children if custodial_guardians(c))
request = RequestFactory().post("/")
request.user, request.request_id = nurse, "browser-test"
consent = consent_record(
    request=request, child=child, purpose=Purpose.SIP, sectors=[Sector.SOCIAL_SERVICES]
)
for guardian in custodial_guardians(child):
    consent_give(
        request=request, consent=consent, guardian=guardian, method=GuardianConsent.Method.TABLET
    )
today = timezone.localdate()
plan = Plan.objects.create(child=child, consent=consent, requested_by="Vårdnadshavarna",
    requested_on=today, started_by=nurse, started_unit=unit,
    first_meeting_due=today + datetime.timedelta(days=21), current_number=1,
    next_follow_up=today + datetime.timedelta(days=60))
version = PlanVersion.objects.create(plan=plan, number=1, kind="first", created_by=nurse,
    created_unit=unit, needs="Familjen behöver stöd med sömn och rutiner.",
    overall_responsibility=social.organisation, coordinator=therapist,
    next_follow_up=today + datetime.timedelta(days=60))
PlanAction.objects.create(version=version, what="{ACTION}", unit=social, responsible=therapist,
    due_date=today + datetime.timedelta(days=14))
PlanParticipant.objects.create(plan=plan, kind="professional", professional=therapist,
    unit=social, role="Familjebehandlare", added_by=nurse)
PlanParticipant.objects.create(plan=plan, kind="other", name="{NEIGHBOUR}",
    contact="070-999 88 77", added_by=nurse)
print("PLAN", plan.pk, child.first_name)
"""


def sv(text: str) -> str:
    """`text` as the server shows it in Swedish (the same catalogues, read here)."""
    with translation.override("sv"):
        return translation.gettext(text)


def test_the_nurse_prints_the_familys_copy_in_swedish_and_english(
    demo_server: DemoServer, people: People
):
    output = demo_server.manage("shell", "-c", MAKE_PLAN)
    plan_id, first_name = re.search(r"^PLAN (\d+) (\S+)$", output, re.M).groups()  # type: ignore[union-attr]
    page = people.log_in(NURSE)
    copy = f"/sip/{plan_id}/familjens-kopia/"

    page.goto(f"{copy}?sprak=sv")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_contain_text(first_name)
    expect(page.get_by_role("heading", name=sv("Who does what"))).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text(ACTION)
    expect(page.locator(".copy-contacts")).to_contain_text(NEIGHBOUR)
    expect(page.locator(".copy-contacts")).to_contain_text("070-999 88 77")
    # Nothing spills out sideways on a portrait tablet.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_role("link", name="English", exact=True).click()
    expect(page).to_have_url(re.compile(r"\?sprak=en$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Who does what")).to_be_visible()
    expect(page.get_by_role("heading", name="Who has the overall responsibility")).to_be_visible()

    # Printed: the app around the copy and the language links are gone, the copy stays.
    page.emulate_media(media="print")
    expect(page.locator(".main-nav")).to_be_hidden()
    expect(page.locator(".copy-tools")).to_be_hidden()
    expect(page.get_by_role("table")).to_be_visible()
    page.emulate_media(media="screen")

    pdf = page.request.get(f"/sip/{plan_id}/familjens-kopia.pdf?sprak=sv")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")

    assert people.problems.all() == [], "\n".join(people.problems.all())
