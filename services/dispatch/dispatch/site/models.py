"""What dispatch answers about a site it knows."""

from __future__ import annotations

from pydantic import BaseModel


class SiteRead(BaseModel):
    site: str
    timezone: str
    departments: list[str]
