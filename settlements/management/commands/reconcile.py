"""``manage.py reconcile --date YYYY-MM-DD [--source bank|gateway] [--file PATH]``: the nightly reconciliation
for one business day, safe to run twice. With ``--file``, the statement file is imported first (with a
progress bar); a file imported before is refused and the run goes on.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from erial.errors import DomainError
from settlements.importing import ImportRefused, import_file
from settlements.models import Source
from settlements.reconciliation import reconcile_day


class Command(BaseCommand):
    help = "Reconcile one business day (Asia/Muscat) for the bank, the gateway, or both."

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, type=dt.date.fromisoformat, help="business day, YYYY-MM-DD")
        parser.add_argument("--source", choices=[s.value for s in Source], help="bank or gateway (default both)")
        parser.add_argument("--file", help="a statement file to import first (camt.053, MT940 or gateway CSV)")

    def handle(self, *args, date, source=None, file=None, **options):
        if file:
            try:
                with tqdm(unit=" lines", desc="importing", disable=options["verbosity"] < 1) as bar:
                    record = import_file(file, source=source, progress=bar.update)
                self.stdout.write(
                    f"imported {record.file_name}: {record.statement_count} statement(s), {record.line_count} lines"
                )
                source = source or record.source
            except ImportRefused as refused:
                self.stderr.write(refused.detail)
                if "already imported" not in refused.detail:
                    raise CommandError("the file was refused; nothing was imported") from None
            except DomainError as bad:
                raise CommandError(bad.detail) from None
        for each in [Source(source)] if source else [Source.GATEWAY, Source.BANK]:
            run = reconcile_day(day=date, source=each)
            self.stdout.write(
                f"{each.value} {date}: {run.status}, {run.matched} matched, {run.settled_amount:.3f} OMR settled, "
                f"{run.open_exceptions} open exception(s) (run {run.attempts})"
            )
