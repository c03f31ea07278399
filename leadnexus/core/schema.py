"""OpenAPI additions: the error envelope is documented once and referenced by every
operation's 4XX and 5XX answers, so clients and the fuzzer know its shape."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details", "request_id"],
            "properties": {
                "code": {"type": "string", "example": "validation_error"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": True},
                "request_id": {"type": "string", "nullable": True},
            },
        }
    },
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {
        "description": "Error envelope",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("4XX", error)
            responses.setdefault("5XX", error)
    return result


def add_resource_links(result, generator, request, public):
    """OpenAPI links from each create to what can be done with the record it made: the
    `id` in a 201 answer of `POST /api/things/` fills the path parameter of every operation
    under `/api/things/{param}/`. Clients (and the fuzzer's stateful phase) follow them."""
    paths = result.get("paths", {})
    for collection, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if created is None or "id" not in _properties(result, created):
            continue
        links = {}
        for path, item_operations in paths.items():
            param = _item_parameter(collection, path)
            if param is None:
                continue
            for method, operation in item_operations.items():
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {param: "$response.body#/id"},
                    "description": f"{method.upper()} {path} with the `id` of the record created.",
                }
        if links:
            created["links"] = links
    return result


def _properties(result, response) -> dict:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = result["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema.get("properties", {})


def _item_parameter(collection: str, path: str) -> str | None:
    """`id` for `/api/things/{id}/…` under the collection `/api/things/`, else None."""
    if not path.startswith(collection):
        return None
    segment = path[len(collection) :].split("/", 1)[0]
    if segment.startswith("{") and segment.endswith("}"):
        return segment[1:-1]
    return None
