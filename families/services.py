"""Writes to the family register. Each use case is one transaction with its audit entry."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from audit.models import Action
from audit.services import access_log
from consent.policy import Basis, Decision, Purpose
from directory.models import Sector, Unit

from .models import Child, Custody, Guardian


class AlreadyRegistered(Exception):
    """The identity or reserve number belongs to a child already in the register."""


def child_register(
    *,
    request: HttpRequest,
    unit: Unit,
    child_data: dict[str, Any],
    guardians_data: list[dict[str, Any]],
    custody: str,
) -> Child:
    """Register a child in `unit` with its guardians; the caller's unit becomes its own unit.

    A guardian already in the register (a sibling's parent) is linked, not duplicated: the
    register's record stays as it is. A refused attempt is logged (and committed) too.
    """
    number = child_data.get("identity_number") or None
    reserve = child_data.get("reserve_number") or None
    lookup = {"identity_number": number} if number else {"reserve_number": reserve}
    try:
        return _child_create(
            request=request,
            unit=unit,
            child_data=child_data,
            guardians_data=guardians_data,
            custody=custody,
            number=number,
            reserve=reserve,
        )
    except IntegrityError:
        existing = Child.objects.filter(**lookup).first()
        if existing is None:
            raise
    access_log(
        request=request,
        action=Action.REGISTER_CHILD,
        purpose=Purpose.CARE,
        decision=Decision(allowed=False, basis=Basis.NONE, unit=unit),
        child_id=existing.pk,
    )
    raise AlreadyRegistered


@transaction.atomic
def _child_create(
    *,
    request: HttpRequest,
    unit: Unit,
    child_data: dict[str, Any],
    guardians_data: list[dict[str, Any]],
    custody: str,
    number: str | None,
    reserve: str | None,
) -> Child:
    placement = "bvc_unit" if unit.sector == Sector.CHILD_HEALTH else "school_unit"
    fields = {key: value for key, value in child_data.items() if key not in {"unit", "custody"}}
    child = Child.objects.create(
        **{**fields, "identity_number": number, "reserve_number": reserve}, **{placement: unit}
    )
    for data in guardians_data:
        guardian, _ = Guardian.objects.get_or_create(
            identity_number=data["identity_number"],
            defaults={**data, "protection": child.protection},
        )
        Custody.objects.create(child=child, guardian=guardian, kind=custody)
    access_log(
        request=request,
        action=Action.REGISTER_CHILD,
        purpose=Purpose.CARE,
        decision=Decision(allowed=True, basis=Basis.OWN_UNIT, unit=unit),
        child=child,
    )
    return child
