"""Data for the home-visit slots on pages of other apps (the child page, the "To do" page)."""

from __future__ import annotations

from typing import Any

from django import template

from consent import policy
from visits import queries
from visits.eligibility import eligible_children

register = template.Library()


@register.simple_tag
def visits_child_links(user: Any, child: Any) -> dict[str, Any]:
    """The child's enrolments the user may open, and whether the user may offer a programme
    (the child's own BVC, an eligible child, a programme not yet offered)."""
    enrolments = list(
        policy.visible_enrolments(user).filter(child=child).select_related("programme")
    )
    offerable = False
    if policy.may_offer_programme(user, child).allowed:
        offered = {enrolment.programme_id for enrolment in enrolments}
        offerable = any(
            eligible_children(programme, type(child).objects.filter(pk=child.pk)).exists()
            for programme in queries.active_programmes()
            if programme.pk not in offered
        )
    return {"enrolments": enrolments, "offerable": offerable}


@register.simple_tag
def visits_worklist_summary(user: Any) -> queries.Counts:
    """Due and overdue home visits for the "To do" page, in a fixed number of queries."""
    return queries.worklist_counts(user)
