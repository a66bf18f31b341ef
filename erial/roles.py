"""Roles: who may do what. A role is a Django group; superusers are admins."""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, Group


class Role(StrEnum):
    CUSTOMER = "customer"  # own wallet only
    AGENT = "agent"  # own office only
    FINANCE = "finance"
    SERVICE = "service"  # municipal systems that charge fees
    ADMIN = "admin"


def roles_of(user: AbstractBaseUser | None) -> set[Role]:
    """The roles a user holds (cached on the user object for the request)."""
    if user is None or not user.is_authenticated:
        return set()
    cached = getattr(user, "_erial_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = {role for role in Role if role.value in names}
        if user.is_superuser:
            cached.add(Role.ADMIN)
        user._erial_roles = cached
    return cached


def has_role(user: AbstractBaseUser | None, *roles: Role) -> bool:
    return bool(roles_of(user) & set(roles))


def grant(user: AbstractBaseUser, role: Role) -> None:
    group, _ = Group.objects.get_or_create(name=role.value)
    user.groups.add(group)
    user.__dict__.pop("_erial_roles", None)
