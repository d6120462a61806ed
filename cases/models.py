"""Concerns (anonymous first, identified with consent), referrals, reports of concern, actions.

An anonymous concern has no field that could hold an identity: only an age band, where it was
noticed, the worry and its themes. The child is linked only once a consent is in force.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.models import Consent
from directory.models import Professional, Sector, Service, Team, Unit
from families.models import Child


class AgeBand(models.TextChoices):
    INFANT = "0-1", _("0–1 years")
    TODDLER = "1-3", _("1–3 years")
    PRESCHOOL = "3-6", _("3–6 years")
    YOUNG_SCHOOL = "6-10", _("6–10 years")
    MIDDLE_SCHOOL = "10-13", _("10–13 years")
    TEEN = "13-16", _("13–16 years")

    @classmethod
    def of(cls, birth_date: datetime.date, today: datetime.date | None = None) -> AgeBand:
        today = today or timezone.localdate()
        age = (
            today.year
            - birth_date.year
            - ((today.month, today.day) < (birth_date.month, birth_date.day))
        )
        for band, upper in (
            (cls.INFANT, 1),
            (cls.TODDLER, 3),
            (cls.PRESCHOOL, 6),
            (cls.YOUNG_SCHOOL, 10),
            (cls.MIDDLE_SCHOOL, 13),
        ):
            if age < upper:
                return band
        return cls.TEEN


class Theme(models.Model):
    """A recurring need (sleep, potty training, ...); configurable by the administrator."""

    code = models.SlugField(_("code"), unique=True)
    name_sv = models.CharField(_("name (Swedish)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["order", "name_sv"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "sv").startswith("en") else self.name_sv


class Concern(models.Model):
    """A professional's worry about a child: a case, discussed anonymously until consent."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    created_by = models.ForeignKey(
        Professional,
        verbose_name=_("noticed by"),
        on_delete=models.PROTECT,
        related_name="concerns",
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("noticing unit"), on_delete=models.PROTECT, related_name="concerns"
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now, db_index=True)
    sector = models.CharField(_("sector where noticed"), max_length=30, choices=Sector.choices)
    setting = models.CharField(
        _("setting"),
        max_length=100,
        blank=True,
        help_text=_("Where it was noticed, e.g. at the 18-month visit, in the preschool group."),
    )
    age_band = models.CharField(_("age band"), max_length=5, choices=AgeBand.choices)
    worry = models.TextField(_("the concern"))
    themes = models.ManyToManyField(Theme, verbose_name=_("themes"), blank=True)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="concerns",
    )
    # Identity: empty while anonymous.
    child = models.ForeignKey(
        Child,
        verbose_name=_("child"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="concerns",
    )
    identified_at = models.DateTimeField(_("identified"), null=True, blank=True)
    identified_by = models.ForeignKey(
        Professional, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    identifying_consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="concerns"
    )
    contact_person = models.ForeignKey(
        Professional,
        verbose_name=_("contacts the family"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="families_to_contact",
        db_index=False,
    )
    feedback_due = models.DateField(_("feedback to the family due"), null=True, blank=True)
    family_contacted_at = models.DateTimeField(_("family contacted"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )

    class Meta:
        verbose_name = _("concern")
        verbose_name_plural = _("concerns")
        constraints = [
            models.CheckConstraint(
                condition=Q(child__isnull=True) | Q(identified_at__isnull=False),
                name="concern_identified_with_time",
            )
        ]
        indexes = [models.Index(fields=["contact_person", "status"], name="concern_contact_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_age_band_display()}"

    @property
    def is_anonymous(self) -> bool:
        return self.child_id is None


class Referral(models.Model):
    """A family routed to a service, under a referral consent; its steps carry timestamps."""

    class Outcome(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    concern = models.ForeignKey(
        Concern, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("case")
    )
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="referrals")
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="referrals"
    )
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="referrals")
    created_by = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        Unit, verbose_name=_("referring unit"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("what the family needs"), blank=True)
    sent_at = models.DateTimeField(_("sent"), db_index=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    first_contact_at = models.DateTimeField(_("first contact"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True, outcome="")
                | (Q(closed_at__isnull=False) & ~Q(outcome="")),
                name="referral_closed_with_outcome",
            )
        ]

    def __str__(self) -> str:
        return f"{self.service} #{self.pk}"

    @property
    def status(self) -> str:
        if self.outcome:
            return self.get_outcome_display()
        if self.first_contact_at:
            return str(_("First contact made"))
        if self.received_at:
            return str(_("Received"))
        return str(_("Sent"))

    @property
    def lead_time(self) -> datetime.timedelta | None:
        """From the concern to the family's first contact with the service."""
        if self.first_contact_at is None:
            return None
        return self.first_contact_at - self.concern.created_at


class ReportOfConcern(models.Model):
    """A mandatory report to social services (orosanmälan): needs no consent."""

    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="reports_of_concern")
    reporter = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    reporter_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    to_unit = models.ForeignKey(
        Unit,
        verbose_name=_("to"),
        on_delete=models.PROTECT,
        related_name="reports_received",
        limit_choices_to={"receives_reports_of_concern": True},
        db_index=False,
    )
    what = models.TextField(_("what has been seen or heard"))
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        Professional, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("report of concern")
        verbose_name_plural = _("reports of concern")
        indexes = [models.Index(fields=["to_unit", "acknowledged_at"], name="roc_inbox_idx")]

    def __str__(self) -> str:
        return f"#{self.pk}"


class Action(models.Model):
    """Something a named person does by a date: from a meeting's minutes or a case."""

    concern = models.ForeignKey(
        Concern, on_delete=models.PROTECT, related_name="actions", null=True, blank=True
    )
    agenda_item = models.ForeignKey(
        "meetings.AgendaItem",
        on_delete=models.PROTECT,
        related_name="actions",
        null=True,
        blank=True,
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="actions",
        db_index=False,
    )
    what = models.CharField(_("what"), max_length=300)
    responsible = models.ForeignKey(
        Professional,
        verbose_name=_("responsible"),
        on_delete=models.PROTECT,
        related_name="actions",
        db_index=False,
    )
    due_date = models.DateField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_by = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        indexes = [
            models.Index(fields=["responsible", "done_at"], name="action_mine_idx"),
            models.Index(fields=["team", "done_at"], name="action_team_idx"),
        ]

    def __str__(self) -> str:
        return self.what

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_date < timezone.localdate()
