"""The OpenAPI schema as schemathesis sees it, and the checks every answer must pass."""

import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import override_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

SEED = 20240611
# The database makes some examples slow and the schema's constraints filter some out;
# neither is a bug of the API.
HEALTH_CHECKS = ["too_slow", "filter_too_much", "data_too_large", "large_base_example"]


def config(*, max_examples: int, phases: dict) -> schemathesis.Config:
    # Fixed seed and derandomized generation: a failure reproduces on every run and machine.
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "suppress-health-check": HEALTH_CHECKS,
            "generation": {"max-examples": max_examples, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}, **phases},
        }
    )


def load(config: schemathesis.Config):
    # The schema client sends `Host: localhost`, which only DEBUG allows by default.
    with override_settings(ALLOWED_HOSTS=["localhost", "testserver"]):
        return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config)


@schemathesis.check
def error_envelope(ctx, response, case):
    """Every 4xx/5xx is `{"error": {code, message, details, request_id}}`, and the
    request id is the one in the `X-Request-ID` response header (a replayed answer's is
    the first request's)."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except Exception as exc:
        raise AssertionError(f"{response.status_code} body is not JSON: {response.content[:200]!r}") from exc
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the error envelope: {body!r}"
    error = body["error"]
    assert isinstance(error, dict), f"not the error envelope: {body!r}"
    assert set(error) == {"code", "message", "details", "request_id"}, f"envelope keys: {sorted(error)}"
    assert isinstance(error["code"], str) and error["code"], f"empty code: {error!r}"
    assert isinstance(error["message"], str) and error["message"], f"empty message: {error!r}"
    assert isinstance(error["details"], dict), f"details is not an object: {error!r}"
    assert error["request_id"], f"empty request_id: {error!r}"
    # An Idempotency-Key replay is the first answer byte for byte: its id names the first request.
    if response.headers.get("idempotent-replayed") != ["true"]:
        header = (response.headers.get("x-request-id") or [None])[0]
        assert error["request_id"] == header, f"request_id {error['request_id']!r} != X-Request-ID {header!r}"
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_envelope,
]
