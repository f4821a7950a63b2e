"""Schema-driven fuzzing of the JSON API: schemathesis generates requests from /api/openapi.json and sends
them in-process through the WSGI app with a token; no response may be a server error (5xx) or differ from what
the schema documents (status code, content type, headers, body), and every error response has the stable
``{"error": {"code", "message"}}`` shape."""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.webapp.model_helpers import ready_model
from webapp.models import ApiToken, Category, ReferenceClip, Video

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OPERATION = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schemathesis.serializer("application/offset+octet-stream")
def upload_chunk_bytes(ctx, value) -> bytes:
    """Upload chunks (PATCH /api/uploads/{id}) are raw bytes."""
    return bytes(value) if isinstance(value, (bytes, bytearray)) else str(value).encode()


@pytest.fixture
def token(owner, tmp_path) -> str:
    """A token for a user who owns a ready video, a category with a clip and an active model (ids 1..)."""
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"not really a video")
    video = Video.create_from_file(owner, source, "clip.mp4", sha256="abc", move=True)
    Video.objects.filter(pk=video.pk).update(status=Video.Status.READY, duration_s=10.0, fps=10.0)
    category = Category.objects.create(owner=owner, name="soccer")
    ReferenceClip.objects.create(category=category, video=video)
    ready_model(category)
    return ApiToken.issue(owner, "fuzz")[1]


def check_operation(operation, headers: dict, seen: list) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = case.call(headers=headers)
        seen.append(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)
        content_type = (response.headers.get("Content-Type") or [""])[0]
        if response.status_code >= 400 and content_type.startswith("application/json"):
            error = response.json()["error"]
            assert error["code"] and error["message"], case.as_curl_command(headers)

    run()


def test_fuzzing_the_api_finds_no_server_errors(token, settings):
    settings.OFFSIDE_API_RATE_LIMITS = {"train": 3, "score": 3}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.clear()
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    seen: list[int] = []
    for operation in operations:
        check_operation(operation, headers, seen)
    assert {200, 201, 404, 422} <= set(seen), sorted(set(seen))
