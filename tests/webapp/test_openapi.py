"""The API's description: /api/openapi.json is valid OpenAPI 3 without duplicate keys (/api/docs renders)."""

import json

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def reject_duplicate_keys(pairs: list[tuple]) -> dict:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    assert not duplicates, f"duplicate keys {duplicates} in one object"
    return dict(pairs)


@pytest.fixture
def spec(owner_client) -> dict:
    response = owner_client.get("/api/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content, object_pairs_hook=reject_duplicate_keys)


def test_the_openapi_document_has_no_duplicate_keys_and_validates(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_the_segment_export_documents_each_format_under_one_success_response(spec):
    responses = spec["paths"]["/api/runs/{run_id}/segments.{fmt}"]["get"]["responses"]
    assert {"text/csv", "text/plain", "application/json"} <= set(responses["200"]["content"])
