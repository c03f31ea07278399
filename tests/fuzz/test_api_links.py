"""The OpenAPI links of the main resources lead where they say: from each create's 201,
the links to read, update and delete the record made are followed as management (whose
organization buys and sells), and every answer is the documented one."""

import pytest

from tests.fuzz.api import CHECKS, config, load

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

schema = load(config(max_examples=1, phases={}))
RAW = schema.raw_schema
BY_OPERATION_ID = {
    operation["operationId"]: (path, method.upper())
    for path, operations in RAW["paths"].items()
    for method, operation in operations.items()
}

# A valid create and a valid change of each resource, and what reading it answers once
# deleted (a withdrawn listing stays visible to its vendor). OPPORTUNITY stands for the id of
# one the user can see.
OPPORTUNITY = object()
RESOURCES = {
    "/api/leads/": (
        {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@engines.example", "company": "Engines"},
        {"job_title": "Analyst"},
    ),
    "/api/contacts/": ({"first_name": "Ada", "email": "ada.contact@engines.example"}, {"position": "CTO"}),
    "/api/opportunities/": ({"title": "Pilot", "amount": "1200.00"}, {"probability": 40}),
    "/api/activities/": ({"kind": "task", "subject": "Call back", "opportunity_id": OPPORTUNITY}, {"done": True}),
    "/api/campaigns/": (
        {"name": "Autumn", "steps": [{"subject": "Hi {{ first_name }}", "body": "Hello"}]},
        {"name": "Fall"},
    ),
    "/api/webhooks/": ({"url": "https://hooks.engines.example/in", "events": ["lead.created"]}, {"description": "CRM"}),
    "/api/marketplace/saved-searches/": ({"name": "SaaS", "filters": {"industry": ["SaaS"]}}, {"notify": False}),
    "/api/marketplace/listings/": (
        {"title": "CTO at Engines", "price": "30.00", "email": "cto@engines.example", "first_name": "Dana"},
        {"price": "35.00"},
        200,
    ),
}
# What each linked operation answers, in the order they are followed.
FOLLOWED = [("GET", 200), ("PATCH", 200), ("GET", 200), ("DELETE", 204)]


def _call(path: str, method: str, headers: dict, expected: int, **parts):
    if "body" in parts:
        parts["media_type"] = "application/json"
    case = schema[path][method].Case(**parts)
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)
    assert response.status_code == expected, (method, path, response.status_code, response.content[:500])
    return response


@pytest.mark.parametrize("collection", list(RESOURCES))
@pytest.mark.parametrize("role", ["management"])
def test_the_links_of_a_create_read_update_and_delete_the_record(collection, role_headers, monkeypatch):
    # Webhook URLs must resolve to a public address.
    monkeypatch.setattr("leadnexus.core.outbound.resolve", lambda host, port: ["93.184.216.34"])
    create, change, *deleted = RESOURCES[collection]
    if create.get("opportunity_id") is OPPORTUNITY:
        listed = _call("/api/opportunities/", "GET", role_headers, 200).json()
        create = {**create, "opportunity_id": listed["results"][0]["id"]}
    created = _call(collection, "POST", role_headers, 201, body=create).json()

    links = RAW["paths"][collection]["post"]["responses"]["201"]["links"]
    by_method = {}
    for link in links.values():
        path, method = BY_OPERATION_ID[link["operationId"]]
        if path.count("/") == collection.count("/") + 1:
            assert link["parameters"] == {"id": "$response.body#/id"}, link
            by_method[method] = path
    assert set(by_method) == {"GET", "PATCH", "DELETE"}, by_method
    for method, expected in [*FOLLOWED, ("GET", deleted[0] if deleted else 404)]:
        parts = {"body": change} if method == "PATCH" else {}
        _call(by_method[method], method, role_headers, expected, path_parameters={"id": created["id"]}, **parts)
