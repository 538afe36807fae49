"""A tiny HTTP server that answers the Stripe SDK with recorded Stripe responses, for what
localstripe cannot do (SPEC §9). A recording is a JSON file under
tests/integrations/stripe_recordings/:

    {"stands_for": "the Stripe behaviour it shows",
     "source": "where its shape comes from",
     "exchanges": [{"request": {"method": "POST", "path": "/v1/…"},
                    "response": {"status": 402, "headers": {…}, "body": {…}}}, …]}

The exchanges are answered in order; a request that is not the next one expected gets a 500
saying so (and the test fails on the SDK's error). Every request is kept, headers and form
fields included, so a test can check what canone sent (idempotency keys, `off_session`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

RECORDINGS = Path(__file__).parent / "integrations" / "stripe_recordings"


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]


def load(name: str) -> dict[str, Any]:
    recording: dict[str, Any] = json.loads((RECORDINGS / f"{name}.json").read_text("utf-8"))
    assert recording["stands_for"] and recording["exchanges"], name
    return recording


class StripeReplay:
    def __init__(self, name: str, values: dict[str, str] | None = None) -> None:
        """`values`: placeholders of the recording's bodies (e.g. "{intent_key}") and what
        they stand for in this test, such as the key of an intent the test made."""
        text = json.dumps(load(name))
        for placeholder, value in (values or {}).items():
            text = text.replace(placeholder, value)
        self.recording = json.loads(text)
        self.pending: list[dict[str, Any]] = list(self.recording["exchanges"])
        self.sent: list[Sent] = []
        self.errors: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def do_DELETE(self) -> None:
                self._answer()

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                status, headers, answer = replay.answer(self.command, self.path,
                                                        dict(self.headers.items()), body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet tests

        return Handler

    def answer(self, method: str, target: str, headers: dict[str, str],
               body: str) -> tuple[int, dict[str, str], Any]:
        url = urlsplit(target)
        self.sent.append(Sent(method, url.path, dict(parse_qsl(url.query)),
                              {k.lower(): v for k, v in headers.items()},
                              dict(parse_qsl(body))))
        expected = self.pending[0]["request"] if self.pending else None
        if expected is None or (expected["method"], expected["path"]) != (method, url.path):
            error = f"unexpected {method} {url.path}; expected {expected}"
            self.errors.append(error)
            return 500, {}, {"error": {"type": "api_error", "message": error}}
        response = self.pending.pop(0)["response"]
        return int(response["status"]), dict(response.get("headers", {})), response["body"]

    def __enter__(self) -> StripeReplay:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
