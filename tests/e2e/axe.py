"""axe-core in the e2e suite: the npm package (tests/e2e/package.json, installed by
`make test`'s `npm ci`) injected into the page by Playwright. A check fails on any serious
or critical violation, and names the rule, the elements and what to fix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
_AXE_PATH = "/__tests__/axe.min.js"  # answered by Playwright, never by canone

_RUN = """async (selector) => {
  const context = selector ? document.querySelector(selector) : document;
  const result = await axe.run(context, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ") + " — " + n.failureSummary),
  }));
}"""


def axe_script() -> Path:
    """axe.min.js; missing, the test is skipped on a developer's machine, failed in CI."""
    if not AXE_JS.is_file():
        message = f"{AXE_JS} is missing: run `npm ci` in tests/e2e (`make test` does)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AXE_JS


def violations(page: Any, selector: str | None = None) -> list[dict[str, Any]]:
    """The serious and critical violations on the page, or inside `selector`."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Served from the page's own origin, so the pages' script-src 'self' allows it and
        # the suite's CSP check stays on (an inline <script> would be blocked).
        origin = page.evaluate("() => location.origin")
        if origin == "null":  # a page made with set_content has no origin and no CSP
            page.add_script_tag(path=str(axe_script()))
        else:
            page.route(origin + _AXE_PATH, lambda route: route.fulfill(
                path=str(axe_script()), content_type="text/javascript"))
            page.add_script_tag(url=origin + _AXE_PATH)
    found: list[dict[str, Any]] = page.evaluate(_RUN, selector)
    return [v for v in found if v["impact"] in BLOCKING]


def assert_accessible(page: Any, where: str, selector: str | None = None) -> None:
    found = violations(page, selector)
    assert not found, f"axe-core on {where}:\n" + "\n".join(
        f"- {v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in found)
