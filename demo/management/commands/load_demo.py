from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from demo import data
from demo.history import demo_history_load, demo_services_load
from demo.models import DemoState
from demo.plans_history import demo_plans_load
from demo.screening_history import demo_screening_load
from demo.services import CHILD_COUNT, demo_directory_load, demo_families_load
from demo.visits_history import demo_visits_load

EXAMPLE_QUESTIONNAIRE = (
    settings.BASE_DIR / "screening" / "questionnaires" / "barnsakert-exempel-v1.toml"
)


class Command(BaseCommand):
    help = "Load the fictional demo region (idempotent: a second run adds nothing)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_ALLOWED:
            raise CommandError("Demo data is only for demo installations (set SAMVERKAN_DEMO=1).")
        people = demo_directory_load()
        with tqdm(
            total=CHILD_COUNT, unit="child", desc="Demo families", disable=options["verbosity"] == 0
        ) as bar:
            created = demo_families_load(on_child=bar.update)
        self.stdout.write(f"{created} new children ({CHILD_COUNT} in the demo).")
        demo_services_load()
        with tqdm(
            total=28, unit="meeting", desc="Team history", disable=options["verbosity"] == 0
        ) as bar:
            meetings = demo_history_load(DemoState.objects.get().anchor_date, on_meeting=bar.update)
        self.stdout.write(f"{meetings} past team meetings with minutes.")
        # The example BarnSäkert questionnaire, as a region would load its own (idempotent).
        call_command("load_questionnaire", str(EXAMPLE_QUESTIONNAIRE), "--publish", verbosity=0)
        with tqdm(
            unit="family", desc="BarnSäkert history", disable=options["verbosity"] == 0
        ) as bar:
            families = demo_screening_load(
                DemoState.objects.get().anchor_date, on_family=bar.update
            )
        self.stdout.write(f"{families} families with BarnSäkert history.")
        plans = demo_plans_load(DemoState.objects.get().anchor_date)
        self.stdout.write(f"{plans} coordinated individual plans (SIP) with their versions.")
        visiting = demo_visits_load(DemoState.objects.get().anchor_date)
        self.stdout.write(f"{visiting} families in the extended home-visit programme.")
        if options["verbosity"]:
            self.stdout.write(f"\nDemo logins (password for all: {data.DEMO_PASSWORD}):")
            for username, person in people.items():
                self.stdout.write(f"  {username:20} {person.get_profession_display()}")
            self.stdout.write(
                "Second-factor code for a login: .venv/bin/python manage.py demo_totp USERNAME"
            )
