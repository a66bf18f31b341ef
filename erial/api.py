"""The HTTP edge shared by every app: strict JSON, amounts as strings, problem+json errors, roles.

One exception handler maps every refusal to ``application/problem+json`` with a stable ``code``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import (
    DomainError,
    Forbidden,
    InvalidAmount,
    InvalidRequest,
    MethodNotAllowed,
    MissingIdempotencyKey,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from .money import check_currency, format_amount, parse_amount
from .roles import Role, has_role

PROBLEM_JSON = "application/problem+json"


class _FloatLiteral(str):
    """A JSON number with a fraction or exponent, kept as text so that it can be refused, not rounded."""


class StrictJSONParser(JSONParser):
    """JSON whose numbers never become floats, and whose top level is an object."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            text = stream.read().decode("utf-8") if stream else ""
            data = json.loads(text or "{}", parse_float=_FloatLiteral, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"The body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise exceptions.ParseError("The body must be a JSON object.")
        return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{1,15}(\.\d{1,3})?$", "example": "12.500", "description": "OMR, 3 decimals"}
)
class AmountField(serializers.Field):
    """An OMR amount: a string like "12.500" in, "12.500" out. Anything else is ``invalid_amount``.

    ``allow_zero`` for counts of cash (an empty drawer is a valid count).
    """

    def __init__(self, *, allow_zero: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.allow_zero = allow_zero

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is serializers.empty and self.required:
            raise InvalidAmount(f'{self.field_name} is required: a string like "12.500".')
        if data is None:
            raise InvalidAmount(f'{self.field_name} must be a string like "12.500", not null.')
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, _FloatLiteral) or (isinstance(data, int | float) and not isinstance(data, bool)):
            raise InvalidAmount(f'Amounts are strings with 3 decimals, like "12.500", not the number {data}.')
        if not isinstance(data, str):
            raise InvalidAmount('Amounts are strings with 3 decimals, like "12.500".')
        return parse_amount(data, allow_zero=self.allow_zero, exact_places=True)

    def to_representation(self, value: Decimal) -> str:
        return format_amount(value)


@extend_schema_field({"type": "string", "pattern": r"^-?\d{1,15}\.\d{3}$", "example": "-2.100"})
class SignedAmountField(AmountField):
    """An amount that may be negative on the way out (a debit in a statement)."""


class StrictSerializer(serializers.Serializer):
    """Unknown fields are refused (a typo never silently becomes a default); ``currency`` must be OMR."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise InvalidRequest("The body must be a JSON object.")
        unknown = sorted(set(data) - set(self.fields) - {"currency"})
        if unknown:
            raise InvalidRequest(f"Unknown field(s): {', '.join(unknown)}.", fields=unknown)
        if "currency" in data:
            check_currency(data["currency"])
        return super().to_internal_value(data)


def idempotency_key(request: Request) -> str:
    """The ``Idempotency-Key`` header every money-moving POST must carry (1-255 printable characters)."""
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        raise MissingIdempotencyKey("This request moves money: send an Idempotency-Key header (1-255 characters).")
    if len(key) > 255 or not key.isprintable():
        raise InvalidRequest("An Idempotency-Key is 1 to 255 printable characters.")
    return key


def idempotency_scope(request: Request) -> str:
    """Keys are the client's own: two clients may use the same key without meeting."""
    return f"api:{request.user.pk}"


def require_role(request: Request, *roles: Role) -> None:
    if not has_role(request.user, *roles):
        raise Forbidden("Your role may not do this.")


class HasRole(BasePermission):
    """``permission_classes = [HasRole.of(Role.FINANCE, ...)]``: endpoint-level role check."""

    roles: tuple[Role, ...] = ()

    @classmethod
    def of(cls, *roles: Role) -> type[HasRole]:
        return type("HasRole_" + "_".join(roles), (cls,), {"roles": roles})

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        if not has_role(request.user, *self.roles):
            raise Forbidden("Your role may not do this.")
        return True


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every error as RFC 9457 problem+json with a machine ``code``; refusals never leak a traceback."""
    problem = _as_domain_error(exc)
    if problem is None:
        return drf_exception_handler(exc, context)
    response = Response(problem.as_problem(), status=problem.status, content_type=PROBLEM_JSON)
    if getattr(exc, "auth_header", None):
        response["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        response["Retry-After"] = str(int(exc.wait))
    return response


def _as_domain_error(exc: Exception) -> DomainError | None:
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, exceptions.ValidationError):
        return InvalidRequest("The request is not valid: see errors.", errors=exc.detail)
    if isinstance(exc, exceptions.ParseError):
        return InvalidRequest(str(exc.detail))
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        error = Unauthenticated if exc.status_code == 401 else Forbidden
        return error(str(exc.detail))
    if isinstance(exc, exceptions.PermissionDenied):
        return Forbidden(str(exc.detail))
    if isinstance(exc, exceptions.NotFound | Http404):
        return NotFound("Not found.")
    if isinstance(exc, exceptions.MethodNotAllowed):
        return MethodNotAllowed(str(exc.detail))
    if isinstance(exc, exceptions.Throttled):
        return RateLimited(str(exc.detail))
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return InvalidRequest("Send the body as application/json.")
    return None
