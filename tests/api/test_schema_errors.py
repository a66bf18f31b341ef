"""The OpenAPI schema documents each operation's refusals (problem+json, stable codes) and the partner callback."""

from __future__ import annotations

import pytest

from erial.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api):
    client, _ = api(Role.FINANCE)
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _refusal(operation: dict, status: str) -> str:
    answer = operation["responses"][status]
    assert list(answer["content"]) == ["application/problem+json"]
    assert answer["content"]["application/problem+json"]["schema"]["allOf"] == [
        {"$ref": "#/components/schemas/Problem"}
    ]
    return answer["description"]


def test_every_operation_documents_its_refusals_as_problem_json(schema):
    assert set(schema["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status", "detail", "code"}
    operations = 0
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post"} or path.startswith("/api/v1/callbacks/"):
                continue
            operations += 1
            for status in ("400", "401", "403"):
                _refusal(operation, status)
            if "{" in path:
                _refusal(operation, "404")
            if method == "post":
                assert "`idempotency_conflict`" in _refusal(operation, "409")
                assert "`insufficient_funds`" in _refusal(operation, "422")
    assert operations > 25


def test_a_payment_lists_the_codes_api_md_names(schema):
    post = schema["paths"]["/api/v1/payments/"]["post"]
    assert {"201", "400", "401", "403", "409", "422"} <= set(post["responses"])
    assert all(f"`{code}`" in _refusal(post, "400") for code in ("invalid_amount", "missing_idempotency_key"))
    refusals = _refusal(post, "422")
    assert all(f"`{code}`" in refusals for code in ("insufficient_funds", "account_inactive", "already_refunded"))


def test_the_partner_callback_is_documented_without_a_token(schema):
    callback = schema["paths"]["/api/v1/callbacks/{channel}/"]["post"]
    assert callback["security"] == []
    assert {p["name"] for p in callback["parameters"]} == {"channel", "X-Erial-Signature"}
    body = callback["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["required"]) == {"reference", "status", "amount", "currency", "partner_txn_id", "nonce"}
    assert {"200", "400", "401", "422"} == set(callback["responses"])
