"""Reads for BarnSäkert: which languages the kiosk offers, and a guardian's answers, read only
through the access policy and always audited."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import ngettext

from audit.models import Action
from audit.services import Access, access_log, access_log_many
from consent import policy
from consent.policy import Basis, Decision, Purpose
from directory.models import Organisation, Sector, Service, Unit
from families.models import Child, Custody, Guardian

from .languages import LANGUAGES, QuestionnaireLanguage
from .models import (
    Answer,
    Domain,
    FollowUp,
    ItemText,
    Occasion,
    QuestionnaireVersion,
    RegionScreeningSettings,
    Response,
    SupportSlot,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from directory.models import Professional


def available_languages(
    version: QuestionnaireVersion, region: Organisation | None
) -> list[QuestionnaireLanguage]:
    """The languages a guardian may choose for `version`, in the picker's order.

    A language counts when it has a text for every item. When the region hides unreviewed
    translations, only languages whose texts are all reviewed count. Swedish is always offered.
    """
    hide = bool(
        region is not None
        and RegionScreeningSettings.objects.filter(
            region=region, hide_unreviewed_translations=True
        ).exists()
    )
    items = version.items.count()
    counts = (
        ItemText.objects.filter(item__version=version)
        .values("language")
        .annotate(
            texts=Count("pk"),
            reviewed=Count("pk", filter=Q(status=ItemText.Status.REVIEWED)),
        )
    )
    complete = {
        row["language"]
        for row in counts
        if items and (row["reviewed"] if hide else row["texts"]) == items
    }
    return [
        language for language in LANGUAGES if language.code == "sv" or language.code in complete
    ]


def response_for_request(request: HttpRequest, pk: int) -> Response:
    """The guardian's submitted answers `pk`, if the user's unit runs the child's screenings
    (`policy.may_run_screening`); 404 otherwise, the same for a missing response as for a
    forbidden one. The attempt is written to the access log either way."""
    user = request.user
    response = (
        Response.objects.filter(
            screening__child__in=Child.objects.visible_to(user)  # type: ignore[arg-type]
        )
        .select_related("screening__child", "version__questionnaire")
        .filter(pk=pk)
        .first()
    )
    child = response.screening.child if response is not None else None
    decision = policy.may_run_screening(user, child) if child is not None else Decision.deny()
    access_log(
        request=request,
        action=Action.VIEW_SCREENING,
        purpose=Purpose.CARE,
        decision=decision,
        child=child,
    )
    if response is None or not decision.allowed:
        raise Http404
    return response


# --- Who sees what: the nurse, other sectors under a consent, nobody else ---------------------

AccessLevel = Literal["answers", "summary", "none"]


@dataclass(frozen=True)
class ScreeningAccess:
    """What a user may see of a child's BarnSäkert data, and the decision to write to the log."""

    level: AccessLevel
    decision: Decision
    runs_screening: bool = False  # the child's own BVC: the nurse's full family overview


def screening_access(user: Professional, child: Child) -> ScreeningAccess:
    """May `user` see `child`'s screening answers, only the shareable summaries, or nothing?

    - "answers", `runs_screening`: the child's own child-health unit (the policy's
      `may_run_screening`).
    - "answers": another unit reached by an effective consent (the policy's rules: scope,
      validity, every custodial guardian, team) that explicitly includes the guardians' own
      screening answers.
    - "summary": another unit reached by an ordinary effective consent: the nurse's summary
      that may be shared and the support offered, never the answers.
    - "none": anyone else, including the child's own preschool and a social-services unit that
      received a report of concern: seeing the child is not a consent to share health records.

    The decision names the consent, so the access log records what the access rests on.
    """
    own = policy.may_run_screening(user, child)
    if own.allowed:
        return ScreeningAccess("answers", own, runs_screening=True)
    seen = policy.decide_child(user, child, Purpose.CARE)
    if not seen.allowed:
        return ScreeningAccess("none", Decision.deny())
    # The consents the policy counts for CARE (any purpose), the strongest one first.
    covering = (
        policy.covering_consents(user, None)
        .filter(child=child)
        .order_by("-includes_screening_answers", "pk")
        .values_list("pk", "includes_screening_answers")
        .first()
    )
    if covering is None:
        return ScreeningAccess("none", Decision.deny())
    consent_id, includes_answers = covering
    decision = Decision(
        allowed=True, basis=Basis.CONSENT, unit=seen.unit, reference=f"consent:{consent_id}"
    )
    return ScreeningAccess("answers" if includes_answers else "summary", decision)


# --- Occasions -------------------------------------------------------------------------------


def unit_region(unit: Unit) -> Organisation | None:
    """The region whose occasions a BVC unit follows (select `organisation__region`)."""
    organisation = unit.organisation
    if organisation.kind == Organisation.Kind.REGION:
        return organisation
    return organisation.region


def child_health_units(user: Professional) -> list[Unit]:
    """The user's current child-health (BVC) units, with organisation and region."""
    ids = [unit.pk for unit in policy.current_units(user) if unit.sector == Sector.CHILD_HEALTH]
    if not ids:
        return []
    return list(
        Unit.objects.filter(pk__in=ids)
        .select_related("organisation__region")
        .order_by("name", "pk")
    )


def due_occasion(occasions: list[Occasion], age_days: int) -> Occasion | None:
    """The occasion whose age window the child is inside today."""
    inside = [o for o in occasions if o.min_age_days <= age_days <= o.max_age_days]
    return max(inside, key=lambda o: o.order, default=None)


def latest_passed_occasion(occasions: list[Occasion], age_days: int) -> Occasion | None:
    """The last occasion whose window the child has left: the only one that can be overdue
    (older missed occasions are just missed)."""
    passed = [o for o in occasions if o.max_age_days < age_days]
    return max(passed, key=lambda o: (o.max_age_days, o.order), default=None)


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


# --- The nurse's worklist --------------------------------------------------------------------

# BVC hands the child over to school health care in the year the child turns six.
WORKLIST_MAX_AGE_DAYS = 6 * 366
WorklistFilter = Literal["", "due", "overdue", "never"]


@dataclass(frozen=True)
class _Candidate:
    """A child the worklist considers, with what it knows of the child's answers."""

    pk: int
    unit_id: int
    birth_date: datetime.date


def _status_of(
    child: _Candidate,
    occasions: list[Occasion],
    guardians: list[int],
    answered: set[tuple[int, int]],
    screened: bool,
    today: datetime.date,
) -> tuple[bool, bool, bool]:
    """(due, overdue, never screened) for one child: due or overdue when a guardian with custody
    has not answered at the occasion whose window the child is in, or has just left."""
    age = (today - child.birth_date).days

    def waiting(occasion: Occasion | None) -> bool:
        return occasion is not None and any(
            (occasion.pk, guardian) not in answered for guardian in guardians
        )

    due = waiting(due_occasion(occasions, age))
    overdue = waiting(latest_passed_occasion(occasions, age))
    never = not screened and age >= min(o.min_age_days for o in occasions)
    return due, overdue, never


def worklist_children(
    user: Professional,
    units: list[Unit],
    occasions_by_unit: dict[int, list[Occasion]],
    status: WorklistFilter,
    today: datetime.date,
) -> list[int]:
    """The worklist's children (ids), for the view to page: the units' children who are due or
    overdue for an occasion with a guardian who has not answered, or never screened; overdue
    first, then the oldest (their window closes first).

    Three queries, each reading only the units' own children under six through an index, then
    the rules in Python: the cost follows the size of the units, never that of the population
    (as SQL conditions per occasion, the database hashed every custody in the country)."""
    with_occasions = [unit for unit in units if occasions_by_unit.get(unit.pk)]
    if not with_occasions:
        return []
    in_units = Child.objects.filter(
        bvc_unit__in=[unit.pk for unit in with_occasions],
        birth_date__gt=today - _days(WORKLIST_MAX_AGE_DAYS),
    )
    candidates = in_units.visible_to(user)
    children = [
        _Candidate(*row) for row in candidates.values_list("pk", "bvc_unit_id", "birth_date")
    ]
    # The custodies and answers of the same children, found by the same index range, not by
    # their ids: a list of a unit's 1,400 ids, sent twice, cost more than the queries did.
    # Rows of a child the policy hides are read but never used: only `children` are listed.
    guardians: dict[int, list[int]] = defaultdict(list)
    for child_id, guardian_id in Custody.objects.filter(
        child__in=in_units.values("pk")
    ).values_list("child_id", "guardian_id"):
        guardians[child_id].append(guardian_id)
    answered: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for child_id, occasion_id, guardian_id in Response.objects.filter(
        screening__child__in=in_units.values("pk")
    ).values_list("screening__child_id", "screening__occasion_id", "guardian_id"):
        answered[child_id].add((occasion_id, guardian_id))
    position = {unit.pk: n for n, unit in enumerate(units)}  # units come ordered by name
    listed: list[tuple[int, int, datetime.date, int]] = []
    for child in children:
        due, overdue, never = _status_of(
            child,
            occasions_by_unit[child.unit_id],
            guardians.get(child.pk, []),
            answered.get(child.pk, set()),
            child.pk in answered,
            today,
        )
        shown = (
            {"due": due, "overdue": overdue, "never": never}[status]
            if status
            else (due or overdue or never)
        )
        if shown:
            listed.append((position[child.unit_id], -int(overdue), child.birth_date, child.pk))
    return [pk for *_order, pk in sorted(listed)]


def worklist_page(ids: list[int]) -> list[Child]:
    """The page's children, in the worklist's order (one query)."""
    found = Child.objects.filter(pk__in=ids).select_related("bvc_unit").in_bulk()
    return [found[pk] for pk in ids if pk in found]


@dataclass(frozen=True)
class GuardianLine:
    """One guardian on the worklist: answered or not, at the due and the overdue occasion."""

    custody: Custody
    due_done: bool | None  # None: nothing due
    overdue_done: bool | None  # None: nothing overdue


@dataclass(frozen=True)
class WorklistRow:
    child: Child
    age_days: int
    due: Occasion | None
    overdue: Occasion | None  # only while a guardian still has not answered
    never_screened: bool
    guardians: list[GuardianLine]

    @property
    def due_waiting(self) -> bool:
        """A guardian has still to answer at the occasion that is due now."""
        return any(line.due_done is False for line in self.guardians)

    @property
    def age_label(self) -> str:
        """The age as the nurse says it: weeks, then months, then years."""
        days = self.age_days
        if days < 16 * 7:
            return ngettext("%(n)s week", "%(n)s weeks", days // 7) % {"n": days // 7}
        if days < 3 * 365:
            months = int(days / 30.44)
            return ngettext("%(n)s month", "%(n)s months", months) % {"n": months}
        years = int(days / 365.25)
        return ngettext("%(n)s year", "%(n)s years", years) % {"n": years}


def _answered(
    answered: set[tuple[int, int, int]], child: Child, occasion: Occasion | None, custody: Custody
) -> bool | None:
    if occasion is None:
        return None
    return (child.pk, occasion.pk, custody.guardian_id) in answered


def worklist_rows(
    children: list[Child], occasions_by_unit: dict[int, list[Occasion]], today: datetime.date
) -> list[WorklistRow]:
    """Each child's guardians and what they have answered: two queries for the whole page."""
    ids = [child.pk for child in children]
    custodies: dict[int, list[Custody]] = defaultdict(list)
    for custody in (
        Custody.objects.filter(child__in=ids).select_related("guardian").order_by("child_id", "pk")
    ):
        custodies[custody.child_id].append(custody)
    answered = set(
        Response.objects.filter(screening__child__in=ids).values_list(
            "screening__child_id", "screening__occasion_id", "guardian_id"
        )
    )
    screened = {child_id for child_id, _occasion, _guardian in answered}
    rows = []
    for child in children:
        occasions = occasions_by_unit.get(child.bvc_unit_id or 0, [])
        age = (today - child.birth_date).days
        due = due_occasion(occasions, age)
        overdue = latest_passed_occasion(occasions, age)
        guardians = custodies[child.pk]
        if overdue is not None and all(
            _answered(answered, child, overdue, custody) for custody in guardians
        ):
            overdue = None
        lines = [
            GuardianLine(
                custody,
                _answered(answered, child, due, custody),
                _answered(answered, child, overdue, custody),
            )
            for custody in guardians
        ]
        rows.append(
            WorklistRow(
                child=child,
                age_days=age,
                due=due,
                overdue=overdue,
                never_screened=child.pk not in screened,
                guardians=lines,
            )
        )
    return rows


# --- The family overview (the nurse's results page) -----------------------------------------

DomainState = Literal["positive", "negative", "none"]
CHART_LABEL_WIDTH, CHART_COLUMN, CHART_ROW, CHART_HEAD = 210, 74, 30, 34


@dataclass(frozen=True)
class ItemLine:
    number: int
    domain: StrOrPromise  # the domain's label, translated when shown
    text: str  # the question, in Swedish
    guidance: str  # the nurse's guidance, in Swedish


@dataclass(frozen=True)
class HistoryRow:
    domain: StrOrPromise  # the domain's label, translated when shown
    cells: list[DomainState]  # one per occasion


@dataclass(frozen=True)
class ChartText:
    x: int
    y: int
    text: StrOrPromise


@dataclass(frozen=True)
class ChartMark:
    x: int
    y: int
    state: DomainState
    label: str  # for the mark's own <title>


@dataclass(frozen=True)
class OverviewChart:
    """Where each mark of the inline SVG goes: domains as rows, occasions as columns."""

    width: int
    height: int
    columns: list[ChartText]
    rows: list[ChartText]
    marks: list[ChartMark]


@dataclass(frozen=True)
class GuardianOverview:
    guardian: Guardian
    relation: str
    latest: Response | None
    positive_now: list[StrOrPromise]  # domain labels, at the latest response
    history: list[HistoryRow]
    unanswered: list[ItemLine]  # at the latest response
    positive_items: list[ItemLine]  # at the latest response, with the nurse's guidance
    responses: list[Response]  # newest first
    chart: OverviewChart


@dataclass(frozen=True)
class FamilyOverview:
    occasions: list[Occasion]
    guardians: list[GuardianOverview]


def _item_line(answer: Answer, texts: dict[int, str]) -> ItemLine:
    item = answer.item
    return ItemLine(
        number=item.number,
        domain=Domain(item.domain).label,
        text=texts.get(item.pk, ""),
        guidance=item.guidance_sv,
    )


def _domain_states(answers: list[Answer]) -> dict[str, DomainState]:
    states: dict[str, DomainState] = {}
    for answer in answers:
        domain = answer.item.domain
        if answer.positive:
            states[domain] = "positive"
        elif answer.option and states.get(domain) != "positive":
            states[domain] = "negative"
    return states


def _chart(occasions: list[Occasion], history: list[HistoryRow]) -> OverviewChart:
    columns = [
        ChartText(CHART_LABEL_WIDTH + i * CHART_COLUMN + CHART_COLUMN // 2, 20, str(occasion))
        for i, occasion in enumerate(occasions)
    ]
    rows, marks = [], []
    for r, row in enumerate(history):
        y = CHART_HEAD + r * CHART_ROW + CHART_ROW // 2
        rows.append(ChartText(0, y + 5, row.domain))
        for c, state in enumerate(row.cells):
            marks.append(ChartMark(columns[c].x, y, state, f"{row.domain}, {occasions[c]}"))
    return OverviewChart(
        width=CHART_LABEL_WIDTH + len(occasions) * CHART_COLUMN,
        height=CHART_HEAD + len(history) * CHART_ROW + 6,
        columns=columns,
        rows=rows,
        marks=marks,
    )


def family_overview(child: Child, occasions: list[Occasion]) -> FamilyOverview:
    """Each guardian's answers, side by side: positive domains now, the same domains at the
    earlier occasions, what was left unanswered and the guidance for positive items.

    Read only after `screening_access` allowed the answers. Five queries however many
    responses there are."""
    custodies = list(Custody.objects.filter(child=child).select_related("guardian").order_by("pk"))
    responses = list(
        Response.objects.filter(screening__child=child)
        .select_related("screening__occasion", "guardian")
        .order_by("submitted_at", "pk")
    )
    answers: dict[int, list[Answer]] = defaultdict(list)
    for answer in (
        Answer.objects.filter(response__screening__child=child)
        .select_related("item")
        .order_by("response_id", "item__number")
    ):
        answers[answer.response_id].append(answer)

    by_guardian: dict[int, list[Response]] = defaultdict(list)
    for response in responses:
        by_guardian[response.guardian_id].append(response)
    people: list[tuple[Guardian, str]] = [
        (custody.guardian, custody.get_relation_display()) for custody in custodies
    ]
    # A guardian who answered and has since lost custody is still shown to the nurse.
    known = {guardian.pk for guardian, _relation in people}
    for response in responses:
        if response.guardian_id not in known:
            known.add(response.guardian_id)
            people.append((response.guardian, "–"))

    latest = {pk: found[-1] for pk, found in by_guardian.items()}
    texts = dict(
        ItemText.objects.filter(
            item__version__in={r.version_id for r in latest.values()}, language="sv"
        ).values_list("item_id", "text")
    )
    overviews = []
    for guardian, relation in people:
        own = by_guardian.get(guardian.pk, [])
        newest = own[-1] if own else None
        per_occasion = {r.screening.occasion_id: r for r in own}  # the latest one counts
        states = {
            occasion.pk: _domain_states(answers[per_occasion[occasion.pk].pk])
            for occasion in occasions
            if occasion.pk in per_occasion
        }
        history = [
            HistoryRow(
                domain=label,
                cells=[states.get(o.pk, {}).get(domain, "none") for o in occasions],
            )
            for domain, label in Domain.choices
        ]
        now = answers[newest.pk] if newest else []
        now_states = _domain_states(now)
        overviews.append(
            GuardianOverview(
                guardian=guardian,
                relation=relation,
                latest=newest,
                positive_now=[
                    label
                    for domain, label in Domain.choices
                    if now_states.get(domain) == "positive"
                ],
                history=history,
                unanswered=[_item_line(a, texts) for a in now if not a.option],
                positive_items=[_item_line(a, texts) for a in now if a.positive],
                responses=list(reversed(own)),
                chart=_chart(occasions, history),
            )
        )
    return FamilyOverview(occasions=occasions, guardians=overviews)


@dataclass(frozen=True)
class ResponseAnswers:
    """One response as the nurse prepares its follow-up."""

    positive_domains: list[str]  # Domain values
    positive_items: list[ItemLine]
    unanswered: list[ItemLine]

    @property
    def positive_labels(self) -> list[StrOrPromise]:
        return [Domain(domain).label for domain in self.positive_domains]


def response_answers(response: Response) -> ResponseAnswers:
    """The positive and the unanswered items of one response, with the Swedish question and
    the nurse's guidance. Read only after `policy.may_run_screening` allowed it (see
    `response_for_request`). Two queries."""
    answers = list(
        Answer.objects.filter(response=response).select_related("item").order_by("item__number")
    )
    texts = dict(
        ItemText.objects.filter(item__version=response.version_id, language="sv").values_list(
            "item_id", "text"
        )
    )
    states = _domain_states(answers)
    return ResponseAnswers(
        positive_domains=[d for d in Domain.values if states.get(d) == "positive"],
        positive_items=[_item_line(a, texts) for a in answers if a.positive],
        unanswered=[_item_line(a, texts) for a in answers if not a.option],
    )


def child_follow_ups(child: Child) -> list[FollowUp]:
    """The nurse's follow-ups of the child's responses, newest first (two queries). Pages for
    other sectors show only `summary`, `offered` and `reply`, never `conversation`."""
    return list(
        FollowUp.objects.filter(response__screening__child=child)
        .select_related(
            "response__guardian",
            "response__screening__occasion",
            "unit",
            "written_by",
            "referral__service",
        )
        .prefetch_related(
            Prefetch(
                "offered", queryset=Service.objects.select_related("provider").order_by("name")
            )
        )
        .order_by("-written_at", "-pk")
    )


# --- The joint support calendar --------------------------------------------------------------


def visible_slots(user: Professional) -> QuerySet[SupportSlot]:
    """Joint support times of the user's units, on the BVC side or the social-services side."""
    ids = policy.current_unit_ids(user)
    return SupportSlot.objects.filter(Q(health_unit__in=ids) | Q(social_unit__in=ids))


def slot_children_shown(request: HttpRequest, slots: list[SupportSlot]) -> dict[int, Child]:
    """The booked children whose names the user may see, decided by the policy in one batch
    and each one logged as shown; a fixed number of queries however many slots."""
    wanted = {slot.child_id for slot in slots if slot.child_id}
    if not wanted:
        return {}
    user = request.user
    children = list(
        Child.objects.visible_to(user, among=wanted).select_related("bvc_unit", "school_unit")  # type: ignore[arg-type]
    )
    decisions = policy.decide_children(user, children, Purpose.CARE)
    shown = {child.pk: child for child in children if decisions[child.pk].allowed}
    access_log_many(
        request=request,
        accesses=[
            Access(Action.VIEW_CHILD, Purpose.CARE, decisions[pk], child)
            for pk, child in shown.items()
        ],
    )
    return shown
