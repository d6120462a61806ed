from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from screening.questionnaire_files import (
    QuestionnaireFileError,
    questionnaire_file_read,
    questionnaire_load,
)


class Command(BaseCommand):
    help = (
        "Load a questionnaire version from a TOML file (idempotent: the same file twice changes "
        "nothing; a published version is never changed)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The questionnaire file (.toml).")
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publish the version: from then on it can be used, and never changes.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            file = questionnaire_file_read(options["path"])
            with tqdm(
                total=len(file.spec.items),
                unit="item",
                desc=f"{file.spec.code} v{file.spec.version}",
                disable=options["verbosity"] == 0,
            ) as bar:
                result = questionnaire_load(file, publish=options["publish"], on_item=bar.update)
        except QuestionnaireFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(result.message)
