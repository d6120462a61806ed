"""The nurse's worklist: due and overdue per guardian, never screened, a fixed query budget.

Default occasions (days of age): 6-8 weeks 42-70, 4 months 110-150, 10 months 290-340,
18 months 530-600, 2.5 years 880-960, 4 years 1430-1520.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AccessEvent
from audit.models import Action as AuditAction
from tests import factories

from .test_results import answer, english_clients, family_of, in_the_afternoon, occasions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _afternoon():
    yield from in_the_afternoon()


@pytest.fixture
def login(as_user):
    return english_clients(as_user)


WORKLIST = reverse("screening:worklist")


@pytest.fixture
def children(cast):
    factories.questionnaire()
    found = occasions(cast.bvc)
    factories.region_of_unit(cast.other_bvc)
    made = {}
    # Due at 6-8 weeks: the mother has answered, the father has not.
    made["due"], mother, _father = family_of(cast.bvc, age_days=60, last_name="Due")
    answer(cast.nurse, made["due"], found[0], {mother: {1: "no"}}, days_ago=5)
    # Past 6-8 weeks, not yet 4 months, never screened: overdue.
    made["overdue"], *_ = family_of(cast.bvc, age_days=100, last_name="Overdue")
    # 200 days: both answered at 4 months; 6-8 weeks missed long ago is just missed.
    made["done"], mother, father = family_of(cast.bvc, age_days=200, last_name="Done")
    answer(cast.nurse, made["done"], found[1], {mother: {1: "no"}, father: {1: "no"}}, days_ago=60)
    # Due at 10 months and overdue for 4 months, never screened.
    made["both"], *_ = family_of(cast.bvc, age_days=320, last_name="Both")
    # Too young for the first occasion; another BVC's child; a child past BVC age.
    made["young"], *_ = family_of(cast.bvc, age_days=20, last_name="Young")
    made["elsewhere"], *_ = family_of(cast.other_bvc, age_days=60, last_name="Elsewhere")
    made["older"], *_ = family_of(cast.bvc, age_days=3650, last_name="Older")
    return made


def _names(response) -> list[str]:
    return [row.child.last_name for row in response.context["rows"]]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("", ["Both", "Overdue", "Due"]),
        ("due", ["Both", "Due"]),
        ("overdue", ["Both", "Overdue"]),
        ("never", ["Both", "Overdue"]),
    ],
)
def test_the_worklist_filters_due_overdue_and_never_screened(
    cast, login, children, status, expected
):
    response = login(cast.nurse).get(WORKLIST, {"status": status} if status else {})
    assert response.status_code == 200
    # Overdue first, then the oldest child (whose window closes first).
    assert _names(response) == expected


def test_due_and_overdue_are_shown_per_guardian(cast, login, children):
    rows = {r.child.last_name: r for r in login(cast.nurse).get(WORKLIST).context["rows"]}
    due = rows["Due"]
    assert due.due.name_en == "6–8 weeks" and due.overdue is None
    assert [line.due_done for line in due.guardians] == [True, False]
    assert not due.never_screened
    both = rows["Both"]
    assert (both.due.name_en, both.overdue.name_en) == ("10 months", "4 months")
    assert [(line.due_done, line.overdue_done) for line in both.guardians] == [
        (False, False),
        (False, False),
    ]
    assert both.never_screened
    assert rows["Overdue"].due is None and rows["Overdue"].overdue.name_en == "6–8 weeks"


def test_once_every_guardian_has_answered_the_occasion_is_no_longer_due(cast, login, children):
    found = occasions(cast.bvc)
    father = children["due"].custodies.order_by("pk")[1].guardian
    answer(cast.nurse, children["due"], found[0], {father: {1: "yes"}})
    names = _names(login(cast.nurse).get(WORKLIST, {"status": "due"}))
    assert names == ["Both"]


def test_the_list_is_logged_and_only_for_bvc_staff(cast, login, children):
    login(cast.nurse).get(WORKLIST)
    assert AccessEvent.objects.filter(
        action=AuditAction.LIST_CHILDREN, actor_username="nurse"
    ).exists()
    other = login(cast.family_therapist).get(WORKLIST)
    assert other.status_code == 200 and other.context["rows"] == []
    assert "not a member of a child health care unit" in other.content.decode()
    outsider = login(cast.outsider).get(WORKLIST)
    assert _names(outsider) == ["Elsewhere"]


def test_an_unknown_filter_is_a_form_error_not_a_list(cast, login, children):
    response = login(cast.nurse).get(WORKLIST, {"status": "everything"})
    assert response.status_code == 200 and response.context["rows"] == []
    assert "Select a valid choice" in response.content.decode()


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(WORKLIST)
    assert response.status_code == 200
    return len(captured)


def _due_children(cast, n: int, first: int = 0) -> None:
    """n children due (or, the oldest, just overdue) at 6-8 weeks; half with one answer."""
    found = occasions(cast.bvc)
    for i in range(first, first + n):
        child, mother, _father = family_of(cast.bvc, age_days=45 + i)
        if i % 2:
            answer(cast.nurse, child, found[0], {mother: {1: "no"}})


def test_the_worklist_runs_the_same_number_of_queries_for_3_and_30_children(cast, login):
    factories.questionnaire()
    client = login(cast.nurse)
    _due_children(cast, 3)
    three = _queries(client)
    _due_children(cast, 27, first=3)
    assert _queries(client) == three
    response = client.get(WORKLIST)
    assert len(response.context["rows"]) == 25 and response.context["page"].paginator.count == 30
    second = client.get(WORKLIST, {"sida": 2})
    assert len(second.context["rows"]) == 5


def test_each_filter_shows_only_rows_that_say_so(cast, login, children):
    """The list's filter and the rows' per-guardian lines apply the same rules."""
    client = login(cast.nurse)
    says = {
        "due": lambda row: row.due_waiting,
        "overdue": lambda row: row.overdue is not None,
        "never": lambda row: row.never_screened,
    }
    everything = client.get(WORKLIST).context["rows"]
    for status, holds in says.items():
        rows = client.get(WORKLIST, {"status": status}).context["rows"]
        assert rows and all(holds(row) for row in rows), status
        assert {r.child.pk for r in rows} == {r.child.pk for r in everything if holds(r)}
