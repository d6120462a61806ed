"""Template tags for the SIP slots on pages other apps render (the child page, "To do")."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from consent import policy

from .. import queries

register = template.Library()


@register.simple_tag(takes_context=True)
def child_plans(context: template.Context, child: Any) -> dict[str, Any]:
    """The child's plans the user may open, and whether the user may start one (the child page
    has already logged the access to the child). A fixed number of queries."""
    user = context["request"].user
    plans = list(policy.visible_plans(user).filter(child=child).order_by("status", "-pk")[:10])
    may_start = policy.may_start_plan(user, child)
    return {
        "plans": plans,
        "may_start": may_start.allowed,
        "has_consent": may_start.allowed or policy.sip_consent(child) is not None,
    }


@register.simple_tag(takes_context=True)
def my_plans(context: template.Context) -> dict[str, Any]:
    """The user's active plans for the "To do" page (each listed child is logged)."""
    worklist = queries.my_plans(context["request"])
    return {
        "rows": worklist.rows,
        "more": worklist.more,
        "limit": queries.WORKLIST_LIMIT,
        "today": timezone.localdate(),
    }
