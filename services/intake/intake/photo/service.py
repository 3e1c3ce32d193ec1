"""Storing and reading request photos: PNG, JPEG or WebP (told by their first bytes, not by what the client
claims), at most MAX_BYTES, one file per photo in intake's file store (``pm_platform.storage``) under the key
``photos/<site>/<random>.<ext>``. A request keeps the reference ``<site>/<random>.<ext>``.

On the local store that key is the file ``<var_dir>/intake/photos/<site>/<name>``, where photos have always
been kept, so an existing install's photos are served as they are; to move them into a bucket, copy
``var/intake/photos/`` to ``s3://<bucket>/<prefix>photos/`` (README, Configuration)."""

from __future__ import annotations

import re

from pm_platform.auth import Principal
from pm_platform.errors import NotFound
from pm_platform.storage import IMAGES, MB, FileStore, accept, new_key, sniff

AREA = "photos"
MAX_BYTES = 5 * MB
_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")


def image_type(content: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a PNG, JPEG or WebP image by its signature, else None."""
    kind = sniff(content)
    if kind is None or kind not in IMAGES:
        return None
    return kind.content_type, kind.extension


async def store_photo(store: FileStore, principal: Principal, site: str, content: bytes) -> tuple[str, str]:
    """Store one photo for a request at ``site``; (reference, content type)."""
    principal.check_site(site)
    kind = accept(content, allowed=IMAGES, max_bytes=MAX_BYTES, field="file")
    key = new_key(AREA, site, kind)
    await store.put(key, content, kind.content_type)
    return key.removeprefix(f"{AREA}/"), kind.content_type


async def read_photo(store: FileStore, principal: Principal, site: str, name: str) -> tuple[bytes, str]:
    """A stored photo's bytes and content type; the name is checked, so no key leaves the site's photos."""
    principal.check_site(site)
    try:
        if _NAME.fullmatch(name) is None:
            raise NotFound("not a photo's name")
        return await store.get(f"{AREA}/{site}/{name}")
    except NotFound:
        raise NotFound(f"photo {site}/{name} not found", field="name") from None
