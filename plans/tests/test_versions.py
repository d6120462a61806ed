"""The plan's content: each save makes a new immutable version; a stale save is refused with a
clear message and nothing lost (optimistic locking)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from conftest import request_as
from directory.models import Organisation
from plans import services
from plans.child_voice import voice_prompt
from plans.models import Plan, PlanIntervention, PlanVersion
from plans.services import ActionRow, InterventionRow, PlanConflict, PlanError

from .sip_helpers import (
    content,
    english,
    english_messages,  # noqa: F401 - a fixture
    municipality,
    save,
    started,
    with_therapist,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


def test_the_first_save_makes_version_one_with_what_the_law_asks_for(cast):
    plan = started(cast)
    version = save(cast, plan)
    plan.refresh_from_db()
    assert (version.number, version.kind) == (1, PlanVersion.Kind.FIRST)
    assert plan.current_number == 1
    assert plan.next_follow_up == version.next_follow_up
    assert [g.text for g in version.goals.all()] == ["Barnet sover hela natten"]  # empty ignored
    assert [
        (i.provider_kind, i.provider, i.provider_other) for i in version.interventions.all()
    ] == [
        ("municipality", municipality(), ""),
        ("other", None, "Mormor"),
    ]
    actions = list(version.actions.all())
    assert (actions[0].responsible, actions[0].unit) == (cast.nurse, cast.bvc)
    assert (actions[1].responsible, actions[1].responsible_other) == (None, "Vårdnadshavarna")
    assert version.child_voice == "Jag vill sova i min egen säng."
    assert (version.created_by, version.created_unit) == (cast.nurse, cast.bvc)
    assert AccessEvent.objects.filter(action=Action.PLAN_SAVE, child_id=plan.child_id).count() == 1


def test_every_version_stays_as_it_was_saved(cast):
    plan = started(cast)
    save(cast, plan)
    save(cast, plan, needs="Nu går det bättre.", goals=["Ny målbild"])
    first, second = PlanVersion.objects.filter(plan=plan).order_by("number")
    assert first.needs == "Sover dåligt, oro i förskolan."
    assert [g.text for g in first.goals.all()] == ["Barnet sover hela natten"]
    assert (second.number, second.kind, second.needs) == (2, "revision", "Nu går det bättre.")


def test_two_stale_saves_are_refused_and_nothing_is_written(cast):
    plan = started(cast)
    with_therapist(cast, plan)
    save(cast, plan)  # version 1
    save(cast, plan, based_on=1, needs="Sjuksköterskan skrev först")  # version 2
    for who in (cast.nurse, cast.family_therapist):
        with pytest.raises(PlanConflict) as refused:
            save(cast, plan, based_on=1, by=who, needs="Skrivet på en gammal version")
        assert refused.value.current_number == 2
        assert "version 2" in str(refused.value)
    plan.refresh_from_db()
    assert plan.current_number == 2
    assert PlanVersion.objects.filter(plan=plan).count() == 2
    assert not PlanVersion.objects.filter(needs="Skrivet på en gammal version").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"needs": "  "}, "needs"),
        ({"next_follow_up": datetime.date(2020, 1, 1)}, "after today"),
        ({"child_voice_method": "not_yet"}, "child's voice"),
        (
            {
                "interventions": [
                    InterventionRow(what="Logoped", provider_kind="region", provider=None)
                ]
            },
            "responsible body",
        ),
        ({"interventions": [InterventionRow(what="Stöd", provider_kind="other")]}, "who provides"),
        (
            {
                "actions": [
                    ActionRow(
                        what="Ringa", due_date=datetime.date(2099, 1, 1), responsible_other=""
                    )
                ]
            },
            "who does",
        ),
    ],
)
def test_incomplete_content_is_refused_and_nothing_saved(cast, overrides, message):
    plan = started(cast)
    with pytest.raises(PlanError, match=message):
        save(cast, plan, **overrides)
    assert not PlanVersion.objects.exists()


def test_a_region_provides_only_through_a_region(cast):
    plan = started(cast)
    wrong = InterventionRow(what="Logoped", provider_kind="region", provider=municipality())
    with pytest.raises(PlanError, match="responsible body"):
        save(cast, plan, interventions=[wrong])
    region = Organisation.objects.create(name="Region Test", kind=Organisation.Kind.REGION)
    right = InterventionRow(what="Logoped", provider_kind="region", provider=region)
    assert save(cast, plan, interventions=[right]).interventions.get().provider == region


def test_the_coordinator_is_a_professional_taking_part(cast):
    plan = started(cast)
    with pytest.raises(PlanError, match="coordinator"):
        save(cast, plan, coordinator=cast.family_therapist)
    with_therapist(cast, plan)
    assert save(cast, plan, coordinator=cast.family_therapist).coordinator == cast.family_therapist


def test_an_ended_plan_cannot_be_saved(cast):
    plan = started(cast)
    Plan.objects.filter(pk=plan.pk).update(status=Plan.Status.ENDED, ended_at=timezone.now())
    with pytest.raises(PlanError, match="ended"):
        save(cast, plan)


def _post_data(plan, based_on, needs="Behov", voice="Barnets ord", goal="Ett mål"):
    nurse = plan.participants.get(professional=plan.started_by)
    due = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    return {
        "plan-based_on": based_on,
        "plan-needs": needs,
        "plan-child_voice": voice,
        "plan-child_voice_method": "trusted_person",
        "plan-child_voice_by": "Mormor",
        "plan-family_view": "Familjens syn",
        "plan-overall_responsibility": municipality().pk,
        "plan-coordinator": plan.started_by.pk,
        "plan-next_follow_up": (timezone.localdate() + datetime.timedelta(days=60)).isoformat(),
        "goals-TOTAL_FORMS": 2,
        "goals-INITIAL_FORMS": 0,
        "goals-0-text": goal,
        "goals-1-text": "",
        "interventions-TOTAL_FORMS": 2,
        "interventions-INITIAL_FORMS": 0,
        "interventions-0-what": "Föräldrastöd",
        "interventions-0-provider_kind": "municipality",
        "interventions-0-provider": municipality().pk,
        "interventions-1-what": "",
        "actions-TOTAL_FORMS": 3,
        "actions-INITIAL_FORMS": 0,
        "actions-0-what": "Sömnsamtal",
        "actions-0-participant": nurse.pk,
        "actions-0-due_date": due,
        "actions-0-status": "planned",
        "actions-1-what": "Sömndagbok",
        "actions-1-responsible_other": "Pappa",
        "actions-1-due_date": due,
        "actions-1-status": "planned",
        "actions-2-what": "",
        "actions-2-status": "planned",
    }


def test_the_plan_page_writes_a_version_and_ignores_empty_rows(cast, as_user):
    plan = started(cast)
    client = english(as_user(cast.nurse))
    url = reverse("plans:plan_edit", args=[plan.pk])
    page = client.get(url).content.decode()
    assert voice_prompt(plan.child.birth_date) in page.replace("&#x27;", "'")
    response = client.post(url, _post_data(plan, 0))
    assert response.status_code == 302, response.context and response.context["errors"]
    version = PlanVersion.objects.get(plan=plan)
    assert version.goals.count() == 1
    assert version.interventions.count() == 1
    assert [a.what for a in version.actions.all()] == ["Sömnsamtal", "Sömndagbok"]
    assert version.child_voice_method == "trusted_person"
    detail = client.get(reverse("plans:plan_detail", args=[plan.pk])).content.decode()
    assert "Barnets ord" in detail
    assert "Sömndagbok" in detail


def test_a_stale_form_is_refused_with_the_users_text_kept_and_the_newer_version_named(
    cast, as_user
):
    plan = started(cast)
    with_therapist(cast, plan)
    first = english(as_user(cast.nurse))
    second = english(as_user(cast.family_therapist))
    url = reverse("plans:plan_edit", args=[plan.pk])
    assert first.post(url, _post_data(plan, 0, needs="Sjuksköterskans text")).status_code == 302

    response = second.post(
        url, _post_data(plan, 0, needs="Familjebehandlarens text", goal="Mitt mål")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Someone else saved the plan while you were writing: version 1 is now the newest" in body
    assert "Familjebehandlarens text" in body
    assert "Mitt mål" in body
    assert reverse("plans:version_detail", args=[plan.pk, 1]) in body
    assert response.context["form"]["based_on"].value() == "1"
    assert PlanVersion.objects.filter(plan=plan).count() == 1

    # Saving again from the kept text builds on the newer version.
    retry = second.post(url, _post_data(plan, 1, needs="Familjebehandlarens text"))
    assert retry.status_code == 302
    assert PlanVersion.objects.get(plan=plan, number=2).needs == "Familjebehandlarens text"


def test_bad_plan_input_is_a_form_error_and_nothing_is_saved(cast, as_user):
    plan = started(cast)
    data = _post_data(plan, 0, needs="")
    data["actions-0-due_date"] = ""
    data["interventions-0-provider"] = ""
    response = english(as_user(cast.nurse)).post(reverse("plans:plan_edit", args=[plan.pk]), data)
    assert response.status_code == 200
    messages = " ".join(message for _anchor, message in response.context["errors"])
    assert "Needs and background" in messages
    assert "By when" in messages
    assert "Responsible body" in messages
    assert not PlanVersion.objects.exists()


def test_earlier_versions_stay_readable_in_the_version_list(cast, as_user):
    plan = started(cast)
    save(cast, plan, needs="Första texten")
    save(cast, plan, needs="Andra texten")
    client = english(as_user(cast.nurse))
    listing = client.get(reverse("plans:version_list", args=[plan.pk])).content.decode()
    assert reverse("plans:version_detail", args=[plan.pk, 1]) in listing
    assert reverse("plans:version_detail", args=[plan.pk, 2]) in listing
    old = client.get(reverse("plans:version_detail", args=[plan.pk, 1])).content.decode()
    assert "Första texten" in old and "An earlier version" in old
    assert client.get(reverse("plans:version_detail", args=[plan.pk, 3])).status_code == 404


@pytest.mark.parametrize(
    ("age", "words"),
    [(1, "observe"), (4, "pictures"), (9, "What works well"), (15, "own words")],
)
def test_the_childs_voice_prompt_follows_the_childs_age(age, words):
    today = datetime.date(2026, 6, 1)
    born = today.replace(year=today.year - age) - datetime.timedelta(days=1)
    assert words in voice_prompt(born, today)


def test_the_prompt_changes_on_the_birthday():
    born = datetime.date(2020, 6, 2)
    assert "3–5" not in voice_prompt(born, datetime.date(2023, 6, 1))
    assert "3–5" in voice_prompt(born, datetime.date(2023, 6, 2))


def test_revision_keeps_track_of_the_action_it_continues(cast):
    plan = started(cast)
    version = save(cast, plan)
    previous = version.actions.first()
    nurse = plan.participants.get(professional=cast.nurse)
    carried = ActionRow(
        what=previous.what, due_date=previous.due_date, participant=nurse, source=previous
    )
    revised = services.plan_save(
        request=request_as(cast.nurse),
        plan=plan,
        based_on=1,
        content=content(plan, actions=[carried]),
    )
    assert revised.actions.get().carried_from == previous
    assert PlanIntervention.objects.filter(version=version).count() == 2
