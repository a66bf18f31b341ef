"""``manage.py seal_ledger [--through YYYY-MM-DD]``: seal finished business days into the hash chain."""

import datetime as dt

from django.core.management.base import BaseCommand

from ledger.sealing import seal_through


class Command(BaseCommand):
    help = "Seal every finished, unsealed business day (default: up to yesterday, Asia/Muscat)."

    def add_arguments(self, parser):
        parser.add_argument("--through", type=dt.date.fromisoformat, help="last day to seal (YYYY-MM-DD)")

    def handle(self, *args, through=None, **options):
        seals = seal_through(through)
        for seal in seals:
            self.stdout.write(f"sealed {seal.business_day}: {seal.entry_count} entries, digest {seal.digest}")
        if not seals:
            self.stdout.write("nothing to seal")
