"""What a server process's app does as it starts (`canone serve`'s workers): its templates
compiled and its start-up heap frozen out of the cyclic garbage collector's walks."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from canone.services.context import Services
from canone.settings import Settings
from canone.web.app import create_app
from canone.web.templating import templates

SETTINGS = Settings(database_url="sqlite://", secret_key="test-secret")


def cached_templates() -> list[str]:
    return sorted(name for _, name in templates.env.cache)  # type: ignore[union-attr]


def test_a_serving_app_compiles_every_template_then_freezes_its_heap_at_start(
        svc: Services) -> None:
    templates.env.cache.clear()  # type: ignore[union-attr]
    app = create_app(SETTINGS, svc, serving=True)
    assert gc.get_freeze_count() == 0 and cached_templates() == []
    try:
        with TestClient(app) as http:
            assert gc.get_freeze_count() > 100_000  # the modules, the app, the templates
            assert cached_templates() == [
                "base.html", "console/_macros.html", "console/account.html",
                "console/accounts.html", "console/layout.html", "console/queue.html",
                "console/request.html", "error.html", "login.html", "portal/_macros.html",
                "portal/_stripe_head.html", "portal/billing.html", "portal/billing_details.html",
                "portal/billing_dialogs.html", "portal/bundle.html", "portal/quote_request.html",
                "portal/quote_review.html", "portal/quote_summary.html"]
            assert http.get("/login").status_code == 200
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual


def test_an_app_for_tests_freezes_nothing(svc: Services) -> None:
    with TestClient(create_app(SETTINGS, svc)) as http:
        assert http.get("/login").status_code == 200
        assert gc.get_freeze_count() == 0


def test_the_factory_canone_serve_hands_to_uvicorn_builds_a_serving_app(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from canone.web import app as web_app

    built: list[dict[str, object]] = []
    monkeypatch.setattr(web_app, "create_app", lambda settings, **options: built.append(
        options))
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("CANONE_TEST_MODE", "1")
    web_app.app_from_env()
    assert built == [{"serving": True}]
