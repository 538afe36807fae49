"""A real webhook receiver on localhost (http.server in a thread) that checks signatures
with `verify` and keeps every delivery, as a host application would."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from canone.integrations.webhooks import WebhookVerificationError, verify


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    error: str | None  # why verification failed; None for a genuine delivery


class WebhookReceiver:
    def __init__(self, secret: str, port: int = 0) -> None:
        self.secret = secret
        self.deliveries: list[Delivery] = []
        self.status = 204  # what a genuine delivery gets back
        self.hold = threading.Event()  # cleared: requests wait until it is set (timeouts)
        self.hold.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                try:
                    verify(receiver.secret, headers, body)
                    error = None
                except WebhookVerificationError as refused:
                    error = str(refused)
                receiver.deliveries.append(Delivery(self.path, headers, body, error))
                receiver.hold.wait()
                self.send_response(400 if error else receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet tests

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/canone"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def genuine(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.error is None]

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()
