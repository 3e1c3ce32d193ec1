"""Administrators' overrides of the built-in texts: per site, or group-wide (site ``*``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from notification.database import Base
from pm_platform.db import UtcDateTime
from pm_platform.envelope import optional_utc

GROUP = "*"  # the site value of a group-wide override


class Template(Base):
    __tablename__ = "templates"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Why the stored text cannot render (it was saved before the check, or failed at send time): while set,
    # the text is skipped and messages use the group's or the built-in text. Saving the text again clears it.
    problem: Mapped[str | None] = mapped_column(Text)
    problem_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class TemplateWrite(BaseModel):
    """A text in the template language: ``{{ ref }}`` prints a variable, ``{{ reason|default('-') }}`` and a
    few more filters, ``{% if reason %}...{% endif %}``; the older ``{ref}`` is accepted and stored as
    ``{{ ref }}``. It is tried on the contract examples of the events that use the template before it is
    saved."""

    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=2000)
    subject: str | None = Field(default=None, max_length=200, description="Email subject line")


class TemplateRead(BaseModel):
    key: str
    language: str
    site: str = Field(description="The site the text applies to, * for the whole group")
    source: str = Field(description="default (built in), group (a group-wide override) or site")
    subject: str
    body: str
    variables: list[str]
    updated_by: str | None = None
    updated_at: Annotated[datetime | None, AfterValidator(optional_utc)] = None
    problem: str | None = Field(
        default=None,
        description="Why the stored text cannot render; until it is "
        "saved again, messages use the group's or the built-in text",
    )
    problem_at: Annotated[datetime | None, AfterValidator(optional_utc)] = None
