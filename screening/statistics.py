"""BarnSäkert statistics for a child-health unit, and the small-cell suppression they use.

Statistics never identify anyone (architecture invariant 10): every count under
`settings.STATISTICS_MIN_CELL` is hidden, and so many more cells that no hidden count can be
worked out from the shown counts and totals (`suppress`).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from directory.models import Unit
from families.models import Child, Custody

from .models import Domain, FollowUp, Occasion, Response
from .queries import WORKLIST_MAX_AGE_DAYS

K = TypeVar("K", bound=Hashable)


def suppress(
    cells: Mapping[K, int],
    groups: Iterable[tuple[Sequence[K], K | None]] = (),
    *,
    limit: int | None = None,
) -> dict[K, int | None]:
    """`cells` with every value that must not be shown replaced by None.

    `groups` lists the cells that add up to a shown total: `(parts, total)`, the total being a
    key of `cells` too (or None when the table shows no total for those parts).

    1. Primary suppression: every count under `limit` (default `STATISTICS_MIN_CELL`) is
       hidden, zero included.
    2. Complementary suppression: a group with one hidden member gives it away (a part is the
       total minus the shown parts; a total is the sum of its parts), and hidden parts under a
       shown total that add up to nothing are all zero. So the next smallest shown part is
       hidden too, or, when every part is hidden already, the total. A cell hidden for one
       group can leave another group with a single hidden cell (a total is often a part of a
       larger group), so the groups are checked again until nothing changes.
    """
    limit = settings.STATISTICS_MIN_CELL if limit is None else limit
    hidden = {key for key, value in cells.items() if value < limit}
    # A total of no parts is nothing: such a group tells nothing that could be hidden.
    sums = [(list(parts), total) for parts, total in groups if total is not None and parts]
    changed = True
    while changed:
        changed = False
        for parts, total in sums:
            if not _recoverable(parts, total, cells, hidden):
                continue
            shown = sorted(
                (key for key in parts if key not in hidden),
                key=lambda key: (cells[key], parts.index(key)),
            )
            victim = shown[0] if shown else total
            if victim not in hidden:  # always true by `_recoverable`; a guard against a loop
                hidden.add(victim)
                changed = True
    return {key: None if key in hidden else value for key, value in cells.items()}


def _recoverable(parts: list[K], total: K, cells: Mapping[K, int], hidden: set[K]) -> bool:
    """Can a hidden member of `total = sum(parts)` be worked out from the shown ones?

    Yes when exactly one member (a part, or the total itself) is hidden; and when the total is
    shown and the hidden parts add up to nothing, since counts are never negative."""
    gone = [key for key in parts if key in hidden]
    if len(gone) + (total in hidden) == 1:
        return True
    return bool(gone) and total not in hidden and sum(cells[key] for key in gone) == 0


@dataclass(frozen=True)
class Share:
    """One line of a statistics table: `part` of `whole`, either hidden (None) when small."""

    label: str
    part: int | None
    whole: int | None

    @property
    def percent(self) -> int | None:
        if self.part is None or self.whole is None or not self.whole:
            return None
        return round(100 * self.part / self.whole)


@dataclass(frozen=True)
class UnitStatistics:
    unit: Unit
    min_cell: int
    completion: list[Share]  # due occasions completed, per guardian relation
    completion_total: Share
    domains: list[Share]  # responses positive in the domain, of all responses
    replies: list[Share]  # follow-up replies (accepted, declined, later), of all replies
    replies_total: int | None


def _completion(
    unit: Unit, occasions: list[Occasion], today: datetime.date
) -> tuple[list[Share], Share]:
    """Per relation: the guardians' due occasions (the child has reached the window's start)
    and how many of them the guardian answered. Two queries, the custodies and the answers of
    the unit's children under six, each read through an index as the worklist reads them, and
    the counting in Python: as one query, a correlated look-up per custody and occasion probed
    the screenings ten thousand times for a unit of 1,400 children."""
    due: dict[str, int] = defaultdict(int)
    done: dict[str, int] = defaultdict(int)
    if occasions:
        cutoff = today - datetime.timedelta(WORKLIST_MAX_AGE_DAYS)
        young = Child.objects.filter(bvc_unit=unit, birth_date__gt=cutoff).values("pk")
        answered = set(
            Response.objects.filter(screening__child__in=young).values_list(
                "screening__child_id", "guardian_id", "screening__occasion_id"
            )
        )
        reached_by = [(o.pk, today - datetime.timedelta(o.min_age_days)) for o in occasions]
        # Joined, not a subquery: the child's unit, birth date and id all come from the
        # unit's index, without a look-up of each child by id.
        for child_id, guardian_id, relation, born in Custody.objects.filter(
            child__bvc_unit=unit, child__birth_date__gt=cutoff
        ).values_list("child_id", "guardian_id", "relation", "child__birth_date"):
            for occasion_id, latest_birth in reached_by:
                if born <= latest_birth:
                    due[relation] += 1
                    done[relation] += (child_id, guardian_id, occasion_id) in answered
    # A relation with nothing due gets no line: an empty line identifies nobody.
    relations = [value for value in Custody.Relation.values if due.get(value)]
    cells = {("done", r): done[r] for r in relations} | {("due", r): due[r] for r in relations}
    cells |= {("done", ""): sum(done.values()), ("due", ""): sum(due.values())}
    shown = suppress(
        cells,
        [
            ([("done", r) for r in relations], ("done", "")),
            ([("due", r) for r in relations], ("due", "")),
        ],
    )
    labels = dict(Custody.Relation.choices)
    rows = [Share(str(labels[r]), shown[("done", r)], shown[("due", r)]) for r in relations]
    return rows, Share(_("All guardians"), shown[("done", "")], shown[("due", "")])


def _domains(unit: Unit) -> list[Share]:
    """Per domain: the unit's responses with a positive answer in it, of all its responses.
    The domains overlap (one response may be positive in several), so no sum can give a hidden
    count away: each count is hidden only when small. One query."""
    counts = Response.objects.filter(screening__unit=unit).aggregate(
        total=Count("pk", distinct=True),
        **{
            domain: Count(
                "pk",
                distinct=True,
                filter=Q(answers__positive=True, answers__item__domain=domain),
            )
            for domain in Domain.values
        },
    )
    shown = suppress(counts)
    return [Share(str(label), shown[domain], shown["total"]) for domain, label in Domain.choices]


def _replies(unit: Unit) -> tuple[list[Share], int | None]:
    """The guardians' answers to the support offered at the unit's follow-ups. One query."""
    found = dict(
        FollowUp.objects.filter(unit=unit)
        .exclude(reply="")
        .values("reply")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("reply", "n")
    )
    cells = {reply: found.get(reply, 0) for reply in FollowUp.Reply.values}
    cells["total"] = sum(cells.values())
    shown = suppress(cells, [(list(FollowUp.Reply.values), "total")])
    rows = [
        Share(str(label), shown[reply], shown["total"]) for reply, label in FollowUp.Reply.choices
    ]
    return rows, shown["total"]


def unit_statistics(unit: Unit, occasions: list[Occasion], today: datetime.date) -> UnitStatistics:
    """The unit's BarnSäkert figures, small cells suppressed: four queries."""
    completion, completion_total = _completion(unit, occasions, today)
    replies, replies_total = _replies(unit)
    return UnitStatistics(
        unit=unit,
        min_cell=settings.STATISTICS_MIN_CELL,
        completion=completion,
        completion_total=completion_total,
        domains=_domains(unit),
        replies=replies,
        replies_total=replies_total,
    )
