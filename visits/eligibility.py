"""Who a home-visit programme is for: the one place that rule lives.

A child is eligible for a programme when it was born on or after the programme's start date
and lives (postal code) in one of the programme's areas: in an "all families" area every such
child, in a "first-time parents" area only a child none of whose guardians has custody of an
older child in the register. Twins are both first-born.

Area prefixes of one programme never overlap (checked in `ProgrammeArea.clean` through the
admin), so a postal code names at most one area.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Replace

from families.models import Child, ChildQuerySet, Custody

from .models import Programme, ProgrammeArea


def has_older_sibling() -> Exists:
    """True for a child one of whose guardians has custody of an older child."""
    # The guardians as a subquery on custody, not `guardian__custodies__child`: that path
    # joins the guardian table too, a fourth index look-up per child asked.
    return Exists(
        Custody.objects.filter(
            guardian__in=Custody.objects.filter(child=OuterRef(OuterRef("pk"))).values("guardian"),
            child__birth_date__lt=OuterRef("birth_date"),
        )
    )


def area_condition(area: ProgrammeArea) -> Q:
    """On `eligible_children`'s annotations: the postal code without spaces, as `area_of`
    reads it ("991 30" is in area 99130), and whether the child is first-born."""
    condition = Q(postal_digits__startswith=area.postal_code_prefix)
    if area.rule == ProgrammeArea.Rule.FIRST_TIME_PARENTS:
        condition &= Q(first_born=True)
    return condition


def eligible_children(programme: Programme, children: ChildQuerySet | None = None) -> ChildQuerySet:
    """The children `programme` is for (of `children`, default all), in one query."""
    children = Child.objects.all() if children is None else children
    areas = list(programme.areas.all())
    if not areas:
        return children.none()
    where = Q()
    for area in areas:
        where |= area_condition(area)
    return (
        children.filter(birth_date__gte=programme.children_born_from)
        .annotate(
            first_born=~has_older_sibling(),
            postal_digits=Replace("postal_code", Value(" "), Value("")),
        )
        .filter(where)
    )


def area_of(programme: Programme, child: Child) -> ProgrammeArea | None:
    """The programme area the child lives in (by postal code), or None."""
    code = (child.postal_code or "").replace(" ", "")
    for area in programme.areas.all():
        if code.startswith(area.postal_code_prefix):
            return area
    return None


def is_first_born(child: Child) -> bool:
    """No guardian of the child has custody of an older child (first-time parents)."""
    return not Custody.objects.filter(
        guardian__custodies__child=child, child__birth_date__lt=child.birth_date
    ).exists()
