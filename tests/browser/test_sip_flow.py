"""A SIP in real browsers, as the people would do it, each on a tablet of their own.

1. The principal (HLT Ekbyskolan) opens one of her identified HLT cases from "To do"; the
   guardians have given their SIP consent (the demo recorded it), so the case offers to start
   a SIP. She starts it: the plan page shows the first meeting's deadline.
2. She adds the participants: the school counsellor (student health, covered by the consent),
   a guardian, the child and a neighbour; a preschool teacher's unit is refused, since the
   consent does not cover it. She schedules the first meeting.
3. The counsellor opens the plan's form too. The principal writes the plan (the child's voice
   with the age-adapted prompt, a goal, an intervention, actions for the counsellor and the
   father) and saves version 1; the counsellor's save from the stale form is refused with the
   conflict message, and her text is still in the form.
4. The family's PDF is produced.
5. A follow-up meeting: each action evaluated (one done, one carried over), version 2. The
   version list shows both, and the plan is on her "To do" with the next follow-up date.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from .conftest import TABLET_LANDSCAPE, DemoServer, People, path_is
from .test_team_meeting_flow import messages, number_in, sv

PRINCIPAL = "rektor"
COUNSELLOR = "kurator"
COUNSELLOR_CHOICE = "Peter Nyström – Elevhälsan Ekbyskolan"
UNCOVERED_CHOICE = "Maria Lind – Förskolan Ekorren"
MUNICIPALITY = "Ekby kommun"
NEIGHBOUR = "Greta Granne"
NEEDS = "Hög frånvaro och ont i magen på morgnarna. Familjen vill ha ett samlat stöd."
VOICE = "Det är jobbigt på rasterna. Jag vill att en vuxen är ute."
GOAL = "Trygga raster och närvaro minst 90 procent."
INTERVENTION = "Samtalsstöd hos skolkuratorn"
ACTION_COUNSELLOR = "Rastvärd varje förmiddag"
ACTION_FATHER = "Veckovis kontakt mellan hem och skola"
STALE_NEEDS = "Kuratorns version av behoven, skriven samtidigt."
CASES_TRIED = 10


def iso(day: datetime.date) -> str:
    return day.isoformat()


def open_case_with_sip_consent(page: Page) -> str:
    """To do → my cases: the first identified case whose "Start a SIP" shows the start form
    (the guardians' SIP consent is in force). Returns the child's name; the form is open."""
    page.locator("nav.main-nav").get_by_role("link", name=sv("To do"), exact=True).click()
    links = page.locator("section[aria-labelledby=cases-title] table a")
    expect(links.first).to_be_visible()
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for href in hrefs[:CASES_TRIED]:
        page.goto(href or "")
        start = page.get_by_role("link", name=sv("Start a SIP"), exact=True)
        if start.count() == 0:
            continue  # anonymous, or a child she may not see
        child_name = page.locator("#identity-title").inner_text().strip()
        start.click()
        expect(page).to_have_url(re.compile(r"/sip/barn/\d+/ny/\?arende=\d+$"))
        if page.get_by_role("button", name=sv("Start the SIP")).count():
            return child_name
        page.go_back()
    pytest.fail(f"none of {PRINCIPAL}'s first {CASES_TRIED} cases has a SIP consent in force")


def plan_form(page: Page) -> Locator:
    return page.locator("form.plan-form")


def fill_required(form: Locator, needs: str, follow_up: datetime.date) -> None:
    form.locator("textarea[name=plan-needs]").fill(needs)
    form.locator("select[name=plan-overall_responsibility]").select_option(label=MUNICIPALITY)
    form.locator("input[name=plan-next_follow_up]").fill(iso(follow_up))


@pytest.mark.browser
def test_a_sip_from_an_hlt_case_to_its_follow_up(demo_server: DemoServer, people: People) -> None:
    problems = people.problems
    today = timezone.localdate()

    # === 1. The principal starts a SIP from her HLT case ===================================
    principal = people.log_in(PRINCIPAL, viewport=TABLET_LANDSCAPE)
    child_name = open_case_with_sip_consent(principal)
    expect(principal.get_by_role("heading", level=1)).to_contain_text(child_name)
    principal.locator("input[name=requested_by]").fill("HLT Ekbyskolan och föräldrarna")
    expect(principal.locator("input[name=requested_on]")).to_have_value(iso(today))
    principal.get_by_role("button", name=sv("Start the SIP")).click()
    expect(principal).to_have_url(re.compile(r"/sip/\d+/$"))
    plan_pk = number_in(principal.url, r"/sip/(\d+)/$")
    plan_path = f"/sip/{plan_pk}/"
    expect(messages(principal)).to_contain_text(sv("The SIP has been started."))
    expect(principal.locator("dd.first-meeting-due")).to_have_text(
        iso(today + datetime.timedelta(days=21))
    )

    # === 2. Participants and the first meeting =============================================
    principal.locator("main").get_by_role("link", name=sv("Participants"), exact=True).click()
    expect(principal).to_have_url(path_is(f"{plan_path}deltagare/"))
    section = principal.locator("section#add-professional")
    section.locator("select[name=professional-membership]").select_option(label=UNCOVERED_CHOICE)
    section.get_by_role("button", name=sv("Add")).click()
    refusal = principal.locator("section#add-professional .error-summary")
    expect(refusal).to_contain_text("Förskolan Ekorren")

    section = principal.locator("section#add-professional")
    section.locator("select[name=professional-membership]").select_option(label=COUNSELLOR_CHOICE)
    section.locator("input[name=professional-role]").fill("Skolkurator")
    section.locator("input[name=professional-invited]").check()
    section.get_by_role("button", name=sv("Add")).click()
    expect(messages(principal)).to_contain_text(sv("The participant has been added."))

    section = principal.locator("section#add-guardian")
    guardian_choice = section.locator("select[name=guardian-guardian] option").nth(1)
    guardian_name = guardian_choice.inner_text().split(" (")[0]
    section.locator("select[name=guardian-guardian]").select_option(index=1)
    section.get_by_role("button", name=sv("Add")).click()
    expect(messages(principal)).to_contain_text(sv("The participant has been added."))

    section = principal.locator("section#add-child")
    section.locator("input[name=child-role]").fill("Är med i början av mötet")
    section.get_by_role("button", name=sv("Add")).click()

    section = principal.locator("section#add-other")
    section.locator("input[name=other-name]").fill(NEIGHBOUR)
    section.locator("input[name=other-role]").fill("Granne")
    section.get_by_role("button", name=sv("Add")).click()
    table = principal.locator("table.plan-participants")
    for name in ("Peter Nyström", guardian_name, NEIGHBOUR, "Helena Dahl"):
        expect(table).to_contain_text(name)

    principal.goto(plan_path)
    principal.get_by_role("link", name=sv("Schedule a meeting"), exact=True).click()
    expect(principal).to_have_url(path_is(f"{plan_path}moten/ny/"))
    principal.locator("select[name=kind]").select_option("first")
    principal.locator("input[name=day]").fill(iso(today))
    principal.locator("input[name=time]").fill("13:00")
    principal.locator("input[name=place]").fill("Ekbyskolan, konferensrummet")
    principal.get_by_role("button", name=sv("Schedule the meeting")).click()
    expect(messages(principal)).to_contain_text(sv("The meeting has been scheduled."))

    # === 3. Two people write at once: the second save is refused, nothing lost =============
    counsellor = people.log_in(COUNSELLOR)
    counsellor.goto(plan_path)
    expect(counsellor.get_by_role("heading", level=1)).to_contain_text(child_name)
    counsellor.get_by_role("link", name=sv("Write the plan"), exact=True).click()
    expect(counsellor).to_have_url(path_is(f"{plan_path}skriv/"))

    principal.goto(plan_path)
    principal.get_by_role("link", name=sv("Write the plan"), exact=True).click()
    form = plan_form(principal)
    expect(principal.locator(".child-voice-prompt")).to_be_visible()
    fill_required(form, NEEDS, today + datetime.timedelta(days=30))
    form.locator("textarea[name=plan-child_voice]").fill(VOICE)
    form.locator("select[name=plan-child_voice_method]").select_option("at_meeting")
    form.locator("input[name=plan-child_voice_by]").fill("Kuratorn")
    form.locator("textarea[name=plan-family_view]").fill("Vi vill att alla pratar med varandra.")
    form.locator("textarea[name=goals-0-text]").fill(GOAL)
    form.locator("textarea[name=interventions-0-what]").fill(INTERVENTION)
    form.locator("select[name=interventions-0-provider_kind]").select_option("municipality")
    form.locator("select[name=interventions-0-provider]").select_option(label=MUNICIPALITY)
    form.locator("textarea[name=actions-0-what]").fill(ACTION_COUNSELLOR)
    form.locator("select[name=actions-0-participant]").select_option(
        label="Peter Nyström (Elevhälsan Ekbyskolan)"
    )
    form.locator("input[name=actions-0-due_date]").fill(iso(today + datetime.timedelta(days=7)))
    form.locator("textarea[name=actions-1-what]").fill(ACTION_FATHER)
    form.locator("input[name=actions-1-responsible_other]").fill("Pappa")
    form.locator("input[name=actions-1-due_date]").fill(iso(today + datetime.timedelta(days=14)))
    form.locator("select[name=plan-coordinator]").select_option(
        label="Peter Nyström (Elevhälsan Ekbyskolan)"
    )
    form.get_by_role("button", name=sv("Save the plan")).click()
    expect(principal).to_have_url(path_is(plan_path))
    expect(messages(principal)).to_contain_text(
        sv("Version %(number)s of the plan has been saved.") % {"number": 1}
    )
    current = principal.locator("section.plan-current")
    expect(current.locator(".child-voice")).to_contain_text(VOICE)
    expect(current.locator("table.plan-actions")).to_contain_text(ACTION_COUNSELLOR)
    expect(current.locator("table.plan-actions")).to_contain_text("Pappa")
    expect(current.locator("dd.coordinator")).to_have_text("Peter Nyström")

    stale = plan_form(counsellor)
    fill_required(stale, STALE_NEEDS, today + datetime.timedelta(days=28))
    stale.get_by_role("button", name=sv("Save the plan")).click()
    summary = counsellor.locator(".error-summary")
    expect(summary).to_contain_text(
        sv(
            "Someone else saved the plan while you were writing: version %(number)s is now the "
            "newest. Nothing you wrote is lost: it is kept below. Compare it with the newer "
            "version and save again."
        )
        % {"number": 1}
    )
    expect(summary.locator(f"a[href='{plan_path}versioner/1/']")).to_be_visible()
    expect(plan_form(counsellor).locator("textarea[name=plan-needs]")).to_have_value(STALE_NEEDS)

    # === 4. The family's copy as a PDF ======================================================
    try:
        pdf_path = reverse("plans:family_copy_pdf", args=[plan_pk])
    except NoReverseMatch:
        pdf_path = ""
    if pdf_path:
        response = principal.request.get(f"{pdf_path}?sprak=sv")
        assert response.status == 200, response.status
        assert response.body().startswith(b"%PDF"), response.headers

    # === 5. The follow-up: a new version, both readable, the date on "To do" ================
    principal.get_by_role("link", name=sv("Schedule a meeting"), exact=True).click()
    expect(principal.locator("select[name=kind]")).to_have_value("follow_up")
    principal.locator("input[name=day]").fill(iso(today))
    principal.locator("input[name=time]").fill("15:00")
    principal.get_by_role("button", name=sv("Schedule the meeting")).click()
    expect(messages(principal)).to_contain_text(sv("The meeting has been scheduled."))
    principal.get_by_role("link", name=sv("Follow up the plan"), exact=True).click()
    expect(principal).to_have_url(path_is(f"{plan_path}uppfoljning/"))
    form = plan_form(principal)
    form.locator("select[name=follow-meeting]").select_option(index=1)
    form.locator("textarea[name=follow-evaluation]").fill("Rasterna har blivit lugnare.")
    evaluations = form.locator("fieldset.evaluation")
    expect(evaluations).to_have_count(2)
    counsellor_row = evaluations.filter(has_text=ACTION_COUNSELLOR)
    counsellor_row.locator("select[name$=-status]").select_option("done")
    counsellor_row.locator("textarea[name$=-evaluation]").fill("Fungerade varje dag.")
    father_row = evaluations.filter(has_text=ACTION_FATHER)
    father_row.locator("select[name$=-status]").select_option("ongoing")
    father_row.locator("input[name$=-continue_until]").fill(
        iso(today + datetime.timedelta(days=20))
    )
    next_follow_up = today + datetime.timedelta(days=60)
    form.locator("input[name=plan-next_follow_up]").fill(iso(next_follow_up))
    form.get_by_role("button", name=sv("Save the follow-up as a new version")).click()
    expect(principal).to_have_url(path_is(plan_path))
    expect(messages(principal)).to_contain_text(
        sv("Version %(number)s of the plan has been saved.") % {"number": 2}
    )
    actions = principal.locator("section.plan-current table.plan-actions")
    expect(actions).to_contain_text("Fungerade varje dag.")
    expect(actions.locator("tr", has_text=ACTION_FATHER)).to_contain_text(
        iso(today + datetime.timedelta(days=20))
    )

    principal.locator(f"main a[href='{plan_path}versioner/']").click()
    expect(principal).to_have_url(path_is(f"{plan_path}versioner/"))
    rows = principal.locator("table.plan-versions tbody tr")
    expect(rows).to_have_count(2)
    rows.filter(has_text=sv("Version %(number)s") % {"number": 1}).get_by_role("link").click()
    expect(principal).to_have_url(path_is(f"{plan_path}versioner/1/"))
    expect(principal.locator("main")).to_contain_text(NEEDS)

    principal.locator("nav.main-nav").get_by_role("link", name=sv("To do"), exact=True).click()
    sip_section = principal.locator("section[aria-labelledby=plans-title]")
    row = sip_section.locator("tr", has_text=child_name)
    expect(row).to_contain_text(sv("Follow-up %(date)s") % {"date": iso(next_follow_up)})
    expect(row.get_by_role("link", name=child_name)).to_have_attribute("href", plan_path)

    assert not problems.all(), "\n".join(problems.all())
