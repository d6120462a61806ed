"""A questionnaire version's items as the kiosk's submit checks and scores them.

A published version never changes (`QuestionnaireVersion.save` and `Item.save` refuse), so
each process reads its items once and keeps them: the submit, which every guardian makes,
does not read them again. A draft's items may still change and are read every time. Saving
or deleting any version or item empties this process's copy (new drafts, tests); other
processes need not hear of it, since what they keep cannot have changed.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Item, QuestionnaireVersion

_PUBLISHED: dict[int, dict[int, Item]] = {}


def items_by_number(version_id: int) -> dict[int, Item]:
    """The version's items by number; kept for a published version, read for a draft."""
    kept = _PUBLISHED.get(version_id)
    if kept is not None:
        return kept
    items = list(Item.objects.filter(version_id=version_id).select_related("version"))
    by_number = {item.number: item for item in items}
    if items and items[0].version.published_at is not None:
        _PUBLISHED[version_id] = by_number
    return by_number


@receiver(post_save, sender=Item)
@receiver(post_delete, sender=Item)
@receiver(post_save, sender=QuestionnaireVersion)
@receiver(post_delete, sender=QuestionnaireVersion)
def _forget(**_kwargs: object) -> None:
    _PUBLISHED.clear()
