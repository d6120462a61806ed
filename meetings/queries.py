"""Reads for the meeting pages: always scoped to the user's teams, identities always through
the access policy and written to the access log before they are shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from audit.models import Action as AuditAction
from audit.services import Access, access_log_many
from cases.models import Action, Theme
from consent import policy
from consent.policy import Decision, Purpose
from directory.models import Professional, Team, TeamMember

from .models import AgendaItem, Amendment, Meeting

if TYPE_CHECKING:
    from families.models import Child


def teams_for_list(user: Professional) -> QuerySet[Team]:
    """The team list: the user's teams, each with its next few meetings (fixed queries)."""
    upcoming = (
        Meeting.objects.filter(ends_at__gte=timezone.now())
        .annotate(item_count=Count("items"))
        .order_by("starts_at")
    )
    return (
        policy.teams_of(user)
        .select_related("coordinator")
        .prefetch_related(Prefetch("meetings", queryset=upcoming[:3], to_attr="upcoming"))
        .order_by("name")
    )


def meetings_of(user: Professional) -> QuerySet[Meeting]:
    """Meetings of the teams `user` sits in; anything else is a 404, like a missing one."""
    return Meeting.objects.filter(team__in=policy.teams_of(user))


def items_of(user: Professional) -> QuerySet[AgendaItem]:
    """Agenda items of the user's teams' meetings."""
    return AgendaItem.objects.filter(meeting__team__in=policy.teams_of(user)).select_related(
        "meeting__team__coordinator", "concern__created_by", "concern__child"
    )


def meeting_for_page(user: Professional, pk: int) -> Meeting | None:
    return meetings_of(user).select_related("team__coordinator", "closed_by").filter(pk=pk).first()


def agenda_for_page(meeting: Meeting) -> list[AgendaItem]:
    """The meeting page's agenda, with everything it shows: a fixed number of queries."""
    return list(
        meeting.items.select_related(
            "concern__child", "concern__created_by", "concern__contact_person"
        ).prefetch_related(
            "themes",
            Prefetch(
                "actions",
                queryset=Action.objects.select_related("responsible").order_by("due_date", "pk"),
            ),
            Prefetch("amendments", queryset=Amendment.objects.select_related("made_by")),
        )
    )


def team_members(team: Team) -> list[TeamMember]:
    return list(
        team.memberships.select_related("professional", "unit").order_by(
            "professional__last_name", "professional__first_name", "pk"
        )
    )


def themes_for(meeting: Meeting) -> list[Theme]:
    """Active themes, and any retired one already on this meeting's minutes (kept on save)."""
    on_minutes = AgendaItem.themes.through.objects.filter(agendaitem__meeting=meeting).values(
        "theme_id"
    )
    return list(Theme.objects.filter(Q(active=True) | Q(pk__in=on_minutes)))


@dataclass(frozen=True)
class Shown:
    """An identified child the user is shown on the agenda, and on what basis."""

    child: Child
    decision: Decision


def agenda_identities(request: HttpRequest, items: list[AgendaItem]) -> dict[int, Shown]:
    """The identified children among `items` that the user may see for team discussion (own
    unit, or a team-discussion consent covering the user's sector or unit), keyed by item.

    Every child returned is written to the access log here, before the page shows it; the
    other identified items are shown like anonymous ones, so nothing about them is read.

    The cost is fixed whatever the agenda holds: the policy decides all its children in the
    same three queries whichever rule shows each one, and the log is written in one batch.
    It steps only between agendas with no identified child (no decision needed), with none
    the user may see (no log write) and with some: never with the number or kind of items.
    """
    children = {item.concern.child.pk: item.concern.child for item in items if item.concern.child}
    decisions = policy.decide_children(
        request.user,
        children.values(),
        Purpose.TEAM_DISCUSSION,
        team=items[0].meeting.team if items else None,
    )
    allowed = [pk for pk in children if decisions[pk].allowed]
    access_log_many(
        request=request,
        accesses=[
            Access(
                AuditAction.VIEW_MEETING_ITEM,
                Purpose.TEAM_DISCUSSION,
                decisions[pk],
                children[pk],
            )
            for pk in allowed
        ],
    )
    return {
        item.pk: Shown(item.concern.child, decisions[item.concern.child.pk])
        for item in items
        if item.concern.child and item.concern.child.pk in allowed
    }
