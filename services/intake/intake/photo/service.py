"""Storing and reading request photos: PNG, JPEG or WebP (told by their first bytes, not by what the client
claims), at most MAX_BYTES, one file per photo under ``<var_dir>/intake/photos/<site>/`` named by a random id."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

from pm_platform.auth import Principal
from pm_platform.errors import Invalid, NotFound, TooLarge

MAX_BYTES = 5 * 1024 * 1024
# The file signatures of the image types a photo may be, and the name's extension for each.
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")


def image_type(content: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a PNG, JPEG or WebP image by its signature, else None."""
    for signature, content_type, extension in _SIGNATURES:
        if content.startswith(signature):
            return content_type, extension
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def photo_dir(var_dir: Path, site: str) -> Path:
    return var_dir / "intake" / "photos" / site


async def store_photo(var_dir: Path, principal: Principal, site: str, content: bytes) -> tuple[str, str]:
    """Store one photo for a request at ``site``; (reference, content type)."""
    principal.check_site(site)
    if len(content) > MAX_BYTES:
        raise TooLarge(f"a photo may be at most {MAX_BYTES // (1024 * 1024)} MB", field="file")
    found = image_type(content)
    if found is None:
        raise Invalid("a photo must be a PNG, JPEG or WebP image", field="file")
    content_type, extension = found
    name = f"{uuid.uuid4().hex}.{extension}"
    directory = photo_dir(var_dir, site)
    await asyncio.to_thread(_write, directory, name, content)
    return f"{site}/{name}", content_type


def _write(directory: Path, name: str, content: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(content)


async def read_photo(var_dir: Path, principal: Principal, site: str, name: str) -> tuple[bytes, str]:
    """A stored photo's bytes and content type; the name is checked, so no path leaves the site's folder."""
    principal.check_site(site)
    match = _NAME.match(name)
    path = photo_dir(var_dir, site) / name
    if match is None or not await asyncio.to_thread(path.is_file):
        raise NotFound(f"photo {site}/{name} not found", field="name")
    return await asyncio.to_thread(path.read_bytes), _TYPES[match.group(1)]
