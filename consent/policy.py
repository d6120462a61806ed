"""THE access policy: who may see which identified child data, and on what basis.

Every view, query and service asks this module; none re-implements it. When no rule matches,
the answer is no. A decision names its legal basis so the audit log can record it.

Rules in force (first version):
- OWN_UNIT: a professional with a current membership in a unit the child belongs to (the
  child's BVC unit or preschool/school) sees the child's identified data.
- Nothing else. Consent-based access across sectors is added by the consent issue, through
  `decide_child` and `visible_children` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from directory.models import Professional, Unit
    from families.models import Child, ChildQuerySet

    User = Professional | AnonymousUser


class Basis(models.TextChoices):
    """The legal basis of an access decision, as recorded in the audit log."""

    OWN_UNIT = "own_unit", _("Own unit")
    CONSENT = "consent", _("Consent")
    REPORT_OF_CONCERN = "report_of_concern", _("Report of concern")
    NONE = "none", _("No basis")


class Purpose(models.TextChoices):
    """Why the data is read; a consent later names the purposes it covers."""

    CARE = "care", _("Care and support of the child")
    LOG_EXTRACT = "log_extract", _("Access-log extract for a guardian")
    TEAM_DISCUSSION = "team_discussion", _("Team discussion")
    INFORMATION_EXCHANGE = "information_exchange", _("Information exchange")
    REFERRAL = "referral", _("Referral")
    SIP = "sip", _("Coordinated individual plan (SIP)")


@dataclass(frozen=True)
class Decision:
    """The answer to "may this user see this child, and why?"."""

    allowed: bool
    basis: Basis
    unit: Unit | None = None  # the user's unit the access goes through
    reference: str = ""  # e.g. the consent id once consents exist

    @classmethod
    def deny(cls) -> Decision:
        return cls(allowed=False, basis=Basis.NONE)


def _is_professional(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def current_units(user: User) -> list[Unit]:
    """The units `user` is a current member of (one query, cached on the user object)."""
    if not _is_professional(user):
        return []
    cached: list[Unit] | None = getattr(user, "_samverkan_units", None)
    if cached is None:
        from directory.models import Unit

        cached = list(
            Unit.objects.filter(memberships__in=_current_memberships(user)).order_by("pk")
        )
        user._samverkan_units = cached  # type: ignore[union-attr]
    return cached


def _current_memberships(user: User):  # type: ignore[no-untyped-def]
    from directory.models import Membership

    return Membership.objects.current().filter(professional=user)


def visible_children(user: User, queryset: ChildQuerySet | None = None) -> ChildQuerySet:
    """Children whose identified data `user` may see. The same rule as `decide_child`."""
    from families.models import Child

    queryset = Child.objects.all() if queryset is None else queryset
    if not _is_professional(user):
        return queryset.none()
    # A subquery, not a list: one query for the page however many units the user has.
    own_units = _current_memberships(user).values("unit_id")
    return queryset.filter(Q(bvc_unit__in=own_units) | Q(school_unit__in=own_units))


def decide_child(user: User, child: Child, purpose: Purpose) -> Decision:
    """May `user` see `child`'s identified data for `purpose`? Names the basis."""
    if not _is_professional(user):
        return Decision.deny()
    child_units = child.unit_ids()
    for unit in current_units(user):
        if unit.pk in child_units:
            return Decision(allowed=True, basis=Basis.OWN_UNIT, unit=unit)
    return Decision.deny()


def may_see_address(user: User, child: Child) -> bool:
    """A protected child's address shows only inside the child's own units."""
    if not child.is_protected:
        return decide_child(user, child, Purpose.CARE).allowed
    return any(unit.pk in child.unit_ids() for unit in current_units(user))


def may_produce_log_extract(user: User, child: Child) -> Decision:
    """Log extracts for guardians: a manager of one of the child's own units."""
    if not _is_professional(user):
        return Decision.deny()
    membership = (
        _current_memberships(user)
        .filter(is_manager=True, unit_id__in=child.unit_ids())
        .select_related("unit")
        .order_by("unit_id")
        .first()
    )
    if membership is None:
        return Decision.deny()
    return Decision(allowed=True, basis=Basis.OWN_UNIT, unit=membership.unit)
