"""A CSV file sent to an import route: the request body itself (``text/csv``) or the ``file`` of a multipart form,
at most ``max_bytes`` (413 beyond). One reader for every import, and the OpenAPI that documents both ways."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from pm_platform.problems import Problem

MAX_CSV_BYTES = 10 * 1024 * 1024
CSV_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
        }
    }
}


async def csv_upload(request: Request, max_bytes: int = MAX_CSV_BYTES) -> bytes:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Problem(422, "the form has no file", field="file")
        body = await upload.read(max_bytes + 1)
    else:
        body = await request.body()
    if len(body) > max_bytes:
        raise Problem(413, f"the file is larger than {max_bytes} bytes", field="file")
    return body
