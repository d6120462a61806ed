from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from directory.resources import FORMATS, ServiceResource


class Command(BaseCommand):
    help = (
        "Export the resource directory (every service, active or not) as CSV or XLSX, in the "
        "columns that import_services and the admin's import read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=sorted(FORMATS), default="csv")
        parser.add_argument(
            "--output", "-o", help="File to write; CSV goes to standard output without it."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        file_format = FORMATS[options["format"]]()
        resource = ServiceResource()
        dataset = resource.export(resource.get_queryset())
        data = file_format.export_data(dataset)
        output = options["output"]
        if output:
            path = Path(output)
            if not path.parent.is_dir():
                raise CommandError(f"No such directory: {path.parent}")
            if isinstance(data, str):
                path.write_text(data, encoding="utf-8")
            else:
                path.write_bytes(data)
            self.stderr.write(f"{len(dataset)} services written to {path}.")
        elif isinstance(data, str):
            self.stdout.write(data, ending="")
        else:
            raise CommandError("XLSX is binary: name a file with --output.")
