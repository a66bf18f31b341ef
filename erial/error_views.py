"""Django's 404 and 500 pages, except under ``/api/``: there every answer is problem+json (api.md), also for a
path no route matches (a payment id that is not a UUID) and for a failure no view caught.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from .api import PROBLEM_JSON
from .errors import DomainError, NotFound

API_PREFIX = "/api/"


class ServerError(DomainError):
    code, status, title = "server_error", 500, "Server error"


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path_info.startswith(API_PREFIX):  # the path within the site, whatever prefix it is served under
        return _problem(NotFound(f"Nothing is at {request.path}: see /api/docs/ for the paths."))
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith(API_PREFIX):  # the path within the site, whatever prefix it is served under
        # No detail of the failure leaves the service (Django logs it). Money moves in one transaction per
        # request, all or nothing, so the same request with the same Idempotency-Key is safe to send again.
        return _problem(
            ServerError(
                "The service failed to answer this request. Money moves all or nothing: send the same request "
                "with the same Idempotency-Key again."
            )
        )
    return defaults.server_error(request)


def _problem(error: DomainError) -> JsonResponse:
    return JsonResponse(error.as_problem(), status=error.status, content_type=PROBLEM_JSON)
