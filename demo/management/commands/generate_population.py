from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from demo.population import PopulationMismatch, population_generate

NOT_PRODUCTION = "--i-know-this-is-not-production"


class Command(BaseCommand):
    help = (
        "Build a synthetic population of N fictional children (with guardians, units, staff, "
        "teams, screenings, consents, concerns, referrals, plans and home visits) for "
        "benchmarks. Batches of children are written one transaction each and are "
        "deterministic from --seed and the batch number: a rerun (after a kill, say) finishes "
        "the missing batches and a complete population is left as it is. Writes no access "
        "events (the generator is not a user). Runs only on demo installations "
        f"(SAMVERKAN_DEMO=1) unless {NOT_PRODUCTION} is given: never point it at a "
        "database with real people in it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--children", type=int, required=True, help="How many children.")
        parser.add_argument("--seed", type=int, default=1, help="Seed (default 1).")
        parser.add_argument(
            "--batch-size", type=int, default=10_000, help="Children per transaction."
        )
        parser.add_argument(
            "--stop-after-batches",
            type=int,
            default=None,
            help="Stop after making this many batches (a rerun carries on).",
        )
        parser.add_argument(
            NOT_PRODUCTION,
            action="store_true",
            dest="not_production",
            help="Run although the installation is not a demo installation.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEMO_ALLOWED or options["not_production"]):
            raise CommandError(
                "The synthetic population is only for demo and benchmark installations "
                f"(set SAMVERKAN_DEMO=1, or pass {NOT_PRODUCTION})."
            )
        if options["children"] < 1 or options["batch_size"] < 1:
            raise CommandError("--children and --batch-size must be at least 1.")
        bar = tqdm(
            total=options["children"],
            unit="child",
            desc="Population",
            disable=options["verbosity"] == 0,
        )
        try:
            outcome = population_generate(
                options["children"],
                seed=options["seed"],
                batch_size=options["batch_size"],
                stop_after_batches=options["stop_after_batches"],
                on_start=bar.update,
                on_batch=bar.update,
            )
        except PopulationMismatch as error:
            raise CommandError(str(error)) from error
        finally:
            bar.close()
        state = "stopped on request; run again to finish" if outcome.stopped else "complete"
        self.stdout.write(
            f"{outcome.made} batches made now, {outcome.batches} in the population ({state})."
        )
