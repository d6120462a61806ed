"""Team meetings: generated ahead from the team's cadence; agenda, minutes, attendance.

A closed meeting's minutes are locked; a later correction is an amendment with a reason,
written to the access log like any other change.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.models import Concern, Theme
from directory.models import Professional, Team


class Meeting(models.Model):
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="meetings", db_index=False
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        Professional, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["team", "starts_at"], name="meeting_unique_time")
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.starts_at:%Y-%m-%d}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class AgendaItem(models.Model):
    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, related_name="items", db_index=False
    )
    concern = models.ForeignKey(Concern, on_delete=models.PROTECT, related_name="agenda_items")
    nominated_by = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    nominated_at = models.DateTimeField(auto_now_add=True)
    position = models.PositiveSmallIntegerField(default=0)
    discussion = models.TextField(_("discussion"), blank=True)
    decisions = models.TextField(_("decisions"), blank=True)
    themes = models.ManyToManyField(Theme, verbose_name=_("themes"), blank=True)
    # Optimistic locking: a save names the version it edited; a stale one is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "concern"], name="agenda_item_once")
        ]

    def __str__(self) -> str:
        return f"{self.meeting} – {self.concern}"


class Attendance(models.Model):
    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="attendance", db_index=False
    )
    professional = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    present = models.BooleanField(_("present"), default=False)

    class Meta:
        verbose_name = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "professional"], name="attendance_once")
        ]

    def __str__(self) -> str:
        return f"{self.professional} ({'x' if self.present else '-'})"


class Amendment(models.Model):
    """A correction of locked minutes: what changed, from what, by whom, and why."""

    item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="amendments")
    field = models.CharField(_("field"), max_length=30)
    old_value = models.TextField(_("before"))
    new_value = models.TextField(_("after"))
    reason = models.CharField(_("reason"), max_length=300)
    made_by = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    made_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["made_at"]

    def __str__(self) -> str:
        return f"{self.item} {self.field}"
