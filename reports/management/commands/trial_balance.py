"""``manage.py trial_balance [--as-of YYYY-MM-DD] [--detail] --out FILE.pdf``: the trial balance as a PDF.

Without ``--as-of`` it is taken now. A refusal (a bad or future day, no such folder) is a clear error and writes no
file; the file appears whole or not at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from erial.errors import DomainError
from erial.money import format_amount
from reports.statements import parse_day
from reports.trial_balance import trial_balance
from reports.trial_balance_pdf import as_at, render_trial_balance

from .statement import _write_whole


class Command(BaseCommand):
    help = "Write the trial balance at the end of a business day (Muscat time), or now, as a PDF."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", dest="as_of", metavar="YYYY-MM-DD", help="business day, not after today")
        parser.add_argument("--detail", action="store_true", help="every account on its own line")
        parser.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF to write")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"Cannot write {out}: the folder {out.parent} does not exist.")
        try:
            as_of = None if options["as_of"] is None else parse_day(options["as_of"], "--as-of")
            data = trial_balance(as_of, detailed=options["detail"])
        except DomainError as error:
            raise CommandError(error.detail) from None
        _write_whole(out, render_trial_balance(data))
        verdict = "balanced" if data.balanced else "NOT BALANCED"
        if not data.covers_ledger:
            verdict += ", NOT COVERING EVERY POSTING"
        self.stdout.write(
            f"Trial balance as at {as_at(data)[0]}: {len(data.lines)} lines, debits {format_amount(data.total_debit)}, "
            f"credits {format_amount(data.total_credit)} ({verdict}); {data.ledger.entries} entries, "
            f"{data.ledger.postings} postings; written to {out}"
        )
        if not (data.balanced and data.covers_ledger):
            raise CommandError("The trial balance does not balance or does not cover the ledger: run verify_ledger.")
