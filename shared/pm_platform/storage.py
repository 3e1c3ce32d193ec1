"""Uploaded files (photos, plans, drawings, signed forms): one interface, kept under ``var/`` by default.

A service stores a file under a key it chooses (``<area>/<site>/<random>.<ext>``) and reads it back by that
key; the key is what its records keep. The type of a file is told by its first bytes, never by what the
client claims, and each upload is checked against the kinds and the size its use allows (``accept``).

    store = file_store(settings)
    kind = accept(content, allowed=IMAGES | {PDF}, max_bytes=10 * MB, field="file")
    key = new_key("decoration", site, kind)
    await store.put(key, content, kind.content_type)
    content, content_type = await store.get(key)
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pm_platform.errors import Invalid, NotFound, TooLarge
from pm_platform.settings import Settings

MB = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extension: str


PNG = FileKind("image/png", "png")
JPEG = FileKind("image/jpeg", "jpg")
WEBP = FileKind("image/webp", "webp")
PDF = FileKind("application/pdf", "pdf")
IMAGES = frozenset({PNG, JPEG, WEBP})
KINDS_BY_EXTENSION = {kind.extension: kind for kind in (PNG, JPEG, WEBP, PDF)}

# A key: path segments of letters, digits, '_' and '-', then a file name with one of our extensions; no '..',
# no leading '/', so a key never leaves the store's root.
_KEY = re.compile(r"^(?:[A-Za-z0-9_-]{1,64}/){1,4}[A-Za-z0-9_-]{1,64}\.(png|jpg|webp|pdf)$")


def sniff(content: bytes) -> FileKind | None:
    """The kind of a PNG, JPEG, WebP image or a PDF by its signature, else None."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return WEBP
    if content.startswith(b"%PDF-"):
        return PDF
    return None


def accept(content: bytes, *, allowed: frozenset[FileKind], max_bytes: int, field: str = "file") -> FileKind:
    """The upload's kind when it is one of ``allowed`` and at most ``max_bytes``; else 413 or 422 naming ``field``.

    Read one byte more than ``max_bytes`` from the client, so an oversized file is told apart."""
    if len(content) > max_bytes:
        raise TooLarge(f"a file may be at most {_size(max_bytes)}", field=field)
    if not content:
        raise Invalid("the file is empty", field=field)
    kind = sniff(content)
    if kind is None or kind not in allowed:
        names = ", ".join(sorted(k.extension.upper() for k in allowed))
        raise Invalid(f"the file must be one of: {names}", field=field)
    return kind


def new_key(area: str, site: str, kind: FileKind) -> str:
    """A fresh random key for a file of ``kind`` in ``area`` at ``site``."""
    return f"{area}/{site}/{uuid.uuid4().hex}.{kind.extension}"


def kind_of_key(key: str) -> FileKind:
    match = _KEY.match(key)
    if match is None:
        raise NotFound("file", key, field="key")
    return KINDS_BY_EXTENSION[match.group(1)]


def _size(max_bytes: int) -> str:
    return f"{max_bytes // MB} MB" if max_bytes >= MB else f"{max_bytes} bytes"


class FileStore(Protocol):
    async def put(self, key: str, content: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> tuple[bytes, str]:
        """The file's bytes and content type; NotFound when there is none under ``key``."""
        ...

    async def delete(self, key: str) -> None: ...


class LocalFileStore:
    """Files under a directory (``<var_dir>/files`` by default), one per key."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        kind_of_key(key)  # refuses a key that could leave the root
        return self.root / key

    async def put(self, key: str, content: bytes, content_type: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(_write, path, content)

    async def get(self, key: str) -> tuple[bytes, str]:
        path = self._path(key)
        try:
            content = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise NotFound("file", key, field="key") from None
        return content, kind_of_key(key).content_type

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(path.unlink, True)


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".part")
    temporary.write_bytes(content)
    temporary.replace(path)  # a reader never sees half a file


def file_store(settings: Settings) -> FileStore:
    """The service's file store: under ``<var_dir>/files/<service>`` on the embedded default."""
    return LocalFileStore(settings.var_dir / "files" / settings.service)
