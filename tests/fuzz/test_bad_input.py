"""Hand-written hostile input for the public auth endpoints, the ones anyone on the
internet can reach: every request below must be refused with a 4xx in the error
envelope, never accepted and never a 500."""

import pytest

from accounts.tests.factories import PASSWORD
from leadnexus.core.testing import assert_error

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

REGISTER = "/api/auth/register"
LOGIN = "/api/auth/login"
VERIFY_OTP = "/api/auth/verify-otp"

VALID = {
    REGISTER: {
        "email": "new.buyer@example.com",
        "password": "orbit-lattice-42",
        "full_name": "New Buyer",
        "organization_name": "Buyers Ltd",
        "account_type": "buyer",
    },
    LOGIN: {"email": "someone@example.com", "password": PASSWORD},
    VERIFY_OTP: {"email": "someone@example.com", "otp": "123456"},
}

# Every string field of each body.
STRING_FIELDS = [(path, field) for path, body in VALID.items() for field in body]
# Fields where DRF's string coercion of a number still cannot make a valid value.
NUMBER_REJECTING_FIELDS = [(REGISTER, "email"), (REGISTER, "account_type"), (LOGIN, "email"), (VERIFY_OTP, "email")]

WRONG_VALUES = {
    "nul_byte": "abc\x00def",
    "nul_only": "\x00",
    "ten_thousand_chars": "x" * 10_000,
    "list": ["a@example.com"],
    "object": {"value": "a@example.com"},
    "empty_list": [],
    "boolean": True,
}
WRONG_NUMBERS = {"huge_integer": 10**100, "negative_integer": -(10**40), "float": 1.5e300}


def _post(client, path, raw: bytes, content_type="application/json"):
    return client.generic("POST", path, raw, content_type=content_type)


@pytest.mark.parametrize(("path", "field"), STRING_FIELDS)
@pytest.mark.parametrize("kind", WRONG_VALUES)
def test_bad_string_values_are_validation_errors(api_client, path, field, kind):
    body = {**VALID[path], field: WRONG_VALUES[kind]}
    error = assert_error(api_client.post(path, body, format="json"), 400, "validation_error")
    assert field in error["details"], error


@pytest.mark.parametrize(("path", "field"), NUMBER_REJECTING_FIELDS)
@pytest.mark.parametrize("kind", WRONG_NUMBERS)
def test_numbers_where_a_string_is_expected_are_validation_errors(api_client, path, field, kind):
    body = {**VALID[path], field: WRONG_NUMBERS[kind]}
    error = assert_error(api_client.post(path, body, format="json"), 400, "validation_error")
    assert field in error["details"], error


@pytest.mark.parametrize("kind", WRONG_NUMBERS)
def test_a_number_as_the_otp_is_never_a_valid_code(api_client, kind):
    body = {**VALID[VERIFY_OTP], "otp": WRONG_NUMBERS[kind]}
    error = assert_error(api_client.post(VERIFY_OTP, body, format="json"), 400, "validation_error")
    assert "otp" in error["details"], error


MALFORMED_BODIES = {
    "truncated_json": b'{"email": "a@example.com", ',
    "single_quotes": b"{'email': 'a@example.com'}",
    "trailing_comma": b'{"email": "a@example.com",}',
    "nan": b'{"email": NaN}',
    "integer_beyond_int_max_str_digits": b'{"email": ' + b"9" * 5000 + b"}",
    "invalid_utf8": b'{"email": "\xff\xfe"}',
    "utf8_bom": b'\xef\xbb\xbf{"email": "a@example.com"}',
    "array": b'["a@example.com"]',
    "string": b'"a@example.com"',
    "number": b"42",
    "null": b"null",
    "empty": b"",
}


@pytest.mark.parametrize("path", VALID)
@pytest.mark.parametrize("kind", MALFORMED_BODIES)
def test_malformed_json_is_a_validation_error(api_client, path, kind):
    assert_error(_post(api_client, path, MALFORMED_BODIES[kind]), 400, "validation_error")


@pytest.mark.parametrize("path", VALID)
@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/octet-stream", "text/csv"])
def test_unsupported_content_type_is_415(api_client, path, content_type):
    raw = b'{"email": "a@example.com"}'
    assert_error(_post(api_client, path, raw, content_type=content_type), 415, "unsupported_media_type")


@pytest.mark.parametrize("path", VALID)
def test_multipart_without_boundary_is_a_validation_error(api_client, path):
    assert_error(_post(api_client, path, b"--x\r\n", content_type="multipart/form-data"), 400, "validation_error")


@pytest.mark.parametrize("path", VALID)
def test_form_body_with_nul_bytes_is_a_validation_error(api_client, path):
    raw = b"email=a%00b%40example.com&password=x%00y&otp=12%0034"
    assert_error(
        _post(api_client, path, raw, content_type="application/x-www-form-urlencoded"), 400, "validation_error"
    )


@pytest.mark.parametrize("path", VALID)
def test_oversized_body_is_413(api_client, path):
    raw = b'{"email": "' + b"x" * 3_000_000 + b'"}'
    assert_error(_post(api_client, path, raw), 413, "payload_too_large")


# Python's json module raises RecursionError (not ValueError) past ~900 levels, and DRF's
# JSONParser only turns ValueError into a ParseError; a 1.8 KB body is enough.
@pytest.mark.parametrize("path", VALID)
def test_deeply_nested_json_is_a_validation_error(api_client, path):
    raw = b"[" * 1000 + b"]" * 1000
    assert_error(_post(api_client, path, raw), 400, "validation_error")


# simplejwt's InvalidToken carries a dict as `detail`, which the envelope stringifies.
def test_bad_bearer_token_message_is_readable(api_client):
    response = api_client.get("/api/auth/me", HTTP_AUTHORIZATION="Bearer not-a-jwt")
    error = assert_error(response, 401, "not_authenticated")
    assert "ErrorDetail" not in error["message"] and not error["message"].startswith("{"), error["message"]
