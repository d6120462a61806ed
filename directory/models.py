"""The directory: organisations, units, professionals and teams.

A *sector* is the secrecy domain a unit works in (child health care, school, social services, ...).
Secrecy holds between sectors and between organisations, so every record later carries the unit
that wrote it, and through it the sector and organisation.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Sector(models.TextChoices):
    CHILD_HEALTH = "child_health", _("Child health care (BVC)")
    PRIMARY_CARE = "primary_care", _("Primary care")
    PRESCHOOL = "preschool", _("Preschool")
    SCHOOL = "school", _("School")
    STUDENT_HEALTH = "student_health", _("Student health")
    SOCIAL_SERVICES = "social_services", _("Social services")
    OPEN_PRESCHOOL = "open_preschool", _("Open preschool / family centre")


class Profession(models.TextChoices):
    BVC_NURSE = "bvc_nurse", _("Child health nurse")
    CHILD_HEALTH_PSYCHOLOGIST = "child_health_psychologist", _("Child health psychologist")
    PHYSICIAN = "physician", _("Physician")
    PRESCHOOL_TEACHER = "preschool_teacher", _("Preschool teacher")
    SPECIAL_EDUCATOR = "special_educator", _("Special educator")
    TEACHER = "teacher", _("Teacher")
    PRINCIPAL = "principal", _("Principal")
    SCHOOL_NURSE = "school_nurse", _("School nurse")
    SCHOOL_COUNSELLOR = "school_counsellor", _("School counsellor")
    SCHOOL_PSYCHOLOGIST = "school_psychologist", _("School psychologist")
    FAMILY_THERAPIST = "family_therapist", _("Family therapist")
    SOCIAL_SECRETARY = "social_secretary", _("Social secretary")
    BUDGET_COUNSELLOR = "budget_counsellor", _("Budget and debt counsellor")
    FAMILY_COUNSELLOR = "family_counsellor", _("Family counsellor")
    OPEN_PRESCHOOL_TEACHER = "open_preschool_teacher", _("Open preschool teacher")
    COORDINATOR = "coordinator", _("Coordinator")
    ADMINISTRATOR = "administrator", _("Administrator")


class Organisation(models.Model):
    """A responsible body (huvudman): a region, a municipality or a care company."""

    class Kind(models.TextChoices):
        REGION = "region", _("Region")
        MUNICIPALITY = "municipality", _("Municipality")
        COMPANY = "company", _("Care company")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # Organisationsnummer, or the municipality/region code from SCB.
    code = models.CharField(_("code"), max_length=20, blank=True)
    region = models.ForeignKey(
        "self",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        limit_choices_to={"kind": Kind.REGION},
        help_text=_("The region a municipality or company belongs to."),
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """A unit (enhet) of one organisation working in one sector: a BVC, a preschool, ..."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="units",
        db_index=False,
    )
    sector = models.CharField(_("sector"), max_length=30, choices=Sector.choices, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    municipality = models.ForeignKey(
        Organisation,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        related_name="units_in_area",
        limit_choices_to={"kind": Organisation.Kind.MUNICIPALITY},
        help_text=_("The municipality the unit serves (for a regional BVC: where it lies)."),
    )
    hsa_id = models.CharField(_("HSA id"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)
    receives_reports_of_concern = models.BooleanField(
        _("receives reports of concern"),
        default=False,
        help_text=_("Social services intake: reports of concern about children arrive here."),
    )

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="unit_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Professional(AbstractUser):
    """A person who works in one or more units. The only kind of user that logs in."""

    profession = models.CharField(
        _("profession"), max_length=40, choices=Profession.choices, blank=True
    )
    title = models.CharField(_("title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    units = models.ManyToManyField(
        Unit, through="Membership", related_name="professionals", verbose_name=_("units")
    )

    class Meta:
        verbose_name = _("professional")
        verbose_name_plural = _("professionals")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class MembershipQuerySet(models.QuerySet["Membership"]):
    def current(self) -> MembershipQuerySet:
        """Memberships in force today (open-ended at either side when a date is empty)."""
        today = timezone.localdate()
        return self.filter(
            (Q(valid_from__isnull=True) | Q(valid_from__lte=today))
            & (Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        )


class Membership(models.Model):
    """A professional's place in a unit. Access to a unit's children follows from it."""

    professional = models.ForeignKey(
        Professional, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="memberships")
    is_manager = models.BooleanField(
        _("unit manager"), default=False, help_text=_("Managers review the unit's access log.")
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("unit membership")
        verbose_name_plural = _("unit memberships")
        constraints = [
            models.UniqueConstraint(fields=["professional", "unit"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.professional} – {self.unit}"


class Team(models.Model):
    """A standing cross-professional team, e.g. a BHT Plus or HLT team, that meets regularly."""

    class Model(models.TextChoices):
        BHT_PLUS = "bht_plus", _("BHT Plus")
        HLT = "hlt", _("HLT – health, learning, safety")
        OTHER = "other", _("Other")

    class Cadence(models.TextChoices):
        WEEKLY = "weekly", _("Weekly")
        BIWEEKLY = "biweekly", _("Every other week")
        MONTHLY = "monthly", _("Monthly")

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")

    name = models.CharField(_("name"), max_length=200, unique=True)
    working_model = models.CharField(_("working model"), max_length=20, choices=Model.choices)
    municipality = models.ForeignKey(
        Organisation,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        related_name="teams",
        limit_choices_to={"kind": Organisation.Kind.MUNICIPALITY},
    )
    coordinator = models.ForeignKey(
        Professional,
        verbose_name=_("coordinator"),
        on_delete=models.PROTECT,
        related_name="coordinated_teams",
    )
    cadence = models.CharField(
        _("meeting cadence"), max_length=20, choices=Cadence.choices, default=Cadence.MONTHLY
    )
    weekday = models.IntegerField(_("weekday"), choices=Weekday.choices, default=Weekday.TUESDAY)
    week_of_month = models.PositiveSmallIntegerField(
        _("week of the month"),
        default=1,
        help_text=_("For monthly meetings: 1 = first, 2 = second ... of the month."),
    )
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=60)
    consent_before_identified = models.BooleanField(
        _("identified items need consent in advance"),
        default=False,
        help_text=_(
            "As in HLT: a child is put on the agenda by name only after the guardians' "
            "consent to team discussion is in force."
        ),
    )
    members = models.ManyToManyField(
        Professional, through="TeamMember", related_name="teams", verbose_name=_("members")
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(week_of_month__gte=1) & Q(week_of_month__lte=5),
                name="team_week_of_month_range",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=15) & Q(duration_minutes__lte=480),
                name="team_duration_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    """A professional's seat in a team, representing one of their units."""

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    professional = models.ForeignKey(
        Professional, on_delete=models.CASCADE, related_name="team_memberships"
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("representing unit"),
        on_delete=models.PROTECT,
        related_name="team_memberships",
    )

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [
            models.UniqueConstraint(fields=["team", "professional"], name="team_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.professional} ({self.unit})"

    def clean(self) -> None:
        if (
            self.professional_id
            and self.unit_id
            and not Membership.objects.filter(
                professional_id=self.professional_id, unit_id=self.unit_id
            ).exists()
        ):
            raise ValidationError(
                {"unit": _("The professional is not a member of the unit they represent.")}
            )


class Service(models.Model):
    """A service in the resource directory that a family can be referred or routed to."""

    class Kind(models.TextChoices):
        SPEECH_THERAPIST = "speech_therapist", _("Speech therapist")
        CHILD_PSYCHOLOGIST = "child_psychologist", _("Child psychologist")
        FAMILY_THERAPY = "family_therapy", _("Family therapist (support talks)")
        BUDGET_DEBT = "budget_debt", _("Budget and debt counselling")
        FAMILY_COUNSELLING = "family_counselling", _("Family counselling")
        OPEN_PRESCHOOL = "open_preschool", _("Open preschool")
        PARENTING_SUPPORT = "parenting_support", _("Parenting support group")
        CHILD_PSYCHIATRY = "child_psychiatry", _("Child and adolescent psychiatry")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices, db_index=True)
    provider = models.ForeignKey(
        Unit, verbose_name=_("provider unit"), on_delete=models.PROTECT, related_name="services"
    )
    municipality = models.ForeignKey(
        Organisation,
        verbose_name=_("municipality"),
        on_delete=models.PROTECT,
        related_name="services",
        limit_choices_to={"kind": Organisation.Kind.MUNICIPALITY},
    )
    description = models.TextField(_("description"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    families_can_contact = models.BooleanField(
        _("families can contact it themselves"), default=True
    )
    target_group = models.CharField(_("target group"), max_length=200, blank=True)
    min_age_years = models.PositiveSmallIntegerField(_("from age (years)"), default=0)
    max_age_years = models.PositiveSmallIntegerField(_("to age (years)"), default=18)
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    # ISO 639 codes of the languages the staff speak (sv, en, ar, so, ti, prs, uk, fi, ...).
    languages = models.JSONField(_("languages spoken"), default=list, blank=True)
    # Screening domains it helps with (screening.models.Domain values).
    domains = models.JSONField(_("screening domains it helps with"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
