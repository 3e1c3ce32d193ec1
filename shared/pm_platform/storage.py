"""Uploaded files (photos, plans, drawings, signed forms): one interface, kept under ``var/`` by default.

A service stores a file under a key it chooses (``<area>/<site>/<random>.<ext>``) and reads it back by that
key; the key is what its records keep. The type of a file is told by its first bytes, never by what the
client claims, and each upload is checked against the kinds and the size its use allows (``accept``).

Where the files are is the deployment's choice (``file_store``): under ``<var_dir>/<service>/<key>`` by default
(``LocalFileStore``), or objects ``<prefix><key>`` in an S3-compatible bucket when ``PM_FILES_S3_BUCKET`` is set
(``S3FileStore``; the prefix is ``<service>/`` unless configured). The same key reads the same file in both, so
moving a store is copying ``var/<service>/`` to ``s3://<bucket>/<service>/``.

    store = file_store(settings)
    kind = accept(content, allowed=IMAGES | {PDF}, max_bytes=10 * MB, field="file")
    key = new_key("decoration", site, kind)
    await store.put(key, content, kind.content_type)
    content, content_type = await store.get(key)
"""

from __future__ import annotations

import asyncio
import functools
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from pm_platform.errors import Invalid, NotFound, TooLarge
from pm_platform.settings import Settings

MB = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    content_type: str
    extension: str
    name: str = ""  # what people call it, in the problems that list the kinds allowed


PNG = FileKind("image/png", "png", "PNG")
JPEG = FileKind("image/jpeg", "jpg", "JPEG")
WEBP = FileKind("image/webp", "webp", "WebP")
PDF = FileKind("application/pdf", "pdf", "PDF")
IMAGES = frozenset({PNG, JPEG, WEBP})
KINDS = (PNG, JPEG, WEBP, PDF)  # the order a problem lists them in
KINDS_BY_EXTENSION = {kind.extension: kind for kind in KINDS}

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
        raise Invalid(f"the file must be a {describe(allowed)} (told by its content, not its name)", field=field)
    return kind


def describe(kinds: frozenset[FileKind]) -> str:
    """``PNG, JPEG or WebP``: the kinds in a fixed order, for people."""
    names = [kind.name or kind.extension.upper() for kind in KINDS if kind in kinds]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def new_key(area: str, site: str, kind: FileKind) -> str:
    """A fresh random key for a file of ``kind`` in ``area`` at ``site``."""
    return f"{area}/{site}/{uuid.uuid4().hex}.{kind.extension}"


def kind_of_key(key: str) -> FileKind:
    match = _KEY.fullmatch(key)  # not match: its `$` also matches before a final newline
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
    """Files under a directory (``<var_dir>/<service>`` by default), one per key."""

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
    # A temporary name of its own per write: two puts of one key never write into the same file.
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        temporary.write_bytes(content)
        temporary.replace(path)  # a reader never sees half a file
    finally:
        temporary.unlink(missing_ok=True)


class S3FileStore:
    """Files as objects in an S3-compatible bucket (AWS S3, MinIO, Ceph...), one per key, under ``prefix``.

    boto3 called in a worker thread rather than aiobotocore: a file is one request of at most a few MB, which
    ``asyncio.to_thread`` carries as well as an async client would (as LocalFileStore carries its disk I/O), and
    boto3 is AWS's own client, released in step with botocore, whereas aiobotocore pins botocore to a narrow
    range and adds aiohttp and its dependencies to the production image. One client serves every thread
    (botocore clients are thread-safe); it is made in the first call's thread, never on the event loop."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str = "",
        region: str = "us-east-1",
        access_key_id: str = "",
        secret_access_key: str = "",
        timeout_seconds: float = 10.0,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self._options: dict[str, Any] = {
            "region_name": region,
            "endpoint_url": endpoint_url or None,
            "aws_access_key_id": access_key_id or None,  # None: boto3's default chain
            "aws_secret_access_key": secret_access_key or None,
            "config": Config(
                connect_timeout=timeout_seconds,
                read_timeout=timeout_seconds,
                retries={"max_attempts": 3, "mode": "standard"},
                max_pool_connections=32,  # the default thread pool's size on a larger machine
                # Other S3-compatible stores are addressed by path (http://host/bucket/key), AWS by host.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                # Checksums only where S3 requires them: several S3-compatible stores refuse the newer ones.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        }
        self._client: Any = None
        self._lock = threading.Lock()

    def _s3(self) -> Any:
        with self._lock:
            if self._client is None:
                # A session of its own: boto3's default session is not safe to share between threads.
                self._client = boto3.session.Session().client("s3", **self._options)
            return self._client

    def _name(self, key: str) -> str:
        kind_of_key(key)  # refuses a key that is not one of ours
        return self.prefix + key

    async def put(self, key: str, content: bytes, content_type: str) -> None:
        name = self._name(key)
        await asyncio.to_thread(self._put, name, content, content_type)

    def _put(self, name: str, content: bytes, content_type: str) -> None:
        self._s3().put_object(Bucket=self.bucket, Key=name, Body=content, ContentType=content_type)

    async def get(self, key: str) -> tuple[bytes, str]:
        name = self._name(key)
        content = await asyncio.to_thread(self._get, name)
        if content is None:
            raise NotFound("file", key, field="key")
        return content, kind_of_key(key).content_type

    def _get(self, name: str) -> bytes | None:
        try:
            response = self._s3().get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        with response["Body"] as body:
            content: bytes = body.read()
        return content

    async def delete(self, key: str) -> None:
        name = self._name(key)
        await asyncio.to_thread(self._delete, name)

    def _delete(self, name: str) -> None:
        self._s3().delete_object(Bucket=self.bucket, Key=name)  # S3 answers 204 for a key it never had


def file_store(settings: Settings) -> FileStore:
    """The service's file store: objects in ``PM_FILES_S3_BUCKET`` when it is set, else files under
    ``<var_dir>/<service>``. Cheap to call per request: one S3 store (and client) per configuration."""
    if not settings.files_s3_bucket:
        return LocalFileStore(settings.var_dir / settings.service)
    return _s3_store(
        settings.files_s3_bucket,
        settings.files_s3_prefix.replace("{service}", settings.service),
        settings.files_s3_endpoint_url,
        settings.files_s3_region,
        settings.files_s3_access_key_id,
        settings.files_s3_secret_access_key,
        settings.files_s3_timeout_seconds,
    )


@functools.lru_cache(maxsize=32)
def _s3_store(
    bucket: str,
    prefix: str,
    endpoint_url: str,
    region: str,
    access_key_id: str,
    secret_access_key: str,
    timeout_seconds: float,
) -> S3FileStore:
    return S3FileStore(
        bucket,
        prefix=prefix,
        endpoint_url=endpoint_url,
        region=region,
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
        timeout_seconds=timeout_seconds,
    )
