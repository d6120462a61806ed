"""Meetings are generated ahead from each team's cadence, idempotently."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from directory.models import Team
from meetings.models import Meeting
from meetings.services import meetings_generate

pytestmark = pytest.mark.django_db


def _local(meeting: Meeting) -> tuple[datetime.date, datetime.time, datetime.time]:
    starts, ends = timezone.localtime(meeting.starts_at), timezone.localtime(meeting.ends_at)
    return starts.date(), starts.time(), ends.time()


def test_a_monthly_team_meets_the_first_tuesday_of_each_month_at_its_time(cast):
    meetings = meetings_generate(
        team=cast.bht_team, start=datetime.date(2026, 1, 1), end=datetime.date(2026, 6, 30)
    )
    assert [_local(m) for m in meetings] == [
        (day, datetime.time(13), datetime.time(14))
        for day in [
            datetime.date(2026, 1, 6),
            datetime.date(2026, 2, 3),
            datetime.date(2026, 3, 3),
            datetime.date(2026, 4, 7),  # 1 April is a Wednesday: the first Tuesday is the 7th
            datetime.date(2026, 5, 5),
            datetime.date(2026, 6, 2),
        ]
    ]


def test_the_local_time_holds_across_the_change_to_summer_time(cast):
    """13:00 in Stockholm is 12:00 UTC in winter and 11:00 UTC in summer."""
    winter, summer = meetings_generate(
        team=cast.bht_team, start=datetime.date(2026, 3, 1), end=datetime.date(2026, 4, 30)
    )
    assert winter.starts_at.astimezone(datetime.UTC).hour == 12
    assert summer.starts_at.astimezone(datetime.UTC).hour == 11


def test_a_weekly_team_meets_every_week_on_its_weekday(cast):
    team = cast.hlt_team
    team.cadence, team.weekday = Team.Cadence.WEEKLY, Team.Weekday.THURSDAY
    team.save()
    meetings = meetings_generate(
        team=team, start=datetime.date(2026, 1, 1), end=datetime.date(2026, 1, 31)
    )
    assert [_local(m)[0].day for m in meetings] == [1, 8, 15, 22, 29]


def test_generating_twice_keeps_the_existing_meetings(cast):
    start, end = datetime.date(2026, 1, 1), datetime.date(2026, 6, 30)
    first = meetings_generate(team=cast.bht_team, start=start, end=end)
    Meeting.objects.filter(pk=first[0].pk).update(closed_at=timezone.now())
    again = meetings_generate(team=cast.bht_team, start=start, end=end)
    assert [m.pk for m in again] == [m.pk for m in first]
    assert Meeting.objects.count() == 6
    assert Meeting.objects.get(pk=first[0].pk).is_closed


def test_the_command_generates_for_every_team_and_a_second_run_adds_nothing(cast):
    out = io.StringIO()
    call_command(
        "generate_meetings", "--start", "2026-01-01", "--months", "3", stdout=out, verbosity=0
    )
    # January to March, and 1 April (a Wednesday) has no first Tuesday yet: 3 each.
    assert Meeting.objects.filter(team=cast.bht_team).count() == 3
    assert Meeting.objects.filter(team=cast.hlt_team).count() == 3
    assert out.getvalue().startswith("6 new meetings")
    out = io.StringIO()
    call_command(
        "generate_meetings", "--start", "2026-01-01", "--months", "3", stdout=out, verbosity=0
    )
    assert Meeting.objects.count() == 6
    assert out.getvalue().startswith("0 new meetings")


def test_the_command_starts_today_and_looks_ahead_by_the_setting(cast, settings):
    settings.MEETINGS_AHEAD_MONTHS = 2
    call_command("generate_meetings", stdout=io.StringIO(), verbosity=0)
    today = timezone.localdate()
    starts = [timezone.localdate(m.starts_at) for m in Meeting.objects.all()]
    assert starts and all(today <= day <= today + datetime.timedelta(days=62) for day in starts)


@pytest.mark.parametrize(
    "args", [["--start", "2026-13-01"], ["--start", "tomorrow"], ["--months", "0"]]
)
def test_the_command_refuses_bad_arguments_with_a_clear_error(cast, args):
    with pytest.raises(CommandError):
        call_command("generate_meetings", *args, stdout=io.StringIO(), verbosity=0)
    assert Meeting.objects.count() == 0
