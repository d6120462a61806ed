"""Every view of the consent, case and meeting flows x the cast x the consent's state.

One child of the BVC, with two guardians in joint custody; the BHT Plus team discusses it under
a team-discussion consent covering child health care, preschool and social services. Who may
see the child's identity depends on the consent's state; who may open a page depends on the
team. The test collects every mismatch and expects none.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import AgeBand, Concern
from directory.models import Sector
from meetings.models import AgendaItem, Meeting
from tests import factories

USERS = [
    "nurse",
    "special_educator",
    "family_therapist",
    "school_counsellor",
    "coordinator",
    "outsider",
]
TEAM_MEMBERS = {"nurse", "special_educator", "family_therapist", "coordinator"}
COVERED_MEMBERS = {"special_educator", "family_therapist"}  # sectors named by the consent
CHILD_NAME = "Matrisbarnsson"


def may_identify(user: str, state: str) -> bool:
    return user == "nurse" or (state == "effective" and user in COVERED_MEMBERS)


def expected(view: str, user: str, state: str) -> tuple[int, bool]:
    """(status, identity shown) a person would expect."""
    identify = may_identify(user, state)
    member = user in TEAM_MEMBERS
    if view in {"child_detail", "child_consents", "report_new", "consent_form", "referral_new"}:
        return (200, True) if identify else (404, False)
    if view == "meeting_detail":
        return (200, identify) if member else (404, False)
    if view == "concern_detail":
        return (200, identify) if member or identify else (404, False)
    if view == "concern_identify":  # already identified: back to the case, never the form
        return (302, False) if member or identify else (404, False)
    if view in {"team_detail", "nominate"}:  # team pages never name a child
        return (200, False) if member else (404, False)
    raise AssertionError(view)


@pytest.fixture
def world(cast):
    child = factories.child(bvc=cast.bvc, last_name=CHILD_NAME)
    factories.guardian_of(child)
    factories.guardian_of(child)
    return cast, child


def _setup(cast, child, state):
    consent = factories.consent(
        child,
        cast.nurse,
        "team_discussion",
        state=state,
        team=cast.bht_team,
        sectors=[Sector.CHILD_HEALTH, Sector.PRESCHOOL, Sector.SOCIAL_SERVICES],
    )
    concern = Concern.objects.create(
        created_by=cast.nurse,
        unit=cast.bvc,
        sector=cast.bvc.sector,
        age_band=AgeBand.of(child.birth_date),
        worry="Sover oroligt.",
        team=cast.bht_team,
        child=child,
        identified_at=timezone.now(),
        identified_by=cast.nurse,
        identifying_consent=consent,
        contact_person=cast.nurse,
    )
    starts = timezone.now() + datetime.timedelta(days=3)
    meeting = Meeting.objects.create(
        team=cast.bht_team, starts_at=starts, ends_at=starts + datetime.timedelta(hours=1)
    )
    AgendaItem.objects.create(meeting=meeting, concern=concern, nominated_by=cast.nurse)
    return {
        "consent_form": reverse("consent:form", args=[consent.pk]),
        "referral_new": reverse("cases:referral_new", args=[concern.pk]),
        "concern_identify": reverse("cases:concern_identify", args=[concern.pk]),
        "team_detail": reverse("meetings:team_detail", args=[cast.bht_team.pk]),
        "nominate": reverse("meetings:nominate", args=[meeting.pk]),
        "child_detail": reverse("families:child_detail", args=[child.pk]),
        "child_consents": reverse("consent:child_consents", args=[child.pk]),
        "report_new": reverse("cases:report_new", args=[child.pk]),
        "meeting_detail": reverse("meetings:meeting_detail", args=[meeting.pk]),
        "concern_detail": reverse("cases:concern_detail", args=[concern.pk]),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("state", factories.CONSENT_STATES)
@pytest.mark.parametrize("user", USERS)
def test_authorization_matrix(world, as_user, user, state):
    cast, child = world
    urls = _setup(cast, child, state)
    client = as_user(getattr(cast, user))
    mismatches = []
    for view, url in urls.items():
        response = client.get(url)
        shown = CHILD_NAME in response.content.decode()
        want_status, want_shown = expected(view, user, state)
        if (response.status_code, shown) != (want_status, want_shown):
            mismatches.append(
                f"{view}: got {response.status_code}/{'shown' if shown else 'hidden'}, "
                f"want {want_status}/{'shown' if want_shown else 'hidden'}"
            )
    assert mismatches == []
