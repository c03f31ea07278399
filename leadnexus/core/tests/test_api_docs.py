def test_schema_and_swagger_ui_are_served_without_outside_calls(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/auth/login/" in schema.content

    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # assets come from this site (vendored), never a CDN
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs.content
    assert b"cdn" not in docs.content.lower()
    assert "script-src 'self'" in docs["Content-Security-Policy"]
