"""Domain errors: every refusal the business can give, each with a stable machine code.

The HTTP edge maps these to ``application/problem+json`` in one place; services only raise them.
A domain error always means *nothing was written*.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal with a stable ``code``, an HTTP ``status`` and a human ``detail``."""

    code = "domain_error"
    status = 400
    title = "Request refused"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def as_problem(self) -> dict[str, Any]:
        """The RFC 9457 problem document for this refusal."""
        return {
            "type": f"https://e-rial.om/problems/{self.code.replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }


class InvalidAmount(DomainError):
    code, status, title = "invalid_amount", 400, "Invalid amount"


class InvalidRequest(DomainError):
    code, status, title = "invalid_request", 400, "Invalid request"


class MissingIdempotencyKey(DomainError):
    code, status, title = "missing_idempotency_key", 400, "Idempotency-Key header required"


class Unauthenticated(DomainError):
    code, status, title = "forbidden", 401, "Authentication required"


class Forbidden(DomainError):
    code, status, title = "forbidden", 403, "Forbidden"


class NotFound(DomainError):
    code, status, title = "not_found", 404, "Not found"


class IdempotencyConflict(DomainError):
    code, status, title = "idempotency_conflict", 409, "Idempotency key reused with a different request"


class BusinessRefusal(DomainError):
    """A well-formed request the business rules refuse (HTTP 422)."""

    status = 422


class InsufficientFunds(BusinessRefusal):
    code, title = "insufficient_funds", "Insufficient funds"


class LimitExceeded(BusinessRefusal):
    code, title = "limit_exceeded", "Limit exceeded"


class AccountInactive(BusinessRefusal):
    code, title = "account_inactive", "Account inactive"


class ReversalExceedsOriginal(BusinessRefusal):
    code, title = "already_refunded", "More than was posted cannot be reversed"


class AlreadyExists(DomainError):
    code, status, title = "already_exists", 409, "Already exists"


class InvalidTransition(BusinessRefusal):
    code, title = "invalid_transition", "Not allowed in the current state"


class AlreadyPaid(BusinessRefusal):
    code, title = "already_paid", "Bill already paid"


class MethodNotAllowed(DomainError):
    code, status, title = "method_not_allowed", 405, "Method not allowed"


class RateLimited(DomainError):
    code, status, title = "rate_limited", 429, "Too many requests"


class AgentInactive(BusinessRefusal):
    code, title = "agent_inactive", "Office not active"


class SessionClosed(BusinessRefusal):
    code, title = "session_closed", "No open cashier session"


class SessionAlreadyOpen(BusinessRefusal):
    code, title = "session_already_open", "A cashier session is already open"
