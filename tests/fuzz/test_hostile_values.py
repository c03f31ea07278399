"""Hostile values in every field: each operation's JSON body fields and query parameters
get, one at a time, a NUL byte, an integer beyond 64 bits, a 100,000-character string and
values of the wrong type (arrays and objects where a scalar goes, words where a number goes).
Path parameters name a record the user can see, so the request reaches validation and the
code behind it. Nothing may answer 5xx; a refusal is the error envelope; anything accepted
must still be answered as documented."""

import pytest

from tests.fuzz.api import CHECKS, config, load

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

schema = load(config(max_examples=1, phases={}))
RAW = schema.raw_schema

NUL = "abc\x00def"
HUGE = 2**64 + 1
LONG = "x" * 100_000
# Every body field gets these; a query parameter, being text, the first three.
BODY_VALUES = {
    "nul_byte": NUL,
    "huge_integer": HUGE,
    "long_string": LONG,
    "negative_huge_integer": -(10**30),
    "array": [NUL],
    "object": {"value": NUL},
}
QUERY_VALUES = {"nul_byte": NUL, "huge_integer": str(HUGE), "long_string": LONG}
# Where a number or a boolean is expected, a word; where a string is, a number.
WRONG_SCALAR = {"integer": "twelve", "number": "twelve", "boolean": "maybe", "string": 12}


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        node = RAW["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _type(node: dict) -> str | None:
    node = _resolve(node)
    for branch in node.get("allOf", []) + node.get("oneOf", []) + node.get("anyOf", []):
        if _type(branch):
            return _type(branch)
    return node.get("type")


def _fields(operation: dict) -> list[tuple[str, str, str | None]]:
    """(location, name, JSON type) of every query parameter and JSON body property."""
    fields = [
        ("query", parameter["name"], _type(parameter.get("schema", {})))
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    ]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        properties = _resolve(body["schema"]).get("properties", {})
        fields += [("body", name, _type(prop)) for name, prop in properties.items()]
    return fields


# As management, whose organization buys and sells; the operations marked "(staff)" as staff.
OPERATIONS = [
    pytest.param(
        path, method, "staff" if "(staff)" in operation.get("summary", "") else "management", id=f"{method} {path}"
    )
    for path, operations in RAW["paths"].items()
    for method, operation in operations.items()
    if _fields(operation)
]


def _hostile(location: str, json_type: str | None) -> dict:
    values = dict(BODY_VALUES if location == "body" else QUERY_VALUES)
    if json_type in WRONG_SCALAR:
        values["wrong_type"] = WRONG_SCALAR[json_type] if location == "body" else str(WRONG_SCALAR[json_type])
    return values


def _path_parameters(path: str, headers: dict) -> dict:
    """Each `{param}` as the id of the first record the list above it shows, else 1."""
    parameters = {}
    for segment in (s for s in path.split("/") if s.startswith("{")):
        name = segment[1:-1]
        collection = path[: path.index(segment)]
        listed = schema[collection]["GET"].Case().call(headers=headers) if _lists(collection) else None
        rows = listed.json() if listed is not None and listed.status_code == 200 else []
        rows = rows.get("results", []) if isinstance(rows, dict) else rows
        parameters[name] = rows[0]["id"] if rows and "id" in rows[0] else 1
        path = path.replace(segment, str(parameters[name]))
    return parameters


def _lists(collection: str) -> bool:
    return "get" in RAW["paths"].get(collection, {}) and "{" not in collection


@pytest.mark.parametrize(("path", "method", "role"), OPERATIONS)
def test_hostile_values_in_every_field(path, method, role_headers):
    operation = schema[path][method.upper()]
    path_parameters = _path_parameters(path, role_headers)
    for location, name, json_type in _fields(RAW["paths"][path][method]):
        for kind, value in _hostile(location, json_type).items():
            parts = {"query": {name: value}} if location == "query" else {"body": {name: value}}
            case = operation.Case(path_parameters=path_parameters, media_type="application/json", **parts)
            response = case.call(headers=role_headers)
            try:
                case.validate_response(response, checks=CHECKS, headers=role_headers)
            except Exception as exc:
                raise AssertionError(f"{location} field {name!r} given {kind}: {exc}") from exc
