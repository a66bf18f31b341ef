"""``manage.py verify_ledger``: prove the books; exit 0 only if every check holds."""

from django.core.management.base import BaseCommand, CommandError

from ledger.verification import verify


class Command(BaseCommand):
    help = "Prove the books: entries sum to zero, cached balances equal postings, floors, seals, guards."

    def handle(self, *args, **options):
        report = verify()
        for line in report.lines():
            style = self.style.SUCCESS if line.startswith(("ok", "The books")) else self.style.ERROR
            self.stdout.write(style(line))
        if not report.ok:
            raise CommandError("verify_ledger: the books do not prove themselves (see above).")
