"""The OpenAPI schema says what can go wrong, not only what goes right.

drf-spectacular documents each operation's success answer. Integrators also need the refusals, which api.md
fixes for every endpoint: problem+json with a stable ``code``. One postprocessing hook adds them everywhere,
from the same error classes the exception handler answers with, so the schema cannot drift from the codes; and
it adds the partners' callback, a plain Django view (no token: the signature is the proof) that DRF never sees.
"""

from __future__ import annotations

import copy
from typing import Any

from .api import PROBLEM_JSON
from .errors import BusinessRefusal, DomainError

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error (RFC 9457 problem details). `code` is stable: branch on it, not on `detail`.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "example": "https://e-rial.om/problems/insufficient-funds"},
        "title": {"type": "string", "example": "Insufficient funds"},
        "status": {"type": "integer", "example": 422},
        "detail": {"type": "string", "description": "What went wrong, for a person to read."},
        "code": {"type": "string", "example": "insufficient_funds"},
        "field": {"type": "string", "description": "The request field at fault, when there is one."},
    },
    "additionalProperties": True,
}

#: Statuses an operation may answer with besides its success, each with what it means.
WHEN = {
    400: "Malformed input",
    401: "No valid token",
    403: "The token's role may not do this, or not to this object",
    404: "No such object (or not yours to see)",
    409: "The Idempotency-Key was used with another request, or the thing exists already",
    422: "A business refusal: nothing was written",
}


def _errors() -> list[type[DomainError]]:
    """Every refusal the apps define (their modules are imported by the time a schema is generated), except
    the partners' callback refusals, documented on the callback alone, and the abstract bases."""
    found, todo = [], [DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub is BusinessRefusal or sub.__module__ == "topups.services":
                continue
            found.append(sub)
    return found


def _codes(status: int) -> list[str]:
    return sorted({error.code for error in _errors() if error.status == status})


def _problem_response(status: int) -> dict[str, Any]:
    codes = ", ".join(f"`{code}`" for code in _codes(status))
    schema = copy.deepcopy(PROBLEM_REF)
    return {
        "description": f"{WHEN[status]} ({codes}).",
        "content": {PROBLEM_JSON: {"schema": {"allOf": [schema], "example": _example(status)}}},
    }


def _example(status: int) -> dict[str, Any]:
    code = _codes(status)[0]
    error = next(error for error in _errors() if error.code == code and error.status == status)
    return error("…").as_problem() | {"detail": f"{WHEN[status]}."}


def _statuses(method: str, path: str) -> list[int]:
    """400 anywhere (a malformed body, query or account number), 401/403 anywhere, 404 with a path parameter,
    and the write refusals on writes."""
    statuses = [400, 401, 403]
    if "{" in path:
        statuses.append(404)
    if method in ("post", "put", "patch", "delete"):
        statuses += [409, 422]
    return statuses


CALLBACK_PATH = "/api/v1/callbacks/{channel}/"
CALLBACK_OPERATION: dict[str, Any] = {
    "operationId": "partner_callback",
    "summary": "A partner's signed notification of an online top-up (bank or card gateway)",
    "description": (
        "No token: the bank or the gateway signs the raw body. `X-Erial-Signature: t=<unix seconds>,v1=<hex "
        "HMAC-SHA256 of '<t>.<raw body>' with the channel's shared secret>`; a timestamp more than 300 s away "
        "is refused, and a nonce is single-use (the same nonce with the same body is a retry and is answered "
        "again; with another body it is refused). An authorised callback credits the top-up exactly once, "
        "however often it is sent and in any order with the customer's return. A refused callback credits "
        "nothing and is recorded for finance. A wallet frozen or closed since the top-up started is a 422 "
        "`account_inactive`: nothing is credited; a retry once a frozen wallet is active again credits it."
    ),
    "tags": ["callbacks"],
    "security": [],
    "parameters": [
        {"name": "channel", "in": "path", "required": True, "schema": {"type": "string", "enum": ["bank", "card"]}},
        {
            "name": "X-Erial-Signature",
            "in": "header",
            "required": True,
            "schema": {"type": "string", "example": "t=1767225600,v1=5f2b…"},
        },
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["reference", "status", "amount", "currency", "partner_txn_id", "nonce"],
                    "properties": {
                        "reference": {"type": "string", "maxLength": 64, "description": "Our top-up reference."},
                        "status": {"type": "string", "enum": ["authorised", "failed"]},
                        "amount": {"type": "string", "pattern": r"^\d{1,15}\.\d{3}$", "example": "15.000"},
                        "currency": {"type": "string", "enum": ["OMR"]},
                        "partner_txn_id": {"type": "string", "maxLength": 64},
                        "nonce": {"type": "string", "maxLength": 64},
                    },
                }
            }
        },
    },
    "responses": {
        "200": {
            "description": "Processed (or a retry of one already processed): the top-up's state.",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "reference": {"type": "string"},
                            "status": {"type": "string", "enum": ["completed", "failed"]},
                        },
                    }
                }
            },
        },
        "400": {
            "description": "Refused: malformed body, a nonce reused on another body, or an amount, currency or "
            "reference that does not match the top-up (`callback_refused`). Nothing credited.",
            "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
        },
        "401": {
            "description": "Refused: signature missing or wrong, or timestamp outside 300 s (`invalid_signature`).",
            "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
        },
        "422": {
            "description": "The wallet is frozen or closed (`account_inactive`): nothing credited.",
            "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
        },
    },
}


def problem_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: error responses on every operation, and the partner callback."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    paths = result.setdefault("paths", {})
    for path, item in paths.items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete") or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for status in _statuses(method, path):
                responses.setdefault(str(status), _problem_response(status))
    paths[CALLBACK_PATH] = {"post": copy.deepcopy(CALLBACK_OPERATION)}
    return result
