"""intake.photo: photos of a request stored under the var dir, with type and size limits (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from intake.photo.service import MAX_BYTES, image_type
from pm_platform.problems import PROBLEM_JSON
from tests.s3 import s3_keys
from tests.services.intake.helpers import REPAIR, auth

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40  # the signature decides; NUL bytes are part of any real image
OWNER = {"roles": ("owner",), "subject": "harbour-A-0101-owner"}
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40


async def test_an_owner_stores_a_photo_and_a_request_keeps_its_reference(intake) -> None:
    runtime, client = intake
    stored = await client.post(
        "/photos",
        data={"site": "harbour"},
        files={"file": ("leak.png", PNG, "image/png")},
        headers=auth(runtime, **OWNER),
    )
    assert stored.status_code == 201, stored.text
    ref = stored.json()["ref"]
    assert ref.startswith("harbour/") and ref.endswith(".png")
    assert stored.json() | {"ref": None} == {"ref": None, "content_type": "image/png", "size": len(PNG)}
    assert (runtime.settings.var_dir / "intake" / "photos" / ref).read_bytes() == PNG

    created = await client.post("/requests", json={**REPAIR, "photos": [ref]}, headers=auth(runtime))
    assert created.status_code == 201 and created.json()["photos"] == [ref]
    fetched = await client.get(f"/photos/{ref}", headers=auth(runtime))
    assert fetched.status_code == 200 and fetched.content == PNG
    assert fetched.headers["content-type"] == "image/png"


async def test_photos_that_are_not_images_too_large_or_elsewhere_are_refused_as_problems(intake) -> None:
    runtime, client = intake
    agent = auth(runtime)

    async def upload(content: bytes, site: str = "harbour", headers: dict[str, str] | None = None) -> httpx.Response:
        files = {"file": ("x", content, "image/png")}
        return await client.post("/photos", data={"site": site}, files=files, headers=headers or agent)

    text = await upload(b"<svg onload=alert(1)>")  # what the client claims does not count, the content does
    assert text.status_code == 422 and text.headers["content-type"] == PROBLEM_JSON
    assert text.json()["field"] == "file" and "PNG, JPEG or WebP" in text.json()["detail"]
    large = await upload(PNG + b"\x00" * MAX_BYTES)
    assert large.status_code == 413 and large.json()["field"] == "file"
    elsewhere = await upload(PNG, site="riverside")
    assert elsewhere.status_code == 403 and elsewhere.json()["field"] == "site"
    worker = await upload(PNG, headers=auth(runtime, roles=("worker",), department="engineering"))
    assert worker.status_code == 403
    missing = await client.get("/photos/harbour/0123456789abcdef0123456789abcdef.png", headers=agent)
    assert missing.status_code == 404
    escape = await client.get("/photos/harbour/..%2F..%2Fintake.db", headers=agent)
    assert escape.status_code == 404
    other_site = await client.get("/photos/riverside/0123456789abcdef0123456789abcdef.png", headers=agent)
    assert other_site.status_code == 403


def test_the_image_type_is_told_by_the_first_bytes() -> None:
    assert image_type(PNG) == ("image/png", "png")
    assert image_type(b"\xff\xd8\xff\xe0rest") == ("image/jpeg", "jpg")
    assert image_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == ("image/webp", "webp")
    assert image_type(b"GIF89a") is None and image_type(b"") is None


@pytest.fixture
def intake_on_s3(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    s3_settings: dict[str, str],
    database_urls: dict[str, str],  # named, so that the test runs on each database as `intake` does
):
    """Intake configured as a deployment does it (PM_FILES_S3_*) to keep its files in a local S3 server's bucket."""
    for name, value in s3_settings.items():
        monkeypatch.setenv(f"PM_{name.upper()}", value)
    return request.getfixturevalue("intake")


async def test_photos_go_to_the_s3_store_when_one_is_configured(intake_on_s3, s3_settings: dict[str, str]) -> None:
    runtime, client = intake_on_s3
    stored = await client.post(
        "/photos",
        data={"site": "harbour"},
        files={"file": ("leak.jpg", JPEG, "image/jpeg")},
        headers=auth(runtime, **OWNER),
    )
    assert stored.status_code == 201, stored.text
    ref = stored.json()["ref"]
    assert ref.startswith("harbour/") and ref.endswith(".jpg")
    assert s3_keys(s3_settings) == [f"intake/photos/{ref}"]  # under intake's prefix in the bucket
    assert not (runtime.settings.var_dir / "intake").exists()  # and nothing on local disk

    fetched = await client.get(f"/photos/{ref}", headers=auth(runtime))
    assert fetched.status_code == 200 and fetched.content == JPEG
    assert fetched.headers["content-type"] == "image/jpeg"
    missing = await client.get("/photos/harbour/0123456789abcdef0123456789abcdef.png", headers=auth(runtime))
    assert missing.status_code == 404 and missing.json()["field"] == "name"
    text = await client.post(
        "/photos",
        data={"site": "harbour"},
        files={"file": ("x.png", b"not a photo", "image/png")},
        headers=auth(runtime),
    )
    assert text.status_code == 422 and text.json()["field"] == "file"
    assert s3_keys(s3_settings) == [f"intake/photos/{ref}"]


async def test_photos_an_earlier_version_stored_under_var_are_still_served(intake) -> None:
    runtime, client = intake
    name = "00112233445566778899aabbccddeeff.jpg"
    folder = runtime.settings.var_dir / "intake" / "photos" / "harbour"  # where photos were always written
    await asyncio.to_thread(folder.mkdir, parents=True)
    await asyncio.to_thread((folder / name).write_bytes, JPEG)
    fetched = await client.get(f"/photos/harbour/{name}", headers=auth(runtime))
    assert fetched.status_code == 200 and fetched.content == JPEG
    assert fetched.headers["content-type"] == "image/jpeg"
