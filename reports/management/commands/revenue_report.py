"""``manage.py revenue_report --from YYYY-MM-DD --to YYYY-MM-DD --out FILE.pdf``: municipal revenue by service and
fee income for a period, as a PDF. A refusal is a clear error and writes no file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from erial.errors import DomainError
from erial.money import format_amount
from reports.revenue import revenue_report
from reports.revenue_pdf import render_revenue
from reports.statements import parse_day

from .statement import _write_whole


class Command(BaseCommand):
    help = "Write municipal revenue by service and fee income for a period (both days included, Muscat) as a PDF."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD", help="first day")
        parser.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD", help="last day, not after today")
        parser.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF to write")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"Cannot write {out}: the folder {out.parent} does not exist.")
        try:
            data = revenue_report(parse_day(options["start"], "--from"), parse_day(options["end"], "--to"))
        except DomainError as error:
            raise CommandError(error.detail) from None
        _write_whole(out, render_revenue(data))
        self.stdout.write(
            f"Revenue {data.start} to {data.end}: {data.payments} payments, net revenue {format_amount(data.net)} OMR, "
            f"fee income {format_amount(data.fee_income)} OMR; written to {out}"
        )
