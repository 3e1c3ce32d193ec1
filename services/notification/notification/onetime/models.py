"""One-time sign-in codes: the console's request to text a code to an owner's phone, and the answer."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class OneTimeCodeSend(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The site of the owner the code is for.")
    phone: str = Field(pattern=r"^\+?[0-9]{5,20}$", description="The phone number the code goes to, digits only.")
    code: str = Field(pattern=r"^[0-9]{4,8}$", description="The code itself; the console keeps only its hash.")
    language: str = Field(default="zh-CN", pattern=r"^(zh-CN|en)$")
    party_id: str | None = Field(default=None, max_length=64, description="The owner's party, for the log.")


class OneTimeCodeSent(BaseModel):
    message_id: str
    status: str  # sent or delivered; a failed send answers 502 instead
