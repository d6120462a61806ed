"""Reads of identified child data, always through the access policy and always audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest

from audit.models import Action
from audit.services import access_log
from consent import policy
from consent.policy import Decision, Purpose

from .models import Child, ChildQuerySet

if TYPE_CHECKING:
    from directory.models import Professional


def child_for_request(
    request: HttpRequest,
    pk: int,
    *,
    action: Action,
    purpose: Purpose,
    decide: Callable[[Professional, Child], Decision] | None = None,
) -> tuple[Child, Decision]:
    """The child `pk` if the policy lets the user see it (and, with `decide`, do more with
    it); 404 otherwise, the same for a missing child as for a forbidden one.

    Either way the attempt is written to the access log before anything is shown.
    """
    user = request.user
    child = (
        Child.objects.visible_to(user, among=[pk])  # type: ignore[arg-type]
        .select_related("bvc_unit", "school_unit")
        .first()
    )
    if child is None:
        decision = Decision.deny()
    elif decide is not None:
        decision = decide(user, child)  # type: ignore[arg-type]
    else:
        decision = policy.decide_child(user, child, purpose)
    access_log(
        request=request,
        action=action,
        purpose=purpose,
        decision=decision,
        child=child,
        child_id=pk,
    )
    if child is None or not decision.allowed:
        raise Http404
    return child, decision


class _Counted:
    """Ids in list order for the paginator (`rows` of `values("pk", ...)`), counted by
    `counted`: the same number by a cheaper query."""

    def __init__(self, rows: Any, counted: Any) -> None:
        self.rows, self.counted = rows, counted

    def count(self) -> int:
        return int(self.counted.count())

    def __getitem__(self, index: slice) -> list[int]:
        return [row["pk"] for row in self.rows[index]]


NAME_ORDER = ("last_name", "first_name", "pk")


def child_list_page(
    user: Professional, children: ChildQuerySet, *, everything: bool, number: str | None
) -> Page:
    """One page of the start page's list of `children` (visible to `user`, maybe searched),
    by name. The page's ids come first, then those children with their units: the joins run
    for the rows shown, not for every child of the user's units (1,400 in a large BVC).

    With `everything` (no search) the order is taken from the policy's own rows, which
    carry the names (`visible_child_ids(columns=...)`), and the count from its ids: neither
    reads the children's rows."""
    if everything:
        rows = policy.visible_child_ids(user, columns=NAME_ORDER[:2]).order_by(*NAME_ORDER)
        listed = _Counted(rows, policy.visible_child_ids(user))
    else:
        ordered = children.order_by(*NAME_ORDER).values("pk")
        listed = _Counted(ordered, ordered)
    # _Counted counts and slices as the paginator needs; the stubs ask for a sequence. The
    # page holds ids, then the children read for them.
    paginator: Paginator[Any] = Paginator(listed, settings.CHILD_LIST_PAGE_SIZE)  # type: ignore[arg-type]
    page = paginator.get_page(number)
    shown = list(page.object_list)
    found = Child.objects.select_related("bvc_unit", "school_unit").in_bulk(shown)
    page.object_list = [found[pk] for pk in shown if pk in found]
    return page
