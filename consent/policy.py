"""THE access policy: who may see which identified child data, and on what basis.

Every view, query and service asks this module; none re-implements it. When no rule matches,
the answer is no. A decision names its legal basis so the audit log can record it.

Rules, tried in this order:
1. OWN_UNIT: a professional with a current membership in a unit the child belongs to (the
   child's BVC unit or preschool/school) sees the child's identified data, for any purpose.
2. REPORT_OF_CONCERN: members of the social-services unit that received a report of concern
   about the child see it; no consent is needed (the law demands the report).
3. CONSENT: an effective consent (every custodial guardian has given it, none has withdrawn
   it, today is within its validity) whose scope names the user's unit, or the sector of one
   of the user's units within that unit's municipality (never a sector nationwide). A
   team-discussion consent also needs the user to sit in that team. For a named purpose
   only a consent for that purpose counts; for CARE (opening the child's page) any covering
   consent does.
Nothing else grants access: not the superuser flag, not sector-wide roles.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from typing_extensions import TypeIs

    from cases.models import ReportOfConcern
    from consent.models import Consent, ConsentScope
    from directory.models import Professional, Team, Unit
    from families.models import Child, ChildQuerySet
    from plans.models import Plan

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
    HOME_VISITS = "home_visits", _("Extended home visits")


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

    @property
    def through_unit(self) -> Unit:
        """The unit an allowed access goes through: every rule that allows names one."""
        if self.unit is None:
            raise ValueError("a denial goes through no unit")
        return self.unit


def _is_professional(user: User) -> TypeIs[Professional]:
    """A signed-in, active professional; after it, the type checker knows the user is one."""
    return bool(user.is_authenticated and user.is_active)


def acting_professional(user: User) -> Professional:
    """The user as the professional who acts, to record as such: only ever asked after a
    decision allowed them, which no one but a signed-in professional gets."""
    if not _is_professional(user):
        raise ValueError("only a signed-in professional acts")
    return user


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
        user._samverkan_units = cached  # type: ignore[attr-defined]  # a cache, not a field
    return cached


def current_unit_ids(user: User) -> list[int]:
    """The ids of `user`'s current units (`current_units`), to name in a query as values: the
    database then knows how many rows each unit has and starts from the few rows a page asks
    about (behind a subquery it guessed a unit's size and went through all its children)."""
    return [unit.pk for unit in current_units(user)]


def _current_memberships(user: Professional):  # type: ignore[no-untyped-def]
    from directory.models import Membership

    return Membership.objects.current().filter(professional=user)


def _user_units(user: Professional):  # type: ignore[no-untyped-def]
    from directory.models import Unit

    return Unit.objects.filter(pk__in=_current_memberships(user).values("unit_id"))


def covering_consents(user: User, purpose: Purpose | None, team=None):  # type: ignore[no-untyped-def]
    """Effective consents that reach `user`, for `purpose` (None or CARE: any purpose).
    With `team`, a team-discussion consent counts only for that team's own meetings."""
    from consent.models import Consent

    consents = (
        Consent.objects.effective()
        .covering_units(current_units(user))
        .filter(Q(team__isnull=True) | Q(team__memberships__professional=user))
    )
    if purpose not in (None, Purpose.CARE):
        consents = consents.filter(purpose=purpose)
    if team is not None:
        consents = consents.filter(team=team)
    return consents


def _reports_to(user: User):  # type: ignore[no-untyped-def]
    from cases.models import ReportOfConcern

    return ReportOfConcern.objects.filter(to_unit__in=current_unit_ids(user))


def _reached_by_any(*rules):  # type: ignore[no-untyped-def]
    """Ids reached by any of `rules` (querysets of one id column each), as one subquery: one
    query for the page however much the user may see. A UNION of one indexed path per rule,
    not an OR of them: an OR makes the database test every row in the country against every
    rule (minutes at 2 million children); each branch of the UNION reads only the user's own
    few thousand rows through an index."""
    first, *rest = rules
    return first.union(*rest)


def visible_child_ids(  # type: ignore[no-untyped-def]
    user: User,
    purpose: Purpose | None = None,
    among: Collection[int] | None = None,
    columns: Sequence[str] = (),
):
    """The ids of the children `user` may see (each once): the subquery behind
    `visible_children`, which also counts them without reading the children themselves.

    `among`: only these children are asked about. Each rule then looks up only them, by
    their ids, instead of reading everything the user may see: a page that names a few
    children costs the same however large the user's units are.

    `columns`: child columns each row carries beside the id (the start page's names, to
    sort by). The unit rules read them from the units' covering indexes, not from the
    children's rows, which lie on a page each in a country of two million."""
    from families.models import Child

    if not _is_professional(user):
        return Child.objects.none().values("pk", *columns)
    own_units = current_unit_ids(user)
    children, others = Child.objects.all(), Q()
    if among is not None:
        children, others = children.filter(pk__in=among), Q(child_id__in=among)
    through_child = [f"child__{column}" for column in columns]
    return _reached_by_any(
        children.filter(bvc_unit__in=own_units).values("pk", *columns),
        children.filter(school_unit__in=own_units).values("pk", *columns),
        _reports_to(user).filter(others).values("child_id", *through_child),
        covering_consents(user, purpose).filter(others).values("child_id", *through_child),
    )


def visible_children(
    user: User,
    queryset: ChildQuerySet | None = None,
    purpose: Purpose | None = None,
    among: Collection[int] | None = None,
) -> ChildQuerySet:
    """Children whose identified data `user` may see. The same rules as `decide_children`.
    `among`: only these children (`visible_child_ids`)."""
    from families.models import Child

    queryset = Child.objects.all() if queryset is None else queryset
    if not _is_professional(user):
        return queryset.none()
    if among is not None:
        queryset = queryset.filter(pk__in=among)
    return queryset.filter(pk__in=visible_child_ids(user, purpose, among))


def decide_children(
    user: User,
    children: Iterable[Child],
    purpose: Purpose,
    *,
    team: Team | None = None,
) -> dict[int, Decision]:
    """A decision for each child, in a fixed number of queries however many children and
    whichever rule turns out to allow each one: the user's units, the reports of concern and
    the covering consents (with their scopes) are each read once, for every child, so that a
    page's cost does not depend on its content (three queries for any non-empty list).

    `team`: the team whose meeting shows the children; a team-discussion consent given for
    another team does not reach this one."""
    from consent.models import ConsentScope

    children = list(children)
    decisions = {child.pk: Decision.deny() for child in children}
    if not _is_professional(user) or not children:
        return decisions
    units = current_units(user)
    by_unit = {unit.pk: unit for unit in units}
    pks = list(decisions)
    reports: dict[int, ReportOfConcern] = {}
    for report in _reports_to(user).filter(child_id__in=pks).order_by("pk"):
        reports.setdefault(report.child_id, report)
    # Each child's first covering consent with its scopes, read as scopes with their consent:
    # one query (a prefetch would be a second one, run only when a consent is found), and
    # every covering consent has a scope (that is what makes it cover).
    consents: dict[int, tuple[Consent, list[ConsentScope]]] = {}
    covering = covering_consents(user, purpose, team).filter(child_id__in=pks).values("pk")
    for scope in (
        ConsentScope.objects.filter(consent__in=covering)
        .select_related("consent")
        .order_by("consent_id", "pk")
    ):
        consent, scopes = consents.setdefault(scope.consent.child_id, (scope.consent, []))
        if consent.pk == scope.consent_id:
            scopes.append(scope)
    for child in children:
        shared = [unit for unit in units if unit.pk in child.unit_ids()]
        if shared:
            decisions[child.pk] = Decision(allowed=True, basis=Basis.OWN_UNIT, unit=shared[0])
        elif (report := reports.get(child.pk)) is not None:
            decisions[child.pk] = Decision(
                allowed=True,
                basis=Basis.REPORT_OF_CONCERN,
                unit=by_unit[report.to_unit_id],
                reference=f"report:{report.pk}",
            )
        elif (found := consents.get(child.pk)) is not None:
            consent, scopes = found
            decisions[child.pk] = Decision(
                allowed=True,
                basis=Basis.CONSENT,
                unit=_unit_in_scopes(units, scopes),
                reference=f"consent:{consent.pk}",
            )
    return decisions


def _unit_covered(units: list[Unit], consent) -> Unit | None:  # type: ignore[no-untyped-def]
    return _unit_in_scopes(units, list(consent.scopes.all()))


def _unit_in_scopes(units: list[Unit], scopes: list[ConsentScope]) -> Unit | None:
    """The first of `units` that one of a consent's `scopes` reaches (`ConsentScope.reaches`)."""
    for unit in units:
        if any(scope.reaches(unit) for scope in scopes):
            return unit
    return None


def decide_child(user: User, child: Child, purpose: Purpose) -> Decision:
    """May `user` see `child`'s identified data for `purpose`? Names the basis."""
    return decide_children(user, [child], purpose)[child.pk]


def may_see_address(user: User, child: Child) -> bool:
    """A protected child's address shows only inside the child's own units."""
    if not child.is_protected:
        return decide_child(user, child, Purpose.CARE).allowed
    return any(unit.pk in child.unit_ids() for unit in current_units(user))


def may_record_withdrawal(user: User, consent) -> Decision:  # type: ignore[no-untyped-def]
    """A guardian may withdraw by telling anyone the consent reaches: its own units and every
    professional it covers. Withdrawing only takes access away, so no more is needed."""
    own = may_record_consent(user, consent.child)
    if own.allowed:
        return own
    decision = decide_child(user, consent.child, Purpose(consent.purpose))
    if decision.allowed and decision.reference == f"consent:{consent.pk}":
        return decision
    return Decision.deny()


def may_record_consent(user: User, child: Child) -> Decision:
    """Consents are recorded by the child's own units (they meet the family)."""
    decision = decide_child(user, child, Purpose.CARE)
    return decision if decision.basis == Basis.OWN_UNIT else Decision.deny()


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


def teams_of(user: User):  # type: ignore[no-untyped-def]
    """Teams `user` sits in (as member or coordinator), each once. Two indexed paths in a
    UNION: the OR of a join read every membership of every team in the country."""
    from directory.models import Team, TeamMember

    if not _is_professional(user):
        return Team.objects.none()
    return Team.objects.filter(
        pk__in=_reached_by_any(
            TeamMember.objects.filter(professional=user).values("team_id"),
            Team.objects.filter(coordinator=user).order_by().values("pk"),
        )
    )


def may_run_meeting(user: User, team) -> bool:  # type: ignore[no-untyped-def]
    """Only the team's coordinator opens, closes and amends its meetings."""
    return _is_professional(user) and team.coordinator_id == user.pk


def visible_concerns(user: User):  # type: ignore[no-untyped-def]
    """Cases `user` may open: those they recorded, those of their teams, and those about a
    child they may see. Whether the *child's identity* shows is decided apart, per child
    (`decide_children`): a team member may follow a case without seeing whom it is about."""
    from cases.models import Concern

    if not _is_professional(user):
        return Concern.objects.none()
    return Concern.objects.filter(
        pk__in=_reached_by_any(
            Concern.objects.filter(created_by=user).values("pk"),
            Concern.objects.filter(team__in=teams_of(user)).values("pk"),
            Concern.objects.filter(child__in=visible_children(user).values("pk")).values("pk"),
        )
    )


def may_run_screening(user: User, child: Child) -> Decision:
    """BarnSäkert is run, and its answers read, by the child's own child-health unit only."""
    from directory.models import Sector

    decision = decide_child(user, child, Purpose.CARE)
    if decision.basis == Basis.OWN_UNIT and decision.through_unit.sector == Sector.CHILD_HEALTH:
        return decision
    for unit in current_units(user):
        if unit.pk == child.bvc_unit_id:
            return Decision(allowed=True, basis=Basis.OWN_UNIT, unit=unit)
    return Decision.deny()


# --- SIP: coordinated individual plans ------------------------------------------------------


def sip_consent(child: Child):  # type: ignore[no-untyped-def]
    """The child's newest effective SIP consent, or None."""
    from consent.models import Consent

    return (
        Consent.objects.effective()
        .filter(child=child, purpose=Purpose.SIP)
        .order_by("-effective_from", "-pk")
        .first()
    )


def unit_covered_by(consent, unit: Unit) -> bool:  # type: ignore[no-untyped-def]
    """Does `consent`'s scope reach `unit` (the unit itself, or its sector in its
    municipality: `ConsentScope.reaches`)?"""
    return unit.pk in units_covered_by(consent, [unit])


def units_covered_by(consent, units: Iterable[Unit]) -> set[int]:  # type: ignore[no-untyped-def]
    """The ids of those `units` that `consent`'s scope reaches (`ConsentScope.reaches`), in
    one query however many units (a plan's participants and actions on one page)."""
    units = list(units)
    if not units:
        return set()
    scopes = list(consent.scopes.all())
    return {unit.pk for unit in units if any(scope.reaches(unit) for scope in scopes)}


def may_start_plan(user: User, child: Child) -> Decision:
    """A SIP is started by a unit that may see the child for SIP, and only while an effective
    SIP consent exists: the decision's reference names that consent."""
    decision = decide_child(user, child, Purpose.SIP)
    if decision.allowed and decision.basis == Basis.OWN_UNIT:
        consent = sip_consent(child)
        if consent is None:
            return Decision.deny()
        return Decision(
            allowed=True,
            basis=Basis.OWN_UNIT,
            unit=decision.unit,
            reference=f"consent:{consent.pk}",
        )
    consent = (
        covering_consents(user, Purpose.SIP)
        .filter(child=child)
        .prefetch_related("scopes")
        .order_by("-pk")
        .first()
    )
    if consent is None:
        return Decision.deny()
    return Decision(
        allowed=True,
        basis=Basis.CONSENT,
        unit=_unit_covered(current_units(user), consent),
        reference=f"consent:{consent.pk}",
    )


def visible_plans(user: User, among=None):  # type: ignore[no-untyped-def]
    """Plans `user` may open: those of children the user may see for SIP (own unit, or a SIP
    consent that reaches the user). When the family ends a plan its consent is withdrawn, so
    sharing stops at once and only the child's own units keep their view.

    `among` (plan ids, or a subquery of them): only these plans are asked about, each rule
    starting from them instead of from every plan of the user's units."""
    from plans.models import Plan

    if not _is_professional(user):
        return Plan.objects.none()
    own_units = current_unit_ids(user)
    plans = Plan.objects.all() if among is None else Plan.objects.filter(pk__in=among)
    return plans.filter(
        pk__in=_reached_by_any(
            plans.filter(child__bvc_unit__in=own_units).values("pk"),
            plans.filter(child__school_unit__in=own_units).values("pk"),
            plans.filter(consent__in=covering_consents(user, Purpose.SIP)).values("pk"),
        )
    )


def decide_plan(user: User, plan) -> Decision:  # type: ignore[no-untyped-def]
    """May `user` read and write `plan`? The child's own units may; anyone else only while the
    plan's own SIP consent is in force and reaches them."""
    if not _is_professional(user):
        return Decision.deny()
    units = current_units(user)
    shared = [unit for unit in units if unit.pk in plan.child.unit_ids()]
    if shared:
        return Decision(allowed=True, basis=Basis.OWN_UNIT, unit=shared[0])
    if not covering_consents(user, Purpose.SIP).filter(pk=plan.consent_id).exists():
        return Decision.deny()
    return Decision(
        allowed=True,
        basis=Basis.CONSENT,
        unit=_unit_covered(units, plan.consent),
        reference=f"consent:{plan.consent_id}",
    )


def decide_plans(user: User, plans: Iterable[Plan]) -> dict[int, Decision]:
    """`decide_plan` for a list of plans (a worklist, the plan list), in a fixed number of
    queries however many plans: the same rules, keyed by plan id."""
    plans = list(plans)
    decisions = {plan.pk: Decision.deny() for plan in plans}
    if not _is_professional(user) or not plans:
        return decisions
    units = current_units(user)
    undecided = []
    for plan in plans:
        shared = [unit for unit in units if unit.pk in plan.child.unit_ids()]
        if shared:
            decisions[plan.pk] = Decision(allowed=True, basis=Basis.OWN_UNIT, unit=shared[0])
        else:
            undecided.append(plan)
    if not undecided:
        return decisions
    consents = {
        consent.pk: consent
        for consent in covering_consents(user, Purpose.SIP)
        .filter(pk__in={plan.consent_id for plan in undecided})
        .prefetch_related("scopes")
        .distinct()
    }
    for plan in undecided:
        consent = consents.get(plan.consent_id)
        if consent is not None:
            decisions[plan.pk] = Decision(
                allowed=True,
                basis=Basis.CONSENT,
                unit=_unit_covered(units, consent),
                reference=f"consent:{consent.pk}",
            )
    return decisions


# --- Home visits ------------------------------------------------------------------------------


def may_offer_programme(user: User, child: Child) -> Decision:
    """Home-visit programmes are offered by the child's own BVC."""
    for unit in current_units(user):
        if unit.pk == child.bvc_unit_id:
            return Decision(allowed=True, basis=Basis.OWN_UNIT, unit=unit)
    return Decision.deny()


def visible_enrolments(user: User):  # type: ignore[no-untyped-def]
    """Enrolments `user` may see: those of the user's own BVC, and those of a programme whose
    social-services unit the user works in while the family's home-visit consent is in force."""
    from visits.models import Enrolment

    if not _is_professional(user):
        return Enrolment.objects.none()
    own_units = current_unit_ids(user)
    consents = covering_consents(user, Purpose.HOME_VISITS)
    return Enrolment.objects.filter(
        pk__in=_reached_by_any(
            Enrolment.objects.filter(unit__in=own_units).values("pk"),
            Enrolment.objects.filter(
                programme__partner_unit__in=own_units, consent__in=consents
            ).values("pk"),
        )
    )


def may_read_record(user: User, child: Child, unit: Unit) -> Decision:
    """May `user` read what `unit` documented about `child` (e.g. a home-visit note)?

    A record stays in its own unit's sector: its members read it; anyone else only through
    an effective information-exchange consent for the child that reaches them."""
    if not _is_professional(user):
        return Decision.deny()
    own = [u for u in current_units(user) if u.pk == unit.pk]
    if own:
        return Decision(allowed=True, basis=Basis.OWN_UNIT, unit=own[0])
    consent = (
        covering_consents(user, Purpose.INFORMATION_EXCHANGE)
        .filter(child=child)
        .prefetch_related("scopes")
        .order_by("pk")
        .first()
    )
    if consent is None:
        return Decision.deny()
    return Decision(
        allowed=True,
        basis=Basis.CONSENT,
        unit=_unit_covered(current_units(user), consent),
        reference=f"consent:{consent.pk}",
    )


def decide_enrolment(user: User, enrolment) -> Decision:  # type: ignore[no-untyped-def]
    """May `user` open and work on `enrolment` (its schedule, bookings and notes)? The same
    rules as `visible_enrolments`, for one enrolment, naming the basis: the BVC that holds it
    (own unit); the programme's social-services unit while the family's home-visit consent is
    in force and reaches the user (consent)."""
    if not _is_professional(user):
        return Decision.deny()
    units = current_units(user)
    own = [unit for unit in units if unit.pk == enrolment.unit_id]
    if own:
        return Decision(allowed=True, basis=Basis.OWN_UNIT, unit=own[0])
    partner = [unit for unit in units if unit.pk == enrolment.programme.partner_unit_id]
    if (
        partner
        and enrolment.consent_id is not None
        and covering_consents(user, Purpose.HOME_VISITS).filter(pk=enrolment.consent_id).exists()
    ):
        return Decision(
            allowed=True,
            basis=Basis.CONSENT,
            unit=partner[0],
            reference=f"consent:{enrolment.consent_id}",
        )
    return Decision.deny()


def statistics_programmes(user: User):  # type: ignore[no-untyped-def]
    """Home-visit programmes whose coverage statistics `user` may see: those whose
    social-services unit the user works in, and those of a municipality that a child-health
    unit of the user serves. The figures are counts with small cells suppressed, never a
    family, so no consent is involved; anyone else sees no programme (the page is a 404)."""
    from directory.models import Sector
    from visits.models import Programme

    if not _is_professional(user):
        return Programme.objects.none()
    units = _user_units(user)
    return Programme.objects.filter(
        Q(partner_unit__in=units)
        | Q(municipality__in=units.filter(sector=Sector.CHILD_HEALTH).values("municipality"))
    )


# --- Regional statistics ----------------------------------------------------------------------


def statistics_regions(user: User):  # type: ignore[no-untyped-def]
    """Regions whose regional statistics (`reports`) `user` may see: those in which the user
    is a current *manager* (`Membership.is_manager`) of a unit, a unit of the region itself or
    one serving a municipality of the region. The figures are counts with small cells
    suppressed, never a child, so no consent is involved; everyone else sees no region (the
    page is a 404)."""
    from directory.models import Organisation, Unit

    if not _is_professional(user):
        return Organisation.objects.none()
    managed = Unit.objects.filter(
        pk__in=_current_memberships(user).filter(is_manager=True).values("unit_id")
    )
    return Organisation.objects.filter(kind=Organisation.Kind.REGION).filter(
        Q(pk__in=managed.values("organisation")) | Q(pk__in=managed.values("municipality__region"))
    )
