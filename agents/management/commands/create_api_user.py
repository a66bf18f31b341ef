"""``manage.py create_api_user USERNAME --role ROLE [--office CODE] [--account NUMBER]``.

Prints the API token alone on its last line, so scripts can take it with ``tail -n 1``.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from agents.models import Cashier, Office
from agents.services import add_cashier
from erial.errors import DomainError
from erial.roles import Role, grant
from ledger.wallets import find_wallet


class Command(BaseCommand):
    help = "Create (or update) an API user with a role and print its token on the last line."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--office", help="office code (agents)")
        parser.add_argument("--account", help="account number (customers: the wallet they hold)")

    @transaction.atomic
    def handle(self, *args, username, role, office=None, account=None, **options):
        role = Role(role)
        if role == Role.AGENT and not office:
            raise CommandError("An agent acts for one office: give --office CODE.")
        if office and role != Role.AGENT:
            raise CommandError("--office attaches a cashier to an office; use it with --role agent.")
        the_office = Office.objects.filter(code=office).first() if office else None
        if office and the_office is None:
            raise CommandError(f"No office {office!r}.")
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
        if role == Role.ADMIN:
            user.is_staff = user.is_superuser = True
            user.save()
        grant(user, role)
        # Run again for a cashier of that office (to print the token again), it stays as it is: add_cashier
        # would reset its supervisor flag.
        if the_office is not None and not Cashier.objects.filter(user=user, office=the_office).exists():
            try:
                add_cashier(office=the_office, user=user)
            except DomainError as exc:
                raise CommandError(exc.detail) from None
        if account:
            if role != Role.CUSTOMER:
                raise CommandError("--account links a customer to their wallet; use it with --role customer.")
            try:
                wallet = find_wallet(account)
            except DomainError as exc:
                raise CommandError(exc.detail) from None
            holder = wallet.holder
            if holder.user_id and holder.user_id != user.pk:
                raise CommandError(f"Account {wallet.number} already belongs to another login.")
            holder.user = user
            holder.save(update_fields=["user"])
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(f"{'Created' if created else 'Updated'} {username} with role {role.value}.")
        self.stdout.write(token.key)
