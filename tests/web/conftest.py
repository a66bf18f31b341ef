"""Portal test set-up: customers with wallets, and Debian's Chromium for the real-browser tests.

Playwright's sync API runs an event loop in the test's thread, so Django would refuse the ORM calls the
tests make between page actions (top-ups, checks of the ledger) without DJANGO_ALLOW_ASYNC_UNSAFE.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from erial.roles import Role, grant
from ledger import wallets
from ledger.models import OpeningChannel, Wallet
from tests.factories import top_up

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
#: The launch arguments known to work on these machines (../shared/testing.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch Debian's Chromium: there is no internet here for ``playwright install``."""
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


def new_national_id() -> str:
    return str(uuid.uuid4().int)[:10]


@dataclass
class Customer:
    user: object
    wallet: Wallet
    national_id: str
    password: str = PASSWORD


def make_customer(balance: str = "0.000", *, name_en: str = "Salim Al-Harthy") -> Customer:
    """A customer as the portal's registration leaves one: login = civil ID, wallet, customer role."""
    national_id = new_national_id()
    user = get_user_model().objects.create_user(national_id, password=PASSWORD)
    grant(user, Role.CUSTOMER)
    wallet = wallets.open_wallet(
        holder_type="individual",
        national_id=national_id,
        phone="91234567",
        name_en=name_en,
        name_ar="سالم الحارثي",
        channel=OpeningChannel.ONLINE,
        actor=user,
        user=user,
    )
    if Decimal(balance):
        top_up(wallet.account, balance)
    return Customer(user=user, wallet=wallet, national_id=national_id)


@pytest.fixture
def customer() -> Customer:
    """A customer whose wallet holds 20.000."""
    return make_customer("20.000")
