"""Team meetings: generating the series, the agenda, minutes with optimistic locking,
attendance, closing, and audited amendments of closed minutes."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Action as AuditAction
from audit.services import Access, access_log_many
from cases.models import Action, Concern, Theme
from consent import policy
from consent.models import Consent
from consent.policy import Purpose
from directory.models import Professional, Team

from .models import AgendaItem, Amendment, Attendance, Meeting

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class MeetingError(ValueError):
    """A meeting act that cannot be carried out; the message is for the user."""


class StaleEdit(MeetingError):
    """Someone else saved the minutes since this user opened them."""


def meeting_dates(team: Team, start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The team's meeting days from `start` to `end`, by its cadence."""
    days = []
    if team.cadence == Team.Cadence.MONTHLY:
        month = start.replace(day=1)
        while month <= end:
            first = month + datetime.timedelta(days=(team.weekday - month.weekday()) % 7)
            day = first + datetime.timedelta(weeks=team.week_of_month - 1)
            if day.month == month.month and start <= day <= end:
                days.append(day)
            month += relativedelta(months=1)
    else:
        step = 1 if team.cadence == Team.Cadence.WEEKLY else 2
        day = start + datetime.timedelta(days=(team.weekday - start.weekday()) % 7)
        while day <= end:
            days.append(day)
            day += datetime.timedelta(weeks=step)
    return days


def meetings_generate(
    *, team: Team, start: datetime.date | None = None, end: datetime.date | None = None
) -> list[Meeting]:
    """Create the team's meetings ahead (idempotent: existing ones are kept as they are)."""
    start = start or timezone.localdate()
    end = end or start + relativedelta(months=settings.MEETINGS_AHEAD_MONTHS)
    tz = timezone.get_current_timezone()
    meetings = []
    for day in meeting_dates(team, start, end):
        starts = datetime.datetime.combine(day, team.start_time, tz)
        meeting, _created = Meeting.objects.get_or_create(
            team=team,
            starts_at=starts,
            defaults={"ends_at": starts + datetime.timedelta(minutes=team.duration_minutes)},
        )
        meetings.append(meeting)
    return meetings


def _member(user: Professional | AnonymousUser, team: Team) -> None:
    if team not in policy.teams_of(user):
        raise MeetingError(_("You are not a member of this team."))


def item_nominate(*, request: HttpRequest, meeting: Meeting, concern: Concern) -> AgendaItem:
    """Put a case on a meeting's agenda. In teams that ask for consent in advance (HLT), an
    identified case needs the guardians' consent to team discussion first."""
    user = request.user
    team = meeting.team
    _member(user, team)
    if meeting.is_closed:
        raise MeetingError(_("The meeting is closed."))
    if concern.created_by_id != user.pk and concern.team_id != team.pk:
        raise MeetingError(_("Only the person who noticed the child nominates the case."))
    if concern.child_id and team.consent_before_identified:
        has_consent = (
            Consent.objects.effective()
            .filter(child_id=concern.child_id, purpose=Purpose.TEAM_DISCUSSION, team=team)
            .exists()
        )
        if not has_consent:
            raise MeetingError(
                _("This team discusses a named child only with the guardians' consent in force.")
            )
    with transaction.atomic():
        if concern.team_id is None:
            Concern.objects.filter(pk=concern.pk).update(team=team)
        item, created = AgendaItem.objects.get_or_create(
            meeting=meeting,
            concern=concern,
            defaults={
                "nominated_by": policy.acting_professional(user),
                "position": meeting.items.count() + 1,
            },
        )
        if not created:
            raise MeetingError(_("The case is already on this meeting's agenda."))
    return item


def _identified(request: HttpRequest, items: Iterable[AgendaItem], action: str) -> None:
    """Log the identified children among `items` that the user is shown."""
    items = list(items)
    children = [item.concern.child for item in items if item.concern.child is not None]
    team = items[0].meeting.team if items else None
    decisions = policy.decide_children(request.user, children, Purpose.TEAM_DISCUSSION, team=team)
    access_log_many(
        request=request,
        accesses=[
            Access(action, Purpose.TEAM_DISCUSSION, decisions[child.pk], child)
            for child in children
            if decisions[child.pk].allowed
        ],
    )


def minutes_save(
    *,
    request: HttpRequest,
    item: AgendaItem,
    version: int,
    discussion: str,
    decisions: str,
    themes: list[Theme],
    contact_person: Professional | None,
) -> AgendaItem:
    """Save an item's minutes if nobody else saved since `version`; else StaleEdit."""
    meeting = item.meeting
    _member(request.user, meeting.team)
    if meeting.is_closed:
        raise MeetingError(_("The meeting is closed: correct its minutes with an amendment."))
    if contact_person is not None and meeting.team not in policy.teams_of(contact_person):
        raise MeetingError(_("The contact person must be a member of the team."))
    with transaction.atomic():
        # The meeting's row lock orders this save after a racing close and after other saves
        # of its minutes, so the version check below sees the committed row. (A join to the
        # meeting inside the UPDATE let two saves of the same version both through on
        # PostgreSQL: the joined row is read as the statement began. bench/concurrent_edits.py)
        closed_at = (
            Meeting.objects.select_for_update()
            .values_list("closed_at", flat=True)
            .get(pk=meeting.pk)
        )
        updated = closed_at is None and AgendaItem.objects.filter(
            pk=item.pk, version=version
        ).update(discussion=discussion, decisions=decisions, version=F("version") + 1)
        if not updated:
            if closed_at is not None:
                raise MeetingError(
                    _("The meeting is closed: correct its minutes with an amendment.")
                )
            raise StaleEdit(
                _(
                    "Someone else saved these minutes while you were writing. Your text is kept "
                    "below: compare it with theirs and save again."
                )
            )
        item.themes.set(themes)
        concern_fields: dict[str, object] = {
            "contact_person": contact_person or item.concern.created_by
        }
        if meeting.team.working_model == Team.Model.HLT and item.concern.feedback_due is None:
            concern_fields["feedback_due"] = timezone.localdate(meeting.starts_at) + (
                datetime.timedelta(days=settings.FAMILY_FEEDBACK_DAYS)
            )
        Concern.objects.filter(pk=item.concern_id).update(**concern_fields)
        _identified(request, [item], AuditAction.MINUTES_SAVE)
    item.refresh_from_db()
    return item


def action_add(
    *,
    request: HttpRequest,
    item: AgendaItem,
    what: str,
    responsible: Professional,
    due_date: datetime.date,
) -> Action:
    team = item.meeting.team
    _member(request.user, team)
    if item.meeting.is_closed:
        raise MeetingError(_("The meeting is closed."))
    if team not in policy.teams_of(responsible):
        raise MeetingError(_("The responsible person must be a member of the team."))
    if not what.strip():
        raise MeetingError(_("Say what is to be done."))
    return Action.objects.create(
        agenda_item=item,
        concern=item.concern,
        team=team,
        what=what.strip(),
        responsible=responsible,
        due_date=due_date,
        created_by=policy.acting_professional(request.user),
    )


def attendance_set(*, request: HttpRequest, meeting: Meeting, present: set[int]) -> None:
    if not policy.may_run_meeting(request.user, meeting.team):
        raise MeetingError(_("Only the coordinator records attendance."))
    if meeting.is_closed:
        raise MeetingError(_("The meeting is closed."))
    members = set(meeting.team.memberships.values_list("professional_id", flat=True))
    with transaction.atomic():
        for person in members:
            Attendance.objects.update_or_create(
                meeting=meeting, professional_id=person, defaults={"present": person in present}
            )


def meeting_close(*, request: HttpRequest, meeting: Meeting) -> None:
    """Close the meeting: its minutes are locked from now on."""
    if not policy.may_run_meeting(request.user, meeting.team):
        raise MeetingError(_("Only the coordinator closes the meeting."))
    Meeting.objects.filter(pk=meeting.pk, closed_at__isnull=True).update(
        closed_at=timezone.now(), closed_by=policy.acting_professional(request.user)
    )


AMENDABLE = ("discussion", "decisions")


def item_amend(
    *, request: HttpRequest, item: AgendaItem, field: str, new_value: str, reason: str
) -> Amendment:
    """Correct locked minutes: the old text, the new text and the reason are all kept."""
    if not policy.may_run_meeting(request.user, item.meeting.team):
        raise MeetingError(_("Only the coordinator amends closed minutes."))
    if not item.meeting.is_closed:
        raise MeetingError(_("The meeting is open: edit the minutes directly."))
    if field not in AMENDABLE:
        raise MeetingError(_("That part of the minutes cannot be amended."))
    if not reason.strip():
        raise MeetingError(_("Give the reason for the correction."))
    with transaction.atomic():
        old = getattr(item, field)
        amendment = Amendment.objects.create(
            item=item,
            field=field,
            old_value=old,
            new_value=new_value,
            reason=reason.strip(),
            made_by=policy.acting_professional(request.user),
        )
        AgendaItem.objects.filter(pk=item.pk).update(**{field: new_value}, version=F("version") + 1)
        _identified(request, [item], AuditAction.MINUTES_AMEND)
    return amendment


def open_actions_before(meeting: Meeting):  # type: ignore[no-untyped-def]
    """Unfinished actions from the team's earlier meetings, to follow up at this one."""
    return (
        Action.objects.filter(
            team=meeting.team,
            done_at__isnull=True,
            agenda_item__meeting__starts_at__lt=meeting.starts_at,
        )
        .select_related("responsible", "agenda_item__meeting")
        .order_by("due_date", "pk")
    )
