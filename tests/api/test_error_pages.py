"""Under /api/ every answer is problem+json, also where no route matches or no view caught a failure."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import path

from erial.roles import Role
from erial.urls import urlpatterns as project_urlpatterns
from tests.api.conftest import assert_problem

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    ["/api/v1/payments/not-a-uuid/", "/api/v1/no-such-thing/", "/api/v2/payments/", "/api/v1/payments/x/refunds/"],
)
def test_a_path_no_route_matches_is_problem_json_not_found(api, url):
    client, _ = api(Role.FINANCE)
    body = assert_problem(client.get(url), 404, "not_found")
    assert url in body["detail"]


def test_anonymous_callers_get_the_same_problem_for_an_unknown_api_path():
    assert_problem(Client().post("/api/v1/nowhere/", {}), 404, "not_found")


def test_outside_the_api_the_404_page_stays_html():
    response = Client().get("/portal/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def _fails(request):
    raise RuntimeError("secret internals")


urlpatterns = [
    path("api/v1/fails/", _fails),
    path("portal/fails/", _fails),
    *project_urlpatterns,
]
handler404 = "erial.error_views.not_found"
handler500 = "erial.error_views.server_error"


@override_settings(ROOT_URLCONF=__name__)
def test_an_api_failure_is_problem_json_500_without_internals():
    response = Client(raise_request_exception=False).get("/api/v1/fails/")
    body = assert_problem(response, 500, "server_error")
    assert "secret" not in response.content.decode() and "Idempotency-Key" in body["detail"]


@override_settings(ROOT_URLCONF=__name__)
def test_outside_the_api_a_failure_is_the_html_500_page():
    response = Client(raise_request_exception=False).get("/portal/fails/")
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")
    assert "secret" not in response.content.decode()


def test_served_under_a_prefix_the_api_still_answers_problem_json():
    """Behind a proxy that mounts the site at /erial/ (SCRIPT_NAME), the API is still the API."""
    response = Client().get("/api/v1/no-such-thing/", SCRIPT_NAME="/erial")
    assert_problem(response, 404, "not_found")
