"""pm_platform.storage: one behaviour suite for the file store on local files AND in a real S3 server (moto's,
in a process of its own), the upload checks at the edge, and unit tests of the pure rules."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from botocore.exceptions import ClientError
from fastapi import FastAPI, File, Response, UploadFile
from pydantic import ValidationError

from pm_platform.errors import Invalid, NotFound, TooLarge
from pm_platform.problems import PROBLEM_JSON, install_problem_handlers
from pm_platform.settings import Settings
from pm_platform.storage import (
    IMAGES,
    JPEG,
    KINDS,
    PDF,
    PNG,
    WEBP,
    FileStore,
    LocalFileStore,
    S3FileStore,
    accept,
    describe,
    file_store,
    kind_of_key,
    new_key,
    sniff,
)
from tests.s3 import s3_client, s3_keys

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # every byte value, NUL included
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256))
WEBP_BYTES = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(32)
PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
# Keys that could leave the store's root or are not ours: each is refused before anything is read or written.
BAD_KEYS = (
    "../outside.png",
    "/etc/outside.png",
    "plans/../../outside.png",
    "plans/harbour/../../../outside.png",
    "plans\\..\\..\\outside.png",
    "plans/harbour/%2e%2e/outside.png",
    "plans//outside.png",
    "outside.png",
    "plans/harbour/plan.exe",
    "plans/harbour/plan.png\n",
    "plans/harbour/.png",
    "plans/harbour/plan.PNG",
    "",
)


@pytest.fixture(params=["local", "s3"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """A service's settings with its file store on local files or in a fresh bucket of the local S3 server."""
    s3 = request.getfixturevalue("s3_settings") if request.param == "s3" else {}
    return Settings(service="probe", var_dir=tmp_path / "var", **s3)


@pytest.fixture
def store(settings: Settings) -> FileStore:
    return file_store(settings)


def stored(settings: Settings) -> list[str]:
    """Everything the store holds, as ``<service>/<key>`` (a local file under var/, an object in the bucket)."""
    return s3_keys(settings.model_dump()) if settings.files_s3_bucket else files_under(settings.var_dir)


def files_under(directory: Path) -> list[str]:
    return sorted(path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file())


async def test_a_file_put_is_got_back_whole_replaced_and_gone_once_deleted(
    settings: Settings, store: FileStore
) -> None:
    key = new_key("plans", "harbour", PDF)
    await store.put(key, PDF_BYTES, PDF.content_type)
    assert await store.get(key) == (PDF_BYTES, "application/pdf")
    assert stored(settings) == [f"probe/{key}"]  # under the service's own folder or prefix

    await store.put(key, PDF_BYTES + b"% revised\n", PDF.content_type)
    assert await store.get(key) == (PDF_BYTES + b"% revised\n", "application/pdf")
    assert stored(settings) == [f"probe/{key}"]

    await store.delete(key)
    with pytest.raises(NotFound) as missing:
        await store.get(key)
    assert missing.value.field == "key" and key in missing.value.detail
    await store.delete(key)  # deleting what is not there is no error
    assert stored(settings) == []


async def test_a_key_never_stored_is_not_found(store: FileStore) -> None:
    with pytest.raises(NotFound):
        await store.get(new_key("photos", "harbour", JPEG))


async def test_keys_that_would_leave_the_root_or_are_not_ours_are_refused(
    settings: Settings, store: FileStore, tmp_path: Path
) -> None:
    for key in BAD_KEYS:
        with pytest.raises(NotFound):
            await store.put(key, PNG_BYTES, PNG.content_type)
        with pytest.raises(NotFound):
            await store.get(key)
        with pytest.raises(NotFound):
            await store.delete(key)
    assert stored(settings) == []
    assert files_under(tmp_path) == []  # nothing written anywhere


async def test_concurrent_puts_each_land_whole(settings: Settings, store: FileStore) -> None:
    keys = [new_key("photos", "harbour", PNG) for _ in range(24)]
    contents = [PNG_BYTES + index.to_bytes(2, "big") * 2000 for index in range(24)]
    await asyncio.gather(
        *(store.put(key, content, PNG.content_type) for key, content in zip(keys, contents, strict=True))
    )
    found = await asyncio.gather(*(store.get(key) for key in keys))
    assert [content for content, _ in found] == contents

    # Writers racing on one key: whichever wins, a reader gets one of the files whole, never a mix.
    versions = [PNG_BYTES + bytes([index]) * 200_000 for index in range(8)]
    await asyncio.gather(*(store.put(keys[0], version, PNG.content_type) for version in versions))
    content, _ = await store.get(keys[0])
    assert content in versions
    assert stored(settings) == sorted(f"probe/{key}" for key in keys)  # no temporary file left behind


async def test_s3_objects_carry_their_content_type_and_a_missing_bucket_is_no_missing_file(
    s3_settings: dict[str, str],
) -> None:
    store = file_store(Settings(service="probe", **s3_settings))
    key = new_key("photos", "harbour", WEBP)
    await store.put(key, WEBP_BYTES, WEBP.content_type)
    head = s3_client(s3_settings["files_s3_endpoint_url"]).head_object(
        Bucket=s3_settings["files_s3_bucket"], Key=f"probe/{key}"
    )
    assert head["ContentType"] == "image/webp" and head["ContentLength"] == len(WEBP_BYTES)

    # A misconfigured store fails loudly (a 500 at the edge), it does not pretend the file is gone.
    elsewhere = file_store(Settings(service="probe", **{**s3_settings, "files_s3_bucket": "pm-no-such-bucket"}))
    with pytest.raises(ClientError):
        await elsewhere.get(key)


MAX_PLAN = 64 * 1024


def plans_app(store: FileStore) -> FastAPI:
    """A route taking and serving plans as a service's does (``accept``, ``new_key``, the store)."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/plans", status_code=201)
    async def post_plan(plan: Annotated[UploadFile, File()]) -> dict[str, str]:
        content = await plan.read(MAX_PLAN + 1)
        kind = accept(content, allowed=IMAGES | {PDF}, max_bytes=MAX_PLAN, field="plan")
        key = new_key("plans", "harbour", kind)
        await store.put(key, content, kind.content_type)
        return {"key": key}

    @app.get("/plans/{key:path}")
    async def get_plan(key: str) -> Response:
        content, content_type = await store.get(key)
        return Response(content, media_type=content_type)

    return app


async def test_uploads_are_told_by_their_bytes_and_refused_as_problems_naming_the_field(
    settings: Settings, store: FileStore
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=plans_app(store)), base_url="http://t") as client:

        async def upload(name: str, content: bytes, claimed: str) -> httpx.Response:
            return await client.post("/plans", files={"plan": (name, content, claimed)})

        pdf = await upload("plan.bin", PDF_BYTES, "application/octet-stream")  # the name and the claim do not count
        assert pdf.status_code == 201, pdf.text
        assert pdf.json()["key"].endswith(".pdf")
        served = await client.get(f"/plans/{pdf.json()['key']}")
        assert served.content == PDF_BYTES and served.headers["content-type"] == "application/pdf"
        photo = await upload("drawing.pdf", JPEG_BYTES, "application/pdf")
        assert photo.status_code == 201 and photo.json()["key"].endswith(".jpg")
        exactly = await upload("plan.pdf", PDF_BYTES + b"\n" * (MAX_PLAN - len(PDF_BYTES)), "application/pdf")
        assert exactly.status_code == 201
        before = stored(settings)

        renamed = await upload("plan.pdf", b"just some text, renamed to .pdf\n", "application/pdf")
        assert renamed.status_code == 422 and renamed.headers["content-type"] == PROBLEM_JSON
        assert renamed.json()["field"] == "plan" and "PNG, JPEG, WebP or PDF" in renamed.json()["detail"]
        too_large = await upload("plan.pdf", PDF_BYTES + b"\n" * (MAX_PLAN + 1 - len(PDF_BYTES)), "application/pdf")
        assert too_large.status_code == 413 and too_large.headers["content-type"] == PROBLEM_JSON
        assert too_large.json()["field"] == "plan" and "at most 65536 bytes" in too_large.json()["detail"]
        empty = await upload("plan.pdf", b"", "application/pdf")
        assert empty.status_code == 422 and empty.json()["field"] == "plan"
        assert stored(settings) == before  # a refused upload stores nothing

        escape = await client.get("/plans/../../etc/outside.png")
        assert escape.status_code == 404
        traversal = await client.get("/plans/plans/..%2F..%2Foutside.png")
        assert traversal.status_code == 404 and traversal.headers["content-type"] == PROBLEM_JSON


# Pure rules.


@pytest.mark.unit
def test_kinds_are_told_by_their_signature() -> None:
    assert sniff(PNG_BYTES) == PNG and sniff(JPEG_BYTES) == JPEG and sniff(WEBP_BYTES) == WEBP
    assert sniff(PDF_BYTES) == PDF
    assert sniff(b"GIF89a") is None and sniff(b"") is None and sniff(b"<svg onload=alert(1)>") is None
    assert sniff(b"\x89PNG\r\n") is None  # a truncated signature is no PNG
    assert sniff(b"RIFF\x24\x00\x00\x00WAVEfmt ") is None  # RIFF, but a sound
    assert sniff(b" %PDF-1.7") is None  # the signature is at the start or nowhere


@pytest.mark.unit
def test_accept_takes_the_kinds_and_size_allowed_and_names_the_field_otherwise() -> None:
    assert accept(PNG_BYTES, allowed=IMAGES, max_bytes=len(PNG_BYTES), field="photo") == PNG
    with pytest.raises(TooLarge) as large:
        accept(PNG_BYTES, allowed=IMAGES, max_bytes=len(PNG_BYTES) - 1, field="photo")
    assert large.value.field == "photo" and large.value.status == 413
    with pytest.raises(Invalid) as pdf:
        accept(PDF_BYTES, allowed=IMAGES, max_bytes=10**6, field="photo")
    assert pdf.value.field == "photo" and pdf.value.status == 422
    assert "PNG, JPEG or WebP" in pdf.value.detail
    with pytest.raises(Invalid) as text:
        accept(b"hello", allowed=frozenset({PDF}), max_bytes=10**6, field="form")
    assert text.value.field == "form" and "must be a PDF" in text.value.detail
    with pytest.raises(Invalid, match="empty"):
        accept(b"", allowed=IMAGES, max_bytes=10**6)


@pytest.mark.unit
def test_kinds_are_listed_in_a_fixed_order_for_people() -> None:
    assert describe(IMAGES) == "PNG, JPEG or WebP"
    assert describe(IMAGES | {PDF}) == "PNG, JPEG, WebP or PDF"
    assert describe(frozenset({PDF})) == "PDF"
    assert set(KINDS) == IMAGES | {PDF}


@pytest.mark.unit
def test_new_keys_are_keys_of_their_kind_and_others_are_refused() -> None:
    for kind in KINDS:
        key = new_key("decoration", "harbour", kind)
        assert key.startswith("decoration/harbour/") and kind_of_key(key) == kind
    assert new_key("photos", "harbour", PNG) != new_key("photos", "harbour", PNG)
    for key in BAD_KEYS:
        with pytest.raises(NotFound):
            kind_of_key(key)


@pytest.mark.unit
def test_the_store_is_chosen_by_settings(tmp_path: Path) -> None:
    local = file_store(Settings(service="intake", var_dir=tmp_path))
    assert isinstance(local, LocalFileStore) and local.root == tmp_path / "intake"

    s3 = {"files_s3_bucket": "pm-files", "files_s3_endpoint_url": "http://127.0.0.1:9000"}
    store = file_store(Settings(service="intake", **s3))
    assert isinstance(store, S3FileStore) and store.bucket == "pm-files" and store.prefix == "intake/"
    assert file_store(Settings(service="intake", **s3)) is store  # one client per configuration, not per call
    assert file_store(Settings(service="billing", **s3)).prefix == "billing/"
    shared = file_store(Settings(service="intake", files_s3_prefix="pm/{service}", **s3))
    assert isinstance(shared, S3FileStore) and shared.prefix == "pm/intake/"
    flat = file_store(Settings(service="intake", files_s3_prefix="", **s3))
    assert isinstance(flat, S3FileStore) and flat.prefix == ""


@pytest.mark.unit
def test_half_a_file_store_configuration_is_refused() -> None:
    with pytest.raises(ValidationError, match="PM_FILES_S3_ACCESS_KEY_ID"):
        Settings(files_s3_bucket="pm-files", files_s3_access_key_id="AKIA")
    with pytest.raises(ValidationError, match="PM_FILES_S3_ACCESS_KEY_ID"):
        Settings(files_s3_bucket="pm-files", files_s3_secret_access_key="s3cr3t")
    with pytest.raises(ValidationError, match="PM_FILES_S3_BUCKET"):
        Settings(files_s3_endpoint_url="http://127.0.0.1:9000")
