import argparse
import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from tqdm import tqdm

from directory.models import Team
from meetings.models import Meeting
from meetings.services import meetings_generate


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _months(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 24:
        raise argparse.ArgumentTypeError(f"give 1 to 24 months, not {text!r}")
    return int(text)


class Command(BaseCommand):
    help = (
        "Generate every team's meetings ahead from its cadence. Idempotent: meetings that "
        "already exist are kept as they are, so it can run daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", type=_date, help="first day (default: today)")
        parser.add_argument(
            "--months",
            type=_months,
            help="how far ahead, in months (default: the MEETINGS_AHEAD_MONTHS setting)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        start = options["start"] or timezone.localdate()
        end = start + relativedelta(months=options["months"] or settings.MEETINGS_AHEAD_MONTHS)
        teams = Team.objects.order_by("pk")
        before = Meeting.objects.count()
        with tqdm(
            total=teams.count(), unit="team", desc="Teams", disable=options["verbosity"] == 0
        ) as bar:
            for team in teams.iterator():
                meetings_generate(team=team, start=start, end=end)
                bar.update()
        created = Meeting.objects.count() - before
        self.stdout.write(
            f"{created} new meetings from {start:%Y-%m-%d} to {end:%Y-%m-%d} "
            f"({bar.n} teams; existing meetings kept)."
        )
