"""API authentication: a token, its user and the user's roles in one query.

Why: DRF's ``TokenAuthentication`` reads the token with its user, then ``roles_of`` reads the user's
groups: two ORM queries on every request, about a quarter of an API payment's Python time in
bench/RESULTS.md. One plain SQL statement does both, with the same refusals as DRF's.
"""

from __future__ import annotations

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from .plain_sql import JoinedRow
from .roles import Role


class TokenWithRolesAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, as DRF's, answered by one query that also brings the roles."""

    def authenticate_credentials(self, key: str) -> tuple[AbstractBaseUser, Token]:
        if connection.vendor == "postgresql":
            found = _token_row().fetch([key])
            if found is None:
                raise exceptions.AuthenticationFailed(_("Invalid token."))
            user, groups = found
            group_names = set(groups or [])
        else:  # other backends return some columns raw (text datetimes): the ORM converts them
            user, group_names = _by_orm(key)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        roles = {role for role in Role if role.value in group_names}
        if user.is_superuser:
            roles.add(Role.ADMIN)
        user._erial_roles = roles
        return user, Token(key=key, user=user)


@functools.cache
def _token_row() -> JoinedRow:
    """The token's user with the names of the user's groups, in one row (PostgreSQL)."""
    user_model = get_user_model()
    return JoinedRow.build(
        ((user_model, "u"),),
        f"FROM {Token._meta.db_table} t JOIN {user_model._meta.db_table} u ON u.id = t.user_id WHERE t.key = %s",
        extra=(
            "(SELECT array_agg(g.name) FROM auth_user_groups ug JOIN auth_group g ON g.id = ug.group_id "
            "WHERE ug.user_id = u.id)",
        ),
    )


def _by_orm(key: str) -> tuple[AbstractBaseUser, set[str]]:
    user_model = get_user_model()
    quote = connection.ops.quote_name
    # One row per group of the user (one row with no group name if none); the user's columns on each.
    rows = list(
        user_model.objects.raw(
            f"SELECT u.*, g.name AS erial_group FROM {quote(Token._meta.db_table)} t "
            f"JOIN {quote(user_model._meta.db_table)} u ON u.id = t.user_id "
            "LEFT JOIN auth_user_groups ug ON ug.user_id = u.id "
            "LEFT JOIN auth_group g ON g.id = ug.group_id "
            "WHERE t.key = %s",
            [key],
        )
    )
    if not rows:
        raise exceptions.AuthenticationFailed(_("Invalid token."))
    return rows[0], {row.erial_group for row in rows}
