"""Unit statistics for BarnSäkert, and the small-cell suppression behind them."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from screening.models import FollowUp
from screening.statistics import suppress
from tests import factories

from .test_results import answer, english_clients, family_of, in_the_afternoon, occasions

LIMIT = 5


@pytest.fixture(autouse=True)
def _afternoon():
    yield from in_the_afternoon()


@pytest.fixture
def login(as_user):
    return english_clients(as_user)


def _readings(parts: list[int], total: int, shown: dict[str, int | None]) -> dict[str, set[int]]:
    """Every value each hidden cell can take in a table of non-negative counts that agrees
    with everything shown: the shown parts and, when shown, the total. Brute force."""
    keys = [f"p{i}" for i in range(len(parts))]
    hidden = [key for key in keys if shown[key] is None]
    known = sum(shown[key] or 0 for key in keys)
    if shown["total"] is not None:
        # The hidden parts add up to what the total leaves: the last one follows from the rest.
        left = total - known
        free = itertools.product(range(left + 1), repeat=max(len(hidden) - 1, 0))
        guesses = [(*g, left - sum(g)) for g in free if left - sum(g) >= 0] if hidden else [()]
    else:
        # With the total hidden every part is free: two candidate values are enough to tell.
        guesses = list(itertools.product(range(2), repeat=len(hidden)))
    values: dict[str, set[int]] = {key: set() for key in [*hidden, "total"]}
    for guess in guesses:
        for key, value in zip(hidden, guess, strict=True):
            values[key].add(value)
        values["total"].add(known + sum(guess))
    return values


@hypothesis_settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=4))
def test_no_suppressed_value_can_be_derived_from_the_shown_values_and_total(parts):
    cells = {f"p{i}": value for i, value in enumerate(parts)} | {"total": sum(parts)}
    shown = suppress(cells, [([f"p{i}" for i in range(len(parts))], "total")], limit=LIMIT)
    # Nothing small is shown, and what is shown is true.
    for key, value in shown.items():
        assert value is None or (value >= LIMIT and value == cells[key])
    readings = _readings(parts, sum(parts), shown)
    for key, value in shown.items():
        if value is None:
            assert len(readings[key]) > 1, (key, cells, shown)


def test_suppression_hides_the_next_smallest_cell_or_else_the_total():
    group = [(["a", "b", "c"], "total")]
    assert suppress({"a": 3, "b": 9, "c": 20, "total": 32}, group, limit=5) == {
        "a": None,
        "b": None,
        "c": 20,
        "total": 32,
    }
    # Hidden parts that add up to nothing would all be zero: one more goes.
    assert suppress({"a": 0, "b": 0, "c": 20, "total": 20}, group, limit=5) == {
        "a": None,
        "b": None,
        "c": None,
        "total": 20,
    }
    # One part only: the total goes.
    assert suppress({"a": 3, "total": 3}, [(["a"], "total")], limit=5) == {
        "a": None,
        "total": None,
    }
    # No total shown: small cells only.
    assert suppress({"a": 3, "b": 9}, limit=5) == {"a": None, "b": 9}


def test_a_cell_hidden_for_one_group_is_checked_again_in_the_other():
    """Two columns of one table: what is hidden in the first leaves the grand total group of
    the second with a single hidden cell, so the loop hides another one there too."""
    cells = {"a1": 2, "a2": 30, "A": 32, "b1": 40, "b2": 50, "B": 90, "T": 122}
    groups = [(["a1", "a2"], "A"), (["b1", "b2"], "B"), (["A", "B"], "T")]
    shown = suppress(cells, groups, limit=5)
    assert shown["a1"] is None and shown["a2"] is None
    assert shown["A"] == 32 and shown["T"] == 122
    # A small subtotal hides its neighbour in the grand total's group; that one, being a
    # total of its own parts, then hides one of them, or b1 + b2 would give it back.
    cells = {"a1": 2, "a2": 2, "A": 4, "b1": 40, "b2": 50, "B": 90, "T": 94}
    shown = suppress(cells, groups, limit=5)
    assert [key for key, value in shown.items() if value is None] == ["a1", "a2", "A", "b1", "B"]
    assert (shown["b2"], shown["T"]) == (50, 94)


# --- The statistics page --------------------------------------------------------------------

STATS = reverse("screening:stats")


@pytest.fixture
def screened_unit(cast):
    """Six children at 100 days (only 6-8 weeks due): every mother answered, two fathers did.
    Five mothers positive for child safety (item 1), one for violence (item 6 "no")."""
    factories.questionnaire()
    first = occasions(cast.bvc)[0]
    responses = []
    for i in range(6):
        child, mother, father = family_of(cast.bvc, age_days=100 + i)
        given = {mother: {1: "yes" if i < 5 else "no", 6: "no" if i == 5 else "yes"}}
        if i < 2:
            given[father] = {1: "no", 6: "yes"}
        responses += answer(cast.nurse, child, first, given, days_ago=40)
    for i, response in enumerate(responses[:6]):
        FollowUp.objects.create(
            response=response,
            unit=cast.bvc,
            written_by=cast.nurse,
            conversation="Samtal.",
            reply=FollowUp.Reply.DECLINED if i == 0 else FollowUp.Reply.ACCEPTED,
        )
    return responses


@pytest.mark.django_db
def test_the_unit_statistics_suppress_small_cells_and_their_complements(cast, login, screened_unit):
    response = login(cast.nurse).get(STATS)
    assert response.status_code == 200
    stats = response.context["stats"]
    completion = {row.label: row for row in stats.completion}
    assert list(completion) == ["Mother", "Father"]
    # Fathers answered 2 of 6: hidden; the mothers' 6 goes too, or 8 - 6 would give it away.
    assert (completion["Father"].part, completion["Father"].whole) == (None, 6)
    assert (completion["Mother"].part, completion["Mother"].whole) == (None, 6)
    total = stats.completion_total
    assert (total.part, total.whole, total.percent) == (8, 12, 67)
    domains = {row.label: row for row in stats.domains}
    assert (domains["Child safety"].part, domains["Child safety"].whole) == (5, 8)
    assert domains["Child safety"].percent == 62
    assert domains["Violence now or earlier"].part is None  # one response
    assert domains["Low mood"].part is None  # none at all
    replies = {row.label: row for row in stats.replies}
    assert (replies["Accepted"].part, replies["Accepted"].percent) == (5, 83)
    assert replies["Declined"].part is None and replies["Later"].part is None
    assert stats.replies_total == 6
    body = response.content.decode()
    assert body.count('class="cell-suppressed"') >= 8 and "fewer than 5" in body


@pytest.mark.django_db
def test_statistics_are_for_the_users_own_bvc_units(cast, login, screened_unit):
    assert login(cast.family_therapist).get(STATS).status_code == 404
    nurse = login(cast.nurse)
    assert nurse.get(STATS, {"enhet": cast.other_bvc.pk}).status_code == 404
    factories.region_of_unit(cast.other_bvc)
    outsider = login(cast.outsider).get(STATS)
    assert outsider.status_code == 200
    assert outsider.context["stats"].completion == []
    assert outsider.context["stats"].completion_total.part is None


@pytest.mark.django_db
def test_only_a_unit_manager_is_shown_the_way_to_the_regional_statistics(
    cast, login, screened_unit
):
    factories.region_of_unit(cast.bvc)
    regional = reverse("reports:regional")
    assert f'href="{regional}"' not in login(cast.nurse).get(STATS).content.decode()
    manager = factories.professional("chef", units=[cast.bvc], manager=True)
    page = login(manager).get(STATS).content.decode()
    assert f'href="{regional}"' in page
    assert login(manager).get(regional).status_code == 200


@pytest.mark.django_db
def test_the_statistics_page_runs_the_same_number_of_queries_for_few_and_many_answers(
    cast, login, screened_unit
):
    client = login(cast.nurse)
    client.get(STATS)
    with CaptureQueriesContext(connection) as few:
        client.get(STATS)
    first = occasions(cast.bvc)[0]
    for i in range(8):
        child, mother, _father = family_of(cast.bvc, age_days=110 + i)
        answer(cast.nurse, child, first, {mother: {1: "yes", 6: "yes"}}, days_ago=30)
    with CaptureQueriesContext(connection) as many:
        client.get(STATS)
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.django_db
def test_completion_counts_each_guardians_own_answer_at_each_occasion_reached(
    cast, login, settings
):
    """Two occasions: a child past both, a child past the first only. An answer counts for
    the guardian who gave it, at its own occasion, and only once the child is due."""
    settings.STATISTICS_MIN_CELL = 0  # every count shown: the counting itself is checked
    factories.questionnaire()
    first, second = occasions(cast.bvc)[:2]
    older, mother_a, father_a = family_of(cast.bvc, age_days=second.min_age_days + 10)
    younger, mother_b, father_b = family_of(cast.bvc, age_days=first.min_age_days + 10)
    assert first.min_age_days + 10 < second.min_age_days
    family_of(cast.other_bvc, age_days=second.min_age_days + 10)  # another unit's: not counted
    answer(cast.nurse, older, first, {mother_a: {1: "no"}}, days_ago=5)
    answer(cast.nurse, older, second, {father_a: {1: "no"}}, days_ago=2)
    answer(cast.nurse, younger, first, {father_b: {1: "no"}}, days_ago=2)
    answer(cast.nurse, younger, second, {mother_b: {1: "no"}}, days_ago=1)  # not due yet

    stats = login(cast.nurse).get(STATS).context["stats"]
    completion = {row.label: (row.part, row.whole) for row in stats.completion}
    # Due: the older child's two occasions and the younger's first, for each guardian.
    assert completion == {"Mother": (1, 3), "Father": (2, 3)}
    total = stats.completion_total
    assert (total.part, total.whole) == (3, 6)
