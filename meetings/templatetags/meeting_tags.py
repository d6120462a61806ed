"""Template helpers of the meeting pages."""

from __future__ import annotations

import datetime

from django import template
from django.utils.translation import gettext as _

from directory.models import Team

register = template.Library()


@register.filter
def cadence(team: Team) -> str:
    """The team's rhythm in words, e.g. "Monthly, the first Tuesday, 13:00-14:00"."""
    weekday = Team.Weekday(team.weekday).label
    if team.cadence == Team.Cadence.MONTHLY:
        ordinals = {1: _("first"), 2: _("second"), 3: _("third"), 4: _("fourth"), 5: _("fifth")}
        day = _("the %(ordinal)s %(weekday)s") % {
            "ordinal": ordinals.get(team.week_of_month, team.week_of_month),
            "weekday": weekday,
        }
    else:
        day = str(weekday)
    start = datetime.datetime.combine(datetime.date(2000, 1, 3), team.start_time)
    end = start + datetime.timedelta(minutes=team.duration_minutes)
    return _("%(cadence)s, %(day)s, %(start)s–%(end)s") % {
        "cadence": Team.Cadence(team.cadence).label,
        "day": day,
        "start": f"{start:%H:%M}",
        "end": f"{end:%H:%M}",
    }
