"""``manage.py statement ACCOUNT --from YYYY-MM-DD --to YYYY-MM-DD --out FILE.pdf``: a customer statement as PDF.

For finance staff at a terminal. A refusal (unknown or mistyped account, a bad period) is a clear error and
writes no file; the file appears whole or not at all (written beside the target, then renamed).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from erial.errors import DomainError
from ledger.wallets import find_wallet
from reports.statements import parse_day, render_statement, statement_data

#: Where the QR code sends a reader when ``--site-url`` is not given: the service's public address.
DEFAULT_SITE_URL = "https://e-rial.om"


class Command(BaseCommand):
    help = "Write a customer statement for a period (both days included, Muscat time) as a PDF."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account", help="the e-Rial account number (8 digits)")
        parser.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD", help="first day")
        parser.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD", help="last day, not after today")
        parser.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF to write")
        parser.add_argument(
            "--site-url",
            default=DEFAULT_SITE_URL,
            help=f"public address of the verification page in the QR code (default {DEFAULT_SITE_URL})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"Cannot write {out}: the folder {out.parent} does not exist.")
        try:
            wallet = find_wallet(options["account"])
            data = statement_data(wallet, parse_day(options["start"], "--from"), parse_day(options["end"], "--to"))
        except DomainError as error:
            raise CommandError(error.detail) from None
        pdf = render_statement(data, site_url=options["site_url"])
        _write_whole(out, pdf)
        self.stdout.write(
            f"Statement of {data.number} for {data.start} to {data.end}: {data.line_count} movements, "
            f"closing balance {data.closing} OMR, written to {out}"
        )


def _write_whole(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` so a reader never finds half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
