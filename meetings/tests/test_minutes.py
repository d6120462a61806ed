"""Minutes with optimistic locking, actions followed up at the next meeting, attendance,
closing (coordinator only) and audited amendments of closed minutes."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from cases.models import Action as CaseAction
from cases.models import Concern, Theme
from conftest import request_as
from meetings import services
from meetings.models import AgendaItem, Amendment, Attendance, Meeting
from tests import factories

from .conftest import make_concern, make_meeting, nominate

pytestmark = pytest.mark.django_db

STALE = (
    "Someone else saved these minutes while you were writing. Your text is kept below: "
    "compare it with theirs and save again."
)


@pytest.fixture
def item(cast) -> AgendaItem:
    meeting = make_meeting(cast.bht_team)
    return nominate(cast.nurse, meeting, make_concern(cast.nurse, cast.bvc))


def _minutes(item: AgendaItem, version: int, discussion: str, **extra: object) -> dict:
    prefix = f"minutes-{item.pk}"
    data = {
        f"{prefix}-version": version,
        f"{prefix}-discussion": discussion,
        f"{prefix}-decisions": extra.pop("decisions", ""),
        f"{prefix}-contact_person": extra.pop("contact_person", item.concern.created_by_id),
    }
    data.update({f"{prefix}-{key}": value for key, value in extra.items()})
    return data


def _save(client, item, data):
    return client.post(reverse("meetings:minutes_save", args=[item.pk]), data)


def _form(response, prefix: str):
    for name in ("close_form", "done_form", "attendance_form"):
        form = response.context.get(name)
        if form is not None and form.prefix == prefix:
            return form
    for row in response.context["rows"]:
        forms = [row.minutes_form, row.action_form, *(form for _, form in row.amend_forms)]
        for form in forms:
            if form is not None and form.prefix == prefix:
                return form
    raise AssertionError(f"no form {prefix}")


def test_minutes_are_saved_with_themes_and_the_person_who_contacts_the_family(cast, login, item):
    themes = list(Theme.objects.filter(active=True)[:2])
    page = login(cast.family_therapist).get(
        reverse("meetings:meeting_detail", args=[item.meeting.pk])
    )
    form = _form(page, f"minutes-{item.pk}")
    assert form.initial["version"] == 1
    assert form.initial["contact_person"] == cast.nurse.pk  # who noticed, by default
    response = _save(
        login(cast.family_therapist),
        item,
        _minutes(
            item,
            1,
            "Talked it through.",
            decisions="Offer a parenting group.",
            themes=[t.pk for t in themes],
            contact_person=cast.family_therapist.pk,
        ),
    )
    assert response.status_code == 302
    assert response.url.endswith(f"#item-{item.pk}")
    item.refresh_from_db()
    assert (item.discussion, item.decisions, item.version) == (
        "Talked it through.",
        "Offer a parenting group.",
        2,
    )
    assert set(item.themes.all()) == set(themes)
    assert Concern.objects.get(pk=item.concern_id).contact_person == cast.family_therapist


def test_a_stale_save_is_refused_and_the_users_text_is_kept(cast, login, item):
    first, second = login(cast.nurse), login(cast.family_therapist)
    url = reverse("meetings:meeting_detail", args=[item.meeting.pk])
    for client in (first, second):
        assert _form(client.get(url), f"minutes-{item.pk}").initial["version"] == 1

    assert _save(first, item, _minutes(item, 1, "The nurse's account.")).status_code == 302
    response = _save(second, item, _minutes(item, 1, "The therapist's account."))

    assert response.status_code == 200
    form = _form(response, f"minutes-{item.pk}")
    assert form.non_field_errors() == [STALE]
    assert form.conflict
    body = response.content.decode()
    assert STALE in body
    assert "The therapist&#x27;s account." in body  # in the form, to save again
    assert "The nurse&#x27;s account." in body  # theirs, beside it, to compare
    item.refresh_from_db()
    assert (item.discussion, item.version) == ("The nurse's account.", 2)

    # The re-rendered form builds on the stored version: saving again (after comparing) works.
    assert form["version"].value() == "2"
    again = _save(second, item, _minutes(item, 2, "Both accounts, merged."))
    assert again.status_code == 302
    item.refresh_from_db()
    assert (item.discussion, item.version) == ("Both accounts, merged.", 3)


def test_a_contact_person_outside_the_team_is_refused(cast, login, item):
    response = _save(
        login(cast.nurse), item, _minutes(item, 1, "Text", contact_person=cast.outsider.pk)
    )
    assert response.status_code == 200
    assert _form(response, f"minutes-{item.pk}").errors["contact_person"]
    assert AgendaItem.objects.get(pk=item.pk).discussion == ""


def test_an_action_is_added_with_what_who_and_when(cast, login, item):
    prefix = f"action-{item.pk}"
    response = login(cast.nurse).post(
        reverse("meetings:action_add", args=[item.pk]),
        {
            f"{prefix}-what": "Book a home visit",
            f"{prefix}-responsible": cast.family_therapist.pk,
            f"{prefix}-due_date": "2026-04-01",
        },
    )
    assert response.status_code == 302
    action = CaseAction.objects.get()
    assert (action.what, action.responsible, action.due_date, action.team) == (
        "Book a home visit",
        cast.family_therapist,
        datetime.date(2026, 4, 1),
        cast.bht_team,
    )
    assert (action.agenda_item, action.concern) == (item, item.concern)


def test_an_action_with_bad_input_gets_clear_errors_and_nothing_is_added(cast, login, item):
    prefix = f"action-{item.pk}"
    response = login(cast.nurse).post(
        reverse("meetings:action_add", args=[item.pk]),
        {
            f"{prefix}-what": "",
            f"{prefix}-responsible": cast.outsider.pk,
            f"{prefix}-due_date": "1 April",
        },
    )
    assert response.status_code == 200
    form = _form(response, prefix)
    assert set(form.errors) == {"what", "responsible", "due_date"}
    assert not CaseAction.objects.exists()


def test_open_actions_from_the_previous_meeting_appear_at_the_next_until_done(cast, login):
    earlier = make_meeting(cast.bht_team, days=-28)
    item = nominate(cast.nurse, earlier, make_concern(cast.nurse, cast.bvc))
    action = services.action_add(
        request=request_as(cast.coordinator),
        item=item,
        what="Ask the speech therapist",
        responsible=cast.special_educator,
        due_date=datetime.date(2026, 3, 1),
    )
    finished = services.action_add(
        request=request_as(cast.coordinator),
        item=item,
        what="Already done",
        responsible=cast.special_educator,
        due_date=datetime.date(2026, 3, 1),
    )
    CaseAction.objects.filter(pk=finished.pk).update(done_at=timezone.now())
    later = make_meeting(cast.bht_team)
    url = reverse("meetings:meeting_detail", args=[later.pk])
    page = login(cast.nurse).get(url)
    assert [a.pk for a in page.context["open_actions"]] == [action.pk]
    assert "Ask the speech therapist" in page.content.decode()

    done_url = reverse("meetings:action_done", args=[later.pk, action.pk])
    refused = login(cast.nurse).post(done_url)  # neither responsible nor coordinator
    assert refused.status_code == 200
    assert refused.context["done_form"].non_field_errors() == [
        "Only the responsible person or the coordinator marks it done."
    ]
    assert CaseAction.objects.get(pk=action.pk).done_at is None

    response = login(cast.special_educator).post(done_url)
    assert response.status_code == 302 and response.url.endswith("#follow-up")
    assert CaseAction.objects.get(pk=action.pk).done_at is not None
    assert login(cast.nurse).get(url).context["open_actions"] == []


def test_an_action_of_another_team_cannot_be_marked_done_through_this_meeting(cast, login):
    hlt = make_meeting(cast.hlt_team)
    hlt_item = nominate(
        cast.school_counsellor, hlt, make_concern(cast.school_counsellor, cast.student_health)
    )
    action = services.action_add(
        request=request_as(cast.coordinator),
        item=hlt_item,
        what="x",
        responsible=cast.coordinator,
        due_date=datetime.date(2026, 4, 1),
    )
    bht = make_meeting(cast.bht_team)
    response = login(cast.coordinator).post(
        reverse("meetings:action_done", args=[bht.pk, action.pk])
    )
    assert response.status_code == 404
    assert CaseAction.objects.get(pk=action.pk).done_at is None


def test_the_coordinator_records_attendance(cast, login, item):
    meeting = item.meeting
    response = login(cast.coordinator).post(
        reverse("meetings:attendance", args=[meeting.pk]),
        {"attendance-present": [cast.nurse.pk, cast.family_therapist.pk]},
    )
    assert response.status_code == 302
    assert dict(
        Attendance.objects.filter(meeting=meeting).values_list("professional", "present")
    ) == {
        cast.nurse.pk: True,
        cast.family_therapist.pk: True,
        cast.special_educator.pk: False,
        cast.coordinator.pk: False,
    }
    page = login(cast.coordinator).get(reverse("meetings:meeting_detail", args=[meeting.pk]))
    assert set(page.context["attendance_form"].initial["present"]) == {
        cast.nurse.pk,
        cast.family_therapist.pk,
    }


def test_closing_locks_the_minutes(cast, login, item):
    meeting = item.meeting
    response = login(cast.coordinator).post(reverse("meetings:close", args=[meeting.pk]))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.is_closed and meeting.closed_by == cast.coordinator

    with pytest.raises(services.MeetingError):
        services.minutes_save(
            request=request_as(cast.nurse),
            item=AgendaItem.objects.get(pk=item.pk),
            version=1,
            discussion="Too late",
            decisions="",
            themes=[],
            contact_person=None,
        )
    response = _save(login(cast.nurse), item, _minutes(item, 1, "Written after closing"))
    assert response.status_code == 200
    form = _form(response, f"minutes-{item.pk}")
    assert form.non_field_errors() == [
        "The meeting is closed: correct its minutes with an amendment."
    ]
    assert "Written after closing" in response.content.decode()  # nothing lost
    assert AgendaItem.objects.get(pk=item.pk).discussion == ""
    page = login(cast.nurse).get(reverse("meetings:meeting_detail", args=[meeting.pk]))
    assert page.context["rows"][0].minutes_form is None
    assert page.context["rows"][0].action_form is None


def test_a_save_racing_the_close_is_refused_as_closed_not_written(cast, item):
    loaded = AgendaItem.objects.select_related("meeting").get(pk=item.pk)  # still open here
    services.meeting_close(request=request_as(cast.coordinator), meeting=item.meeting)
    with pytest.raises(services.MeetingError) as refused:
        services.minutes_save(
            request=request_as(cast.nurse),
            item=loaded,
            version=1,
            discussion="Written while the coordinator closed",
            decisions="",
            themes=[],
            contact_person=None,
        )
    assert not isinstance(refused.value, services.StaleEdit)
    assert AgendaItem.objects.get(pk=item.pk).discussion == ""


def _amend(client, item, part: str, new_value: str, reason: str):
    prefix = f"amend-{item.pk}-{part}"
    return client.post(
        reverse("meetings:amend", args=[item.pk]),
        {"part": part, f"{prefix}-new_value": new_value, f"{prefix}-reason": reason},
    )


def test_an_amendment_of_closed_minutes_keeps_the_old_text_the_new_and_the_reason(cast, login):
    meeting = make_meeting(cast.bht_team)
    child = factories.child(bvc=cast.bvc)
    item = nominate(cast.nurse, meeting, make_concern(cast.nurse, cast.bvc, child=child))
    AgendaItem.objects.filter(pk=item.pk).update(decisions="Refer to the psychologist.")
    services.meeting_close(request=request_as(cast.coordinator), meeting=meeting)
    response = _amend(
        login(cast.coordinator),
        item,
        "decisions",
        "Refer to the speech therapist.",
        "Wrong service written in the meeting.",
    )
    assert response.status_code == 302
    amendment = Amendment.objects.get()
    assert (
        amendment.field,
        amendment.old_value,
        amendment.new_value,
        amendment.reason,
        amendment.made_by,
    ) == (
        "decisions",
        "Refer to the psychologist.",
        "Refer to the speech therapist.",
        "Wrong service written in the meeting.",
        cast.coordinator,
    )
    assert AgendaItem.objects.get(pk=item.pk).decisions == "Refer to the speech therapist."
    page = login(cast.nurse).get(reverse("meetings:meeting_detail", args=[meeting.pk]))
    body = page.content.decode()
    assert "Wrong service written in the meeting." in body
    assert "Refer to the psychologist." in body  # the text before, listed under the item
    # The coordinator does not see this child; the correction is not logged as a view of it.
    assert not AccessEvent.objects.filter(action=Action.MINUTES_AMEND).exists()


def test_an_amendment_needs_a_reason(cast, login, item):
    services.meeting_close(request=request_as(cast.coordinator), meeting=item.meeting)
    response = _amend(login(cast.coordinator), item, "discussion", "New text", "")
    assert response.status_code == 200
    form = _form(response, f"amend-{item.pk}-discussion")
    assert form.errors["reason"]
    assert "New text" in response.content.decode()
    assert not Amendment.objects.exists()


def test_an_open_meeting_is_edited_directly_not_amended(cast, login, item):
    response = _amend(login(cast.coordinator), item, "discussion", "New text", "Typo")
    assert _form(response, f"amend-{item.pk}-discussion").non_field_errors() == [
        "The meeting is open: edit the minutes directly."
    ]
    assert not Amendment.objects.exists()


def test_an_unknown_part_of_the_minutes_is_a_bad_request(cast, login, item):
    services.meeting_close(request=request_as(cast.coordinator), meeting=item.meeting)
    response = _amend(login(cast.coordinator), item, "themes", "x", "y")
    assert response.status_code == 400
    assert not Amendment.objects.exists()


# --- Coordinator-only acts: a member who is not the coordinator gets a clear refusal. ---


def test_a_member_cannot_close_the_meeting(cast, login, item):
    response = login(cast.nurse).post(reverse("meetings:close", args=[item.meeting.pk]))
    assert response.status_code == 200
    assert response.context["close_form"].non_field_errors() == [
        "Only the coordinator closes the meeting."
    ]
    assert "Only the coordinator closes the meeting." in response.content.decode()
    assert not Meeting.objects.get(pk=item.meeting.pk).is_closed


def test_a_member_cannot_record_attendance(cast, login, item):
    response = login(cast.nurse).post(
        reverse("meetings:attendance", args=[item.meeting.pk]),
        {"attendance-present": [cast.nurse.pk]},
    )
    assert response.status_code == 200
    assert response.context["attendance_form"].non_field_errors() == [
        "Only the coordinator records attendance."
    ]
    assert not Attendance.objects.exists()


def test_a_member_cannot_amend_closed_minutes(cast, login, item):
    services.meeting_close(request=request_as(cast.coordinator), meeting=item.meeting)
    response = _amend(login(cast.nurse), item, "discussion", "Mine", "Because")
    assert response.status_code == 200
    assert _form(response, f"amend-{item.pk}-discussion").non_field_errors() == [
        "Only the coordinator amends closed minutes."
    ]
    assert not Amendment.objects.exists()


def test_only_the_coordinator_is_offered_the_coordinators_forms(cast, login, item):
    url = reverse("meetings:meeting_detail", args=[item.meeting.pk])
    member = login(cast.nurse).get(url)
    coordinator = login(cast.coordinator).get(url)
    assert member.context["attendance_form"] is None
    assert coordinator.context["attendance_form"] is not None
    assert reverse("meetings:close", args=[item.meeting.pk]) not in member.content.decode()
    assert reverse("meetings:close", args=[item.meeting.pk]) in coordinator.content.decode()


# --- Outside the team: every page and every act is a 404, and nothing changes. ---


def _urls(item: AgendaItem, action: CaseAction) -> list[tuple[str, str]]:
    meeting = item.meeting
    return [
        ("get", reverse("meetings:team_detail", args=[meeting.team.pk])),
        ("get", reverse("meetings:meeting_detail", args=[meeting.pk])),
        ("get", reverse("meetings:nominate", args=[meeting.pk])),
        ("post", reverse("meetings:nominate", args=[meeting.pk])),
        ("post", reverse("meetings:minutes_save", args=[item.pk])),
        ("post", reverse("meetings:action_add", args=[item.pk])),
        ("post", reverse("meetings:action_done", args=[meeting.pk, action.pk])),
        ("post", reverse("meetings:attendance", args=[meeting.pk])),
        ("post", reverse("meetings:close", args=[meeting.pk])),
        ("post", reverse("meetings:amend", args=[item.pk])),
    ]


@pytest.mark.parametrize("who", ["outsider", "school_counsellor"])
def test_every_meeting_url_is_a_404_outside_the_team(cast, login, item, who):
    action = services.action_add(
        request=request_as(cast.coordinator),
        item=item,
        what="x",
        responsible=cast.nurse,
        due_date=datetime.date(2026, 4, 1),
    )
    client = login(getattr(cast, who))
    data = {
        **_minutes(item, 1, "Intruder"),
        "part": "discussion",
        "attendance-present": [cast.nurse.pk],
    }
    for method, url in _urls(item, action):
        response = getattr(client, method)(url, data if method == "post" else None)
        assert response.status_code == 404, (method, url)
    assert AgendaItem.objects.get(pk=item.pk).discussion == ""
    assert not Meeting.objects.get(pk=item.meeting.pk).is_closed
    assert not Attendance.objects.exists()
    assert CaseAction.objects.get(pk=action.pk).done_at is None
