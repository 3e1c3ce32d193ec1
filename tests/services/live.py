"""A service app served by a real uvicorn on a free port, in a thread with its own event loop.

Migrated and seeded, not started (no NATS): what the HTTP layer answers, over real HTTP connections
(keep-alive included), with the database engine used only from the server's loop.
"""

from __future__ import annotations

import asyncio
import importlib
import socket
import threading
from pathlib import Path
from types import TracebackType

import uvicorn

from pm_platform import migrations
from pm_platform.auth import mint_token
from pm_platform.runtime import Runtime
from pm_platform.settings import Settings

SERVICES = ("intake", "dispatch", "billing", "survey", "notification")
# Every role that widens what a caller may do (no worker or owner: those narrow the view), on every site.
BROAD_ROLES = ["agent", "supervisor", "manager", "head_office", "billing_clerk", "operator"]


def build_runtime(service: str, database_url: str, var_dir: Path) -> Runtime:
    database = importlib.import_module(f"{service}.database")
    main = importlib.import_module(f"{service}.main")
    settings = Settings(service=service, var_dir=var_dir, database_url=database_url, nats_url="nats://127.0.0.1:1")
    migrations.upgrade(service, settings)
    return Runtime(settings, database.Base.metadata, database.platform_tables, main.subscriptions)


class LiveService:
    def __init__(self, service: str, database_url: str, var_dir: Path) -> None:
        self.service = service
        self.runtime = build_runtime(service, database_url, var_dir)
        self.app = importlib.import_module(f"{service}.main").create(self.runtime)
        self._seed = importlib.import_module(f"{service}.seed").seed
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(self.app, lifespan="off", log_level="warning"))
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"live-{service}", daemon=True)

    def token(self, roles: list[str] | None = None, sites: list[str] | None = None) -> str:
        return mint_token(self.runtime.settings, "fuzz.operator", roles or BROAD_ROLES, sites or ["*"])

    def headers(self) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.token()}

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._seed(self.runtime))
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_until_complete(self._server.serve(sockets=[self._socket]))
        finally:
            loop.run_until_complete(self.runtime.engine.dispose())
            loop.close()

    def __enter__(self) -> LiveService:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        while not self._server.started and self._thread.is_alive():
            self._thread.join(0.01)  # waits on the server's own flag
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.should_exit = True
        self._thread.join()
        self._socket.close()
