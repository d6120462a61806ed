from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from audit.models import AccessEvent
from audit.services import audit_verify


class Command(BaseCommand):
    help = "Verify the access log's hash chain; report the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        total = AccessEvent.objects.count()
        with tqdm(total=total, unit="event", disable=options["verbosity"] == 0) as bar:
            report = audit_verify(on_event=bar.update)
        if not report.intact:
            raise CommandError(
                f"Access log BROKEN at event {report.broken_at}: {report.reason} "
                f"({report.checked} events verified before it)."
            )
        self.stdout.write(self.style.SUCCESS(f"Access log intact: {report.checked} events."))
