from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from import_export.results import RowResult

from directory.resources import FORMATS, ServiceResource, import_problems


class Command(BaseCommand):
    help = (
        "Import services into the resource directory from a CSV or XLSX file (as written by "
        "export_services). The file is checked first; if any row is wrong, nothing is imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The CSV or XLSX file.")
        parser.add_argument(
            "--format", choices=sorted(FORMATS), help="Default: from the file name's extension."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        name = options["format"] or path.suffix.lstrip(".").lower()
        if name not in FORMATS:
            raise CommandError(
                f"Cannot tell the format of {path.name}: use --format csv or --format xlsx."
            )
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        file_format = FORMATS[name](encoding="utf-8-sig")  # a BOM from Excel is fine
        try:
            dataset = file_format.create_dataset(path.read_bytes())
        except Exception as error:  # any failure to read is the file's fault, not a crash
            raise CommandError(f"Could not read {path.name} as {name.upper()}: {error}") from error
        if not dataset.headers:
            raise CommandError(f"{path.name} has no header row.")

        resource = ServiceResource()
        # First a dry run over the whole file, as the admin's preview does.
        result = resource.import_data(dataset, dry_run=True)
        problems = import_problems(result)
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(
                f"{len(problems)} problem(s) in {path.name}; nothing was imported. "
                "Rows are counted from the first row after the header."
            )
        if not options["dry_run"]:
            result = ServiceResource().import_data(dataset, dry_run=False)
            problems = import_problems(result)
            if problems:  # e.g. a unit deleted between the check and the import
                for problem in problems:
                    self.stderr.write(problem)
                raise CommandError(f"The import failed; nothing was imported from {path.name}.")
        totals = result.totals
        summary = (
            f"{totals[RowResult.IMPORT_TYPE_NEW]} new, "
            f"{totals[RowResult.IMPORT_TYPE_UPDATE]} updated, "
            f"{totals[RowResult.IMPORT_TYPE_SKIP]} unchanged"
        )
        if options["dry_run"]:
            self.stdout.write(f"{path.name} is valid ({summary}); nothing was changed (--dry-run).")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {path.name}: {summary}."))
