import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from directory.models import Membership, Team, TeamMember

pytestmark = pytest.mark.django_db


def _team(cast) -> Team:
    return Team.objects.create(
        name="BHT Plus Testby",
        working_model=Team.Model.BHT_PLUS,
        municipality=cast.bvc.municipality,
        coordinator=cast.special_educator,
        start_time=datetime.time(13, 0),
    )


def test_a_team_gathers_members_from_several_units_and_sectors(cast):
    team = _team(cast)
    for person, unit in [
        (cast.nurse, cast.bvc),
        (cast.special_educator, cast.preschool),
        (cast.family_therapist, cast.social),
    ]:
        member = TeamMember(team=team, professional=person, unit=unit)
        member.full_clean()
        member.save()
    assert {m.unit.sector for m in team.memberships.select_related("unit")} == {
        "child_health",
        "preschool",
        "social_services",
    }


def test_a_member_can_only_represent_a_unit_they_belong_to(cast):
    member = TeamMember(team=_team(cast), professional=cast.nurse, unit=cast.social)
    with pytest.raises(ValidationError) as caught:
        member.full_clean()
    assert "unit" in caught.value.message_dict


def test_a_meeting_cadence_outside_the_month_is_refused(cast):
    team = _team(cast)
    team.week_of_month = 6
    with pytest.raises(IntegrityError), transaction.atomic():
        team.save()


def test_current_memberships_respect_their_dates(cast):
    today = datetime.date.today()
    Membership.objects.filter(professional=cast.nurse).update(
        valid_from=today + datetime.timedelta(days=1)
    )
    assert not Membership.objects.current().filter(professional=cast.nurse).exists()
    Membership.objects.filter(professional=cast.nurse).update(valid_from=today)
    assert Membership.objects.current().filter(professional=cast.nurse).exists()
