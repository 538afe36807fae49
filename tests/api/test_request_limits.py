"""Request bodies: the API key is checked before a body is read, and a body over the limit
(`CANONE_MAX_BODY_BYTES`, 1 MiB by default) is refused with 413 problem details, whether
announced by Content-Length or sent in chunks."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from canone.services.context import Services
from canone.settings import Settings
from canone.web.app import create_app
from integrations.smtp_server import free_port

from .conftest import API, bearer, signup_body

LIMIT = 4096


@pytest.fixture
def small_app(settings: Settings, services: Services) -> FastAPI:
    return create_app(replace(settings, max_body_bytes=LIMIT), services)


@pytest.fixture
def small(small_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(small_app, raise_server_exceptions=False) as client:
        yield client


def padded_signup(size: int) -> bytes:
    body = signup_body()
    body["name"] = "Acme"
    raw = json.dumps(body).encode()
    return raw[:-1] + b', "padding": "' + b"x" * (size - len(raw) - 15) + b'"}'


def test_the_default_limit_is_one_mebibyte_and_is_a_setting() -> None:
    assert Settings.from_env({}).max_body_bytes == 1_048_576
    assert Settings.from_env({"CANONE_MAX_BODY_BYTES": "2048"}).max_body_bytes == 2048
    with pytest.raises(ValueError, match="CANONE_MAX_BODY_BYTES must be a whole number of "
                                         "bytes, such as 1048576; not '1MB'"):
        Settings.from_env({"CANONE_MAX_BODY_BYTES": "1MB"})


def test_an_unauthenticated_large_post_gets_401(small: TestClient) -> None:
    answer = small.post(f"{API}/accounts", content=b"x" * (LIMIT * 4),
                        headers={"content-type": "application/json"})

    assert answer.status_code == 401
    assert answer.json()["type"] == "urn:canone:problem:unauthorized"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_an_authenticated_post_over_the_limit_gets_413_and_changes_nothing(
        small: TestClient, operator_key: str) -> None:
    body = padded_signup(LIMIT + 1)
    assert len(body) == LIMIT + 1

    answer = small.post(f"{API}/accounts", content=body, headers={
        **bearer(operator_key), "content-type": "application/json"})

    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {"type": "urn:canone:problem:body_too_large",
                             "title": "Request body too large", "status": 413,
                             "detail": f"The request body is larger than {LIMIT} bytes."}
    assert small.get(f"{API}/accounts", headers=bearer(operator_key)).json()["data"] == []


def chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


def test_a_chunked_body_over_the_limit_gets_413(small: TestClient, operator_key: str) -> None:
    answer = small.post(f"{API}/accounts", content=chunks(padded_signup(LIMIT + 1)),
                        headers={**bearer(operator_key), "content-type": "application/json"})

    assert answer.status_code == 413
    assert answer.json()["detail"] == f"The request body is larger than {LIMIT} bytes."


def test_a_chunked_body_within_the_limit_is_served(small: TestClient, operator_key: str) -> None:
    body = json.dumps(signup_body()).encode()

    answer = small.post(f"{API}/accounts", content=chunks(body, 100),
                        headers={**bearer(operator_key), "content-type": "application/json"})

    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == "Acme"


def test_a_page_form_over_the_limit_gets_413(small: TestClient) -> None:
    answer = small.post("/login", data={"email": "ada@example.com", "password": "x" * LIMIT})

    assert answer.status_code == 413


# -- on a real server: the body is never read ----------------------------------------------


@pytest.fixture
def server_port(small_app: FastAPI) -> Iterator[int]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(small_app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def answer_without_sending_the_body(port: int, headers: str) -> str:
    """Send only the head of a 100 MB POST and read what comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall((f"POST {API}/accounts HTTP/1.1\r\nHost: localhost\r\n"
                      f"Content-Type: application/json\r\nContent-Length: 100000000\r\n"
                      f"{headers}\r\n").encode())
        return sock.recv(65536).decode()


def test_a_real_server_answers_401_then_413_without_reading_the_body(
        server_port: int, operator_key: str) -> None:
    unauthenticated = answer_without_sending_the_body(server_port, "")
    oversized = answer_without_sending_the_body(
        server_port, f"Authorization: Bearer {operator_key}\r\n")

    assert unauthenticated.startswith("HTTP/1.1 401 ")
    assert '"type":"urn:canone:problem:unauthorized"' in unauthenticated
    assert oversized.startswith("HTTP/1.1 413 ")
    assert '"type":"urn:canone:problem:body_too_large"' in oversized


def test_a_content_length_that_is_not_a_number_is_a_400(small: TestClient,
                                                         operator_key: str) -> None:
    answer = small.post(f"{API}/accounts", content=b"{}", headers={
        **bearer(operator_key), "content-type": "application/json", "content-length": "lots"})

    assert answer.status_code == 400
    assert answer.json()["detail"] == "Content-Length is not a number."
