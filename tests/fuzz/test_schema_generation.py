"""The OpenAPI schema generates without a warning and validates against the OpenAPI spec:
a warning means some part of the API is documented wrongly, and the fuzzer would then
test the wrong contract."""

import json

import pytest
from django.core.management import CommandError, call_command
from drf_spectacular.drainage import GENERATOR_STATS

pytestmark = pytest.mark.fuzz


def test_schema_generates_without_warnings_and_validates(tmp_path):
    # Warnings are counted process-wide; an earlier schema request must not leak in (or hide one).
    GENERATOR_STATS.reset()
    target = tmp_path / "schema.json"
    try:
        call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(target))
    except CommandError as exc:
        problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        pytest.fail(f"{exc}:\n" + "\n".join(problems))
    finally:
        GENERATOR_STATS.reset()

    schema = json.loads(target.read_text())
    assert schema["paths"], "the schema documents no operation"
    assert "Error" in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"4XX", "5XX"} <= set(responses), f"{method.upper()} {path} does not document the error envelope"
