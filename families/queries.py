"""Reads of identified child data, always through the access policy and always audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.http import Http404, HttpRequest

from audit.models import Action
from audit.services import access_log
from consent import policy
from consent.policy import Decision, Purpose

from .models import Child

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
        Child.objects.visible_to(user)  # type: ignore[arg-type]
        .select_related("bvc_unit", "school_unit")
        .filter(pk=pk)
        .first()
    )
    if child is None:
        decision = Decision.deny()
    elif decide is not None:
        decision = decide(user, child)  # type: ignore[arg-type]
    else:
        decision = policy.decide_child(user, child, purpose)  # type: ignore[arg-type]
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
