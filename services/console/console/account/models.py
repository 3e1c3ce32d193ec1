"""Staff accounts and their sessions: the only rows the console keeps."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from console.database import Base
from pm_platform.auth import Role

SITE_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")  # intake's code pattern for a site


class StaffAccount(Base):
    __tablename__ = "staff_accounts"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # argon2id, with its parameters and salt in the encoded string (argon2-cffi's PasswordHasher).
    password_hash: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(JSON)
    sites: Mapped[list[str]] = mapped_column(JSON)
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Head office disables an account when a person leaves; the row stays for the record (who was who).
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Signed in through the OpenID Connect provider: no password here; roles and sites come from its token.
    federated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    # SHA-256 of the cookie's value: a copy of the database does not give away live sessions.
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("staff_accounts.username", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    # The token the services check, minted at sign-in and living exactly as long as the session.
    service_token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# Staff roles an account may hold: every role but the owner's (owners sign in at the portal with a code).
STAFF_ROLES = tuple(role for role in Role if role is not Role.owner)
# Roles that may look across every site ("*"): head office and operators, nobody at a desk.
ALL_SITES_ROLES = frozenset({Role.head_office, Role.operator})
MIN_PASSWORD_LENGTH = 12


class StaffAccountBase(BaseModel):
    """What head office sets on an account; the console's own rules, since the console owns its accounts."""

    display_name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)
    sites: list[str] = Field(min_length=1)
    department: str | None = Field(default=None, max_length=64)

    @field_validator("display_name")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a display name is needed")
        return value.strip()

    @field_validator("roles")
    @classmethod
    def _staff_roles(cls, value: list[Role]) -> list[Role]:
        if Role.owner in value:
            raise ValueError("owners sign in at the portal with a one-time code, not with a staff account")
        return list(dict.fromkeys(value))

    @field_validator("sites")
    @classmethod
    def _site_codes(cls, value: list[str]) -> list[str]:
        sites = list(dict.fromkeys(site.strip() for site in value if site.strip()))
        if not sites:
            raise ValueError("at least one site")
        for site in sites:
            if site != "*" and not SITE_CODE.fullmatch(site):
                raise ValueError(f"{site!r} is not a site code (letters, digits, - and _, at most 32)")
        return sites

    @model_validator(mode="after")
    def _consistent(self) -> StaffAccountBase:
        if "*" in self.sites and not set(self.roles) & ALL_SITES_ROLES:
            raise ValueError("every site (*) is for head office and operators only")
        if Role.worker in self.roles and not self.department:
            raise ValueError("a department worker needs a department")
        if Role.worker not in self.roles:
            self.department = self.department or None
        return self


class StaffAccountCreate(StaffAccountBase):
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)


class StaffAccountUpdate(StaffAccountBase):
    pass


class PasswordReset(BaseModel):
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)
