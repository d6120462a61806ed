"""SIP: coordinated individual plans (samordnad individuell plan).

A plan runs under the guardians' SIP consent (`Plan.consent`). Its content lives in versions:
each save makes a new `PlanVersion` and earlier versions are never changed, so every version
stays readable. Two people saving at once: the save names the version it started from
(`Plan.current_number`), and a stale save is refused (optimistic locking, see services).

What the law asks a plan to state (SoL 2 kap. 7 §, HSL 16 kap. 4 §): which interventions are
needed (`PlanIntervention`), which responsible body provides each (`provider`), what others
do (`provider_kind=OTHER`), and which body holds overall responsibility
(`PlanVersion.overall_responsibility`, with a named coordinator).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Concern
from consent.models import Consent
from directory.models import Organisation, Professional, Unit
from families.models import Child, Guardian


class RegionPlanSettings(models.Model):
    """A region's agreement on SIP deadlines (e.g. a first meeting within three weeks)."""

    region = models.OneToOneField(
        Organisation,
        verbose_name=_("region"),
        on_delete=models.CASCADE,
        related_name="plan_settings",
        limit_choices_to={"kind": Organisation.Kind.REGION},
    )
    first_meeting_days = models.PositiveSmallIntegerField(
        _("days to the first meeting"),
        default=21,
        help_text=_("From the request to the first SIP meeting, as the regional agreement says."),
    )

    class Meta:
        verbose_name = _("region's SIP settings")
        verbose_name_plural = _("regions' SIP settings")

    def __str__(self) -> str:
        return str(self.region)


def first_meeting_days(region: Organisation | None) -> int:
    """The region's deadline for the first meeting, or the installation's default."""
    if region is not None:
        found = RegionPlanSettings.objects.filter(region=region).first()
        if found is not None:
            return found.first_meeting_days
    return settings.SIP_FIRST_MEETING_DAYS


class PlanQuerySet(models.QuerySet["Plan"]):
    def active(self) -> PlanQuerySet:
        return self.filter(status=Plan.Status.ACTIVE)


class Plan(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended by the family")

    child = models.ForeignKey(
        Child,
        verbose_name=_("child"),
        on_delete=models.PROTECT,
        related_name="plans",
        db_index=False,
    )
    consent = models.ForeignKey(
        Consent,
        verbose_name=_("SIP consent"),
        on_delete=models.PROTECT,
        related_name="plans",
        help_text=_("The guardians' consent the plan is made and shared under."),
    )
    concern = models.ForeignKey(
        Concern,
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plans",
        help_text=_("The case that led to the plan, e.g. after an HLT meeting."),
    )
    requested_by = models.CharField(
        _("asked for by"),
        max_length=200,
        help_text=_("Who asked for the plan: the guardians, the child, a unit, ..."),
    )
    requested_on = models.DateField(_("asked for on"))
    started_by = models.ForeignKey(
        Professional, verbose_name=_("started by"), on_delete=models.PROTECT, related_name="+"
    )
    started_unit = models.ForeignKey(
        Unit, verbose_name=_("starting unit"), on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    first_meeting_due = models.DateField(_("first meeting due"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    # The number of the newest version (0 before the first): a save names the number it
    # started from and is refused when another save came first.
    current_number = models.PositiveIntegerField(default=0)
    # Copied from the newest version so that worklists filter on an indexed column.
    next_follow_up = models.DateField(_("next follow-up"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by_guardian = models.ForeignKey(
        Guardian,
        verbose_name=_("ended by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    end_reason = models.TextField(_("the family's reason"), blank=True)
    end_recorded_by = models.ForeignKey(
        Professional, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("coordinated individual plan")
        verbose_name_plural = _("coordinated individual plans")
        indexes = [
            models.Index(fields=["child", "status"], name="plan_child_status_idx"),
            models.Index(fields=["status", "next_follow_up"], name="plan_follow_up_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="active", ended_at__isnull=True)
                | Q(status="ended", ended_at__isnull=False),
                name="plan_ended_with_time",
            )
        ]

    def __str__(self) -> str:
        return f"SIP #{self.pk}"


class PlanParticipant(models.Model):
    """Someone who takes part in the plan: a professional, a guardian, the child, or another
    person who matters to the family (a neighbour, an investigator from child psychiatry)."""

    class Kind(models.TextChoices):
        PROFESSIONAL = "professional", _("Professional")
        GUARDIAN = "guardian", _("Guardian")
        CHILD = "child", _("The child")
        OTHER = "other", _("Other person who matters to the family")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="participants")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    professional = models.ForeignKey(
        Professional,
        verbose_name=_("professional"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plan_participations",
        db_index=False,
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("representing unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    guardian = models.ForeignKey(
        Guardian, verbose_name=_("guardian"), on_delete=models.PROTECT, null=True, blank=True
    )
    name = models.CharField(
        _("name"), max_length=200, blank=True, help_text=_("For other people only.")
    )
    role = models.CharField(_("role"), max_length=200, blank=True)
    contact = models.CharField(_("contact details"), max_length=200, blank=True)
    invited_at = models.DateTimeField(_("invited"), null=True, blank=True)
    added_by = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(_("no longer taking part"), null=True, blank=True)

    class Meta:
        verbose_name = _("plan participant")
        verbose_name_plural = _("plan participants")
        ordering = ["kind", "pk"]
        indexes = [
            models.Index(fields=["professional", "removed_at"], name="plan_participant_mine_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="professional")
                | Q(professional__isnull=False, unit__isnull=False),
                name="plan_participant_professional_unit",
            ),
            models.CheckConstraint(
                condition=~Q(kind="guardian") | Q(guardian__isnull=False),
                name="plan_participant_guardian",
            ),
            models.CheckConstraint(
                condition=~Q(kind="other") | ~Q(name=""), name="plan_participant_other_named"
            ),
        ]

    def __str__(self) -> str:
        if self.professional_id:
            return str(self.professional)
        if self.guardian_id:
            return str(self.guardian)
        if self.kind == self.Kind.CHILD:
            return str(self.Kind.CHILD.label)
        return self.name


class PlanMeeting(models.Model):
    """A SIP meeting: the first one, or a follow-up that evaluates the actions."""

    class Kind(models.TextChoices):
        FIRST = "first", _("First meeting")
        FOLLOW_UP = "follow_up", _("Follow-up meeting")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    starts_at = models.DateTimeField(_("starts"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    created_by = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    held = models.BooleanField(_("held"), default=False)

    class Meta:
        verbose_name = _("plan meeting")
        verbose_name_plural = _("plan meetings")
        ordering = ["starts_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d}"


class PlanAttendance(models.Model):
    meeting = models.ForeignKey(
        PlanMeeting, on_delete=models.CASCADE, related_name="attendance", db_index=False
    )
    participant = models.ForeignKey(
        PlanParticipant, on_delete=models.CASCADE, related_name="attendance"
    )
    present = models.BooleanField(_("present"), default=False)

    class Meta:
        verbose_name = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "participant"], name="plan_attendance_once")
        ]

    def __str__(self) -> str:
        return f"{self.participant} ({'x' if self.present else '-'})"


class PlanVersion(models.Model):
    """One version of the plan's content. Never changed once saved."""

    class Kind(models.TextChoices):
        FIRST = "first", _("Made at the first meeting")
        REVISION = "revision", _("Revised between meetings")
        FOLLOW_UP = "follow_up", _("Made at a follow-up")

    class VoiceMethod(models.TextChoices):
        AT_MEETING = "at_meeting", _("At the meeting")
        SEPARATELY = "separately", _("In a separate conversation")
        TRUSTED_PERSON = "trusted_person", _("Through someone the child trusts")
        NOT_YET = "not_yet", _("Not yet gathered")

    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="versions", db_index=False
    )
    number = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    meeting = models.ForeignKey(
        PlanMeeting, on_delete=models.PROTECT, null=True, blank=True, related_name="versions"
    )
    # Records belong to a sector: the unit that wrote the version.
    created_by = models.ForeignKey(Professional, on_delete=models.PROTECT, related_name="+")
    created_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("saved"), default=timezone.now)
    needs = models.TextField(_("needs and background"))
    family_view = models.TextField(_("the family's own view"), blank=True)
    child_voice = models.TextField(
        _("the child's voice"),
        blank=True,
        help_text=_("In the child's own words where possible."),
    )
    child_voice_method = models.CharField(
        _("how the child's voice was gathered"),
        max_length=20,
        choices=VoiceMethod.choices,
        default=VoiceMethod.NOT_YET,
    )
    child_voice_by = models.CharField(
        _("gathered by"), max_length=200, blank=True, help_text=_("Who talked with the child.")
    )
    overall_responsibility = models.ForeignKey(
        Organisation,
        verbose_name=_("overall responsibility"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The responsible body (huvudman) that holds overall responsibility."),
    )
    coordinator = models.ForeignKey(
        Professional,
        verbose_name=_("coordinator"),
        on_delete=models.PROTECT,
        related_name="coordinated_plan_versions",
    )
    next_follow_up = models.DateField(_("next follow-up"))
    evaluation = models.TextField(
        _("evaluation"), blank=True, help_text=_("At a follow-up: how the plan has gone so far.")
    )

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["plan", "number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="plan_version_once")]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"


class PlanGoal(models.Model):
    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="goals")
    text = models.TextField(_("goal"))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text


class PlanIntervention(models.Model):
    """An intervention the child needs, and which responsible body (or other) provides it."""

    class ProviderKind(models.TextChoices):
        REGION = "region", _("Region")
        MUNICIPALITY = "municipality", _("Municipality")
        OTHER = "other", _("Other (family, network, association, ...)")

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="interventions")
    what = models.TextField(_("intervention"))
    provider_kind = models.CharField(_("provided by"), max_length=20, choices=ProviderKind.choices)
    provider = models.ForeignKey(
        Organisation,
        verbose_name=_("responsible body"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    provider_other = models.CharField(_("provided by (other)"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("intervention")
        verbose_name_plural = _("interventions")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(provider_kind="other", provider__isnull=True) & ~Q(provider_other="")
                | ~Q(provider_kind="other") & Q(provider__isnull=False),
                name="plan_intervention_provider",
            )
        ]

    def __str__(self) -> str:
        return self.what


class PlanAction(models.Model):
    """A concrete action before the next meeting: what, who (unit and person), by when."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ONGOING = "ongoing", _("Ongoing")
        DONE = "done", _("Done")
        NOT_DONE = "not_done", _("Not done")

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="actions")
    what = models.TextField(_("what"))
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, null=True, blank=True
    )
    responsible = models.ForeignKey(
        Professional,
        verbose_name=_("who"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plan_actions",
    )
    responsible_other = models.CharField(
        _("who (not a professional)"),
        max_length=200,
        blank=True,
        help_text=_("A guardian, the child or someone in the family's network."),
    )
    due_date = models.DateField(_("by when"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    evaluation = models.TextField(_("how it went"), blank=True)
    # The same action in the version before, when carried over.
    carried_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("plan action")
        verbose_name_plural = _("plan actions")
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(responsible__isnull=False) | ~Q(responsible_other=""),
                name="plan_action_has_someone",
            )
        ]

    def __str__(self) -> str:
        return self.what
