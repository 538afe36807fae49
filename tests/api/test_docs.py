"""The API docs (/docs, Swagger UI; /redoc, ReDoc) are served whole by canone itself: their
pages load scripts and styles from this server only, so they work without internet."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")


def assets_of(html: str) -> list[str]:
    return [a or b for a, b in ASSET.findall(html)]


@pytest.mark.parametrize(("page", "script"), [
    ("/docs", "/static-offline-docs/swagger-ui-bundle.js"),
    ("/redoc", "/static-offline-docs/redoc.standalone.js"),
])
def test_the_docs_pages_reference_only_this_server(client: TestClient, page: str,
                                                    script: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assets = assets_of(response.text)
    assert script in assets
    assert [a for a in assets if not a.startswith("/")] == []
    assert "https://" not in response.text and "http://" not in response.text
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        if asset.endswith(".js"):
            assert served.headers["content-type"].startswith(
                ("text/javascript", "application/javascript"))
            assert len(served.content) > 100_000  # the whole bundle, not a stub


def test_the_openapi_document_the_docs_read_is_served(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["info"]["title"] == "canone"
    assert "/api/v1/accounts/{account_id}/subscription/preview" in document["paths"]
