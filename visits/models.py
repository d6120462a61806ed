"""Extended home-visiting programmes (utökade hembesök), as configuration.

A `Programme` lists its visits (`ProgrammeVisit`: target age, window, which professions take
part) and the areas where it is offered (`ProgrammeArea`: by postal code, to all new families
or to first-time parents only). An administrator sets them up in the admin; no code changes.

A family that accepts gets an `Enrolment` and one `HomeVisit` per programme visit, scheduled
from the child's birth date. Bookings keep their history (`VisitBooking`: rescheduling cancels
the old booking and adds a new one). At a joint visit each profession documents in its own
sector's record (`VisitNote.unit`); a note crosses to another sector only as far as a consent
covers it (`consent.policy.may_read_record`).
"""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from consent.models import Consent
from directory.models import Organisation, Professional, Sector, Unit
from families.models import Child, Guardian


class Programme(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    region = models.ForeignKey(
        Organisation,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="home_visit_programmes",
        limit_choices_to={"kind": Organisation.Kind.REGION},
    )
    municipality = models.ForeignKey(
        Organisation,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Organisation.Kind.MUNICIPALITY},
    )
    partner_unit = models.ForeignKey(
        Unit,
        verbose_name=_("social services unit"),
        on_delete=models.PROTECT,
        related_name="home_visit_programmes",
        limit_choices_to={"sector": Sector.SOCIAL_SERVICES},
        help_text=_("The family therapists who make the visits with the BVC nurse."),
    )
    children_born_from = models.DateField(
        _("for children born from"), help_text=_("Children born earlier are not offered it.")
    )
    offer_until_weeks = models.PositiveSmallIntegerField(
        _("offer until the child is (weeks)"),
        default=12,
        help_text=_("After this age the BVC no longer sees the child as newly eligible."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("home-visit programme")
        verbose_name_plural = _("home-visit programmes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProgrammeVisit(models.Model):
    """One visit of a programme: when (target age and window) and who takes part."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="visits", db_index=False
    )
    number = models.PositiveSmallIntegerField(_("number"))
    name_sv = models.CharField(_("name (Swedish)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    age_months = models.PositiveSmallIntegerField(_("target age: months"), default=0)
    age_weeks = models.PositiveSmallIntegerField(_("target age: weeks"), default=0)
    window_days_before = models.PositiveSmallIntegerField(_("window: days before"), default=14)
    window_days_after = models.PositiveSmallIntegerField(_("window: days after"), default=14)
    # Profession values (directory.models.Profession) that take part in this visit.
    professions = models.JSONField(_("professions taking part"), default=list)

    class Meta:
        verbose_name = _("programme visit")
        verbose_name_plural = _("programme visits")
        ordering = ["programme", "number"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "number"], name="programme_visit_once")
        ]

    def __str__(self) -> str:
        return self.name_en if (get_language() or "sv").startswith("en") else self.name_sv

    def target_date(self, birth_date: datetime.date) -> datetime.date:
        return birth_date + relativedelta(months=self.age_months, weeks=self.age_weeks)


class ProgrammeArea(models.Model):
    """Where the programme is offered, and to whom."""

    class Rule(models.TextChoices):
        ALL_FAMILIES = "all", _("All new families")
        FIRST_TIME_PARENTS = "first_time", _("First-time parents only")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="areas", db_index=False
    )
    name = models.CharField(_("area"), max_length=100)
    postal_code_prefix = models.CharField(
        _("postal codes starting with"),
        max_length=5,
        help_text=_("E.g. 163 for every postal code 163 xx, or a full five-digit code."),
    )
    rule = models.CharField(_("offered to"), max_length=20, choices=Rule.choices)

    class Meta:
        verbose_name = _("programme area")
        verbose_name_plural = _("programme areas")
        ordering = ["programme", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "postal_code_prefix"], name="programme_area_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.postal_code_prefix})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        prefix = (self.postal_code_prefix or "").replace(" ", "")
        if not prefix.isdigit():
            raise ValidationError({"postal_code_prefix": _("Use digits only, e.g. 163.")})
        self.postal_code_prefix = prefix
        if self.programme_id is None:
            return
        # One postal code must name one area: no prefix may start another of the same programme.
        for other in self.programme.areas.exclude(pk=self.pk):
            if other.postal_code_prefix.startswith(prefix) or prefix.startswith(
                other.postal_code_prefix
            ):
                raise ValidationError(
                    {"postal_code_prefix": _("It overlaps the area %(area)s.") % {"area": other}}
                )


class Enrolment(models.Model):
    """A family's place in a programme: offered, then accepted or declined."""

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        ENDED = "ended", _("Ended")

    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, related_name="enrolments", db_index=False
    )
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="enrolments", db_index=False
    )
    # Records belong to a sector: the BVC that offered the programme.
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("child health unit"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # What made the family eligible when it was offered, kept for the coverage figures.
    area = models.ForeignKey(ProgrammeArea, on_delete=models.PROTECT, related_name="enrolments")
    rule = models.CharField(_("offered as"), max_length=20, choices=ProgrammeArea.Rule.choices)
    first_time_parents = models.BooleanField(_("first-time parents"))
    offered_at = models.DateTimeField(_("offered"), default=timezone.now)
    offered_by = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OFFERED
    )
    decided_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decided_by = models.ForeignKey(
        Guardian, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_recorded_by = models.ForeignKey(
        Professional, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decline_reason = models.TextField(_("reason (optional)"), blank=True)
    # The guardians' consent to joint visits: lets the social services unit see the family.
    consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="enrolments"
    )
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.TextField(_("why it ended"), blank=True)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(fields=["child", "programme"], name="enrolment_once"),
            models.CheckConstraint(
                condition=Q(status="offered") | Q(decided_at__isnull=False),
                name="enrolment_answer_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["programme", "status"], name="enrolment_programme_idx"),
            models.Index(fields=["unit", "status"], name="enrolment_unit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} #{self.pk}"


class HomeVisit(models.Model):
    """One scheduled visit of an enrolled family, due from the child's birth date."""

    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.PROTECT, related_name="visits", db_index=False
    )
    programme_visit = models.ForeignKey(
        ProgrammeVisit, on_delete=models.PROTECT, related_name="home_visits"
    )
    due_date = models.DateField(_("due"), db_index=True)
    window_start = models.DateField(_("window opens"))
    window_end = models.DateField(_("window closes"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("home visit")
        verbose_name_plural = _("home visits")
        ordering = ["due_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "programme_visit"], name="home_visit_once"
            ),
            models.CheckConstraint(
                condition=Q(window_start__lte=models.F("due_date"))
                & Q(due_date__lte=models.F("window_end")),
                name="home_visit_window",
            ),
        ]
        indexes = [models.Index(fields=["done_at", "window_end"], name="home_visit_open_idx")]

    def __str__(self) -> str:
        return f"{self.programme_visit} ({self.due_date:%Y-%m-%d})"

    @property
    def done_on_time(self) -> bool:
        return self.done_at is not None and (
            self.window_start <= timezone.localdate(self.done_at) <= self.window_end
        )


class VisitBooking(models.Model):
    """A booked time for a visit. Rescheduling cancels it and books anew: history is kept."""

    visit = models.ForeignKey(HomeVisit, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField(_("time"))
    nurse = models.ForeignKey(
        Professional,
        verbose_name=_("BVC nurse"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    therapist = models.ForeignKey(
        Professional,
        verbose_name=_("family therapist"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    booked_by = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    booked_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancel_reason = models.CharField(_("why it was moved"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("visit booking")
        verbose_name_plural = _("visit bookings")
        ordering = ["booked_at", "pk"]
        constraints = [
            # At most one booking in force per visit.
            models.UniqueConstraint(
                fields=["visit"], condition=Q(cancelled_at__isnull=True), name="booking_one_live"
            )
        ]

    def __str__(self) -> str:
        return f"{self.visit} {self.starts_at:%Y-%m-%d %H:%M}"


class VisitNote(models.Model):
    """What one profession documented at a visit, in its own sector's record."""

    class Topic(models.TextChoices):
        FEEDING = "feeding", _("Feeding")
        GROWTH = "growth", _("Growth")
        HEALTH = "health", _("Health")
        PARENTHOOD = "parenthood", _("Parenthood")
        COMMUNICATION = "communication", _("Communication")
        SIBLINGS = "siblings", _("Siblings")

    visit = models.ForeignKey(HomeVisit, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        Unit, verbose_name=_("record of"), on_delete=models.PROTECT, related_name="+"
    )
    topics = models.JSONField(_("topics"), default=list)
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        verbose_name = _("visit note")
        verbose_name_plural = _("visit notes")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.visit} – {self.unit}"
