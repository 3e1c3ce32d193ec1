"""Photos of a request: stored in intake's file store; a request keeps their references."""

from __future__ import annotations

from pydantic import BaseModel


class PhotoStored(BaseModel):
    ref: str  # what a request's `photos` holds: "<site>/<name>", read back at GET /photos/{site}/{name}
    content_type: str
    size: int
