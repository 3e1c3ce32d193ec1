"""aiosqlite's interface with every call made at once on the event loop's thread.

aiosqlite runs each call (a cursor, an execute, a fetch, a close: four per statement) on a thread of its own
and hands the result back through the event loop; each hand-over waits for the GIL, up to the interpreter's
switch interval (5 ms) when the loop is busy. A SQLite statement of ours takes microseconds, and with one
writer at a time in the process (``pm_platform.db.WriteLock``) none waits on a lock inside SQLite: run
inline, a statement costs what SQLite and SQLAlchemy cost, and nothing waits for the GIL.

SQLAlchemy's aiosqlite dialect takes the connection from ``async_creator``; this one is aiosqlite's own
``Connection`` with its hand-over replaced (``_execute``, and ``_tx``, which the dialect uses directly to
set the isolation level).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite


class _Inline:
    """Stands in for the worker thread's queue: runs the call at once and settles its future."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _Inline()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Any:
        return self._connect().__await__()

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


def creator(path: str, timeout: float) -> Callable[[], Any]:
    """``async_creator`` for ``create_async_engine``: a connection to the SQLite file ``path``."""

    async def connect() -> InlineConnection:
        return await InlineConnection(lambda: sqlite3.connect(path, timeout=timeout, check_same_thread=False))

    return connect
