"""Whether a login may act for its office: a check the agent network registers (the ledger knows no app above it).

An agent of an office that is not active (suspended, onboarding, terminated) is refused everything it would do
for the office (api.md: ``agent_inactive``), opening accounts and issuing portal codes included; only the agent
network knows offices, so it registers the check (``agents.apps``) and the ledger's services call it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser

OfficeCheck = Callable[[AbstractBaseUser], None]
_CHECKS: list[OfficeCheck] = []


def register_office_check(check: OfficeCheck) -> None:
    if check not in _CHECKS:
        _CHECKS.append(check)


def refuse_unless_office_may_act(actor: AbstractBaseUser | None) -> None:
    """Raise the registered refusal if ``actor`` acts for an office that may not act now; else nothing."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return
    for check in _CHECKS:
        check(actor)
