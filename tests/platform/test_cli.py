"""``pm``: one-line errors and exit codes instead of tracebacks, ``--service`` choices, help without a
doubled command list. Run in process with typer's CliRunner against a local HTTP server."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner, Result

from pm_platform import cli

SERVICES = ["intake", "dispatch", "billing", "survey", "notification"]
# Wide and plain, so rich's help panels do not wrap or colour what the assertions read.
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def invoke(*args: str, **env: str) -> Result:
    return CliRunner().invoke(cli.app, list(args), env=ENV | env)


def assert_one_line_error(result: Result, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pm: "), result.stderr
    return lines[0]


class _Service(BaseHTTPRequestHandler):
    status: ClassVar[int] = 200
    body: ClassVar[Any] = []
    requests: ClassVar[list[tuple[str, str, str]]] = []

    def _answer(self) -> None:
        type(self).requests.append((self.command, self.path, self.headers.get("Authorization", "")))
        payload = json.dumps(type(self).body).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/problem+json" if type(self).status >= 400 else "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def service() -> Iterator[tuple[str, type[_Service]]]:
    handler = type("Service", (_Service,), {"status": 200, "body": [], "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_help_lists_each_command_once() -> None:
    result = invoke("--help")
    assert result.exit_code == 0, result.output
    commands = ["token", "provision", "dead-letters", "watch", "trace", "run", "settings"]
    for command in commands:
        # A line naming a command first ("token  Mint ..." in the panel, "pm token  mint ..." in a docstring).
        rows = [
            line
            for line in result.output.splitlines()
            if re.match(rf"^[\W]*(pm )?{re.escape(command)}\s", line.strip("│ ").strip())
        ]
        assert len(rows) == 1, (command, rows)


@pytest.mark.parametrize("command", [["list"], ["replay", "7"]])
def test_service_option_shows_its_choices(command: list[str]) -> None:
    result = invoke("dead-letters", *command, "--help")
    assert result.exit_code == 0, result.output
    assert "|".join(SERVICES) in result.output


def test_unknown_service_is_a_usage_error_naming_the_choices() -> None:
    result = invoke("dead-letters", "list", "--service", "plumbing")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "plumbing" in result.output
    for name in SERVICES:
        assert name in result.output


def test_dead_letters_list_talks_to_the_service(service: tuple[str, type[_Service]]) -> None:
    url, handler = service
    handler.body = [
        {
            "id": 7,
            "created_at": "2026-12-01T03:00:00+00:00",
            "consumer": "dispatch-from-intake",
            "kind": "contract",
            "subject": "intake.request.created.v1.harbour",
            "reason": "data: bad",
        },
        {
            "id": 8,
            "created_at": "2026-12-01T03:05:00+00:00",
            "consumer": "dispatch-from-intake",
            "stream": "INTAKE",
            "stream_sequence": 42,
            "deliveries": 20,
            "kind": "max_deliveries",
            "subject": "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.INTAKE.dispatch-from-intake",
            "reason": "server advisory: max deliveries reached",
        },
    ]
    result = invoke("dead-letters", "list", "--service", "dispatch", "--url", url)
    assert result.exit_code == 0, result.output
    assert "dispatch-from-intake" in result.output and "data: bad" in result.output
    assert "max_deliveries" in result.output
    assert "INTAKE #42, 20 deliveries: server advisory: max deliveries reached" in result.output
    [(method, path, authorization)] = handler.requests
    assert (method, path) == ("GET", "/admin/dead-letters?status=open")
    assert authorization.startswith("Bearer ")


@pytest.mark.parametrize("command", [["list"], ["replay", "7"]])
def test_service_down_is_one_line(command: list[str]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = invoke("dead-letters", *command, "--service", "billing", "--url", url)
    line = assert_one_line_error(result, cli.EXIT_UNREACHABLE)
    assert f"cannot reach billing at {url}" in line


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("command", [["list"], ["replay", "7"]])
def test_refused_token_is_one_line(service: tuple[str, type[_Service]], status: int, command: list[str]) -> None:
    url, handler = service
    handler.status = status
    handler.body = {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": status,
        "detail": "invalid bearer token: Signature verification failed",
    }
    result = invoke("dead-letters", *command, "--service", "survey", "--url", url)
    line = assert_one_line_error(result, cli.EXIT_REFUSED)
    assert f"survey refused the token ({status} invalid bearer token: Signature verification failed)" in line
    assert "PM_JWT_SECRET" in line


def test_other_failures_exit_1_without_a_traceback(service: tuple[str, type[_Service]]) -> None:
    url, handler = service
    handler.status = 500
    handler.body = {"title": "Internal Server Error", "status": 500}
    result = invoke("dead-letters", "list", "--service", "intake", "--url", url)
    line = assert_one_line_error(result, cli.EXIT_FAILED)
    assert "intake answered 500: Internal Server Error" in line


@pytest.mark.parametrize("command", [["provision"], ["watch", "--site", "harbour", "--department", "cleaning"]])
def test_nats_down_is_one_line(monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    monkeypatch.setattr(cli, "NATS_CONNECT_SECONDS", 1.0)
    url = f"nats://127.0.0.1:{closed_port()}"
    result = invoke(*command, "--nats-url", url)
    line = assert_one_line_error(result, cli.EXIT_UNREACHABLE)
    assert f"cannot reach NATS at {url}" in line


def test_invalid_settings_are_one_line_and_do_not_echo_the_secret() -> None:
    result = invoke("token", PM_JWT_SECRET="short-secret")
    line = assert_one_line_error(result, cli.EXIT_USAGE)
    assert "PM_JWT_SECRET must be at least 32 bytes" in line
    assert "short-secret" not in result.output
