"""Satisfaction surveys (业主满意度调查) and opinion forms: a questionnaire for a site or some of its
buildings, a sample of households, one invitation per invited party, their answers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pm_platform.db import BigId, UtcDateTime
from pm_platform.envelope import InputDatetime, UtcDatetime
from survey.database import Base

# A scale question is 1 (very dissatisfied) .. 5 (very satisfied): 4-5 count as satisfied (满意),
# 3 as basically satisfied (基本满意), 1-2 as dissatisfied (不满意).
SCALE_MIN, SCALE_MAX = 1, 5
SATISFIED_FROM, BASICALLY_SATISFIED = 4, 3

Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class SurveyStatus(StrEnum):
    draft = "draft"
    sent = "sent"
    closed = "closed"


class QuestionKind(StrEnum):
    scale = "scale"
    choice = "choice"
    text = "text"


class SampleMethod(StrEnum):
    all = "all"
    random = "random"
    stratified = "stratified"  # by building, in proportion to its households


class InvitationStatus(StrEnum):
    invited = "invited"
    answered = "answered"


class Survey(Base):
    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_site_status", "site", "status"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    buildings: Mapped[list[str]] = mapped_column(JSON)  # empty: the whole site
    sample_method: Mapped[str] = mapped_column(String(16))
    sample_size: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    invited: Mapped[int] = mapped_column(Integer, default=0)
    # Households left out because their party had used up the survey-fatigue budget.
    excluded_by_budget: Mapped[int] = mapped_column(Integer, default=0)


class Question(Base):
    __tablename__ = "survey_questions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(500))
    options: Mapped[list[str]] = mapped_column(JSON)
    required: Mapped[bool] = mapped_column(Boolean)
    # The department a scale question rates (engineering, cleaning, security ...) for the department report.
    department: Mapped[str | None] = mapped_column(String(64))


class Invitation(Base):
    __tablename__ = "survey_invitations"
    __table_args__ = (Index("ix_survey_invitations_party", "party_id", "status"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id"), index=True)
    site: Mapped[str] = mapped_column(String(64))
    party_id: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[str] = mapped_column(String(64))
    building: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    invited_at: Mapped[datetime] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    channel: Mapped[str | None] = mapped_column(String(16))  # owner | phone
    recorded_by: Mapped[str | None] = mapped_column(String(128))


class Answer(Base):
    __tablename__ = "survey_answers"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    invitation_id: Mapped[str] = mapped_column(ForeignKey("survey_invitations.id"), index=True)
    survey_id: Mapped[str] = mapped_column(String(64), index=True)
    question_id: Mapped[str] = mapped_column(String(64))
    value_int: Mapped[int | None] = mapped_column(Integer)
    value_text: Mapped[str | None] = mapped_column(Text)


# --- API models -------------------------------------------------------------------------------------


class QuestionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: QuestionKind
    text: str = Field(min_length=1, max_length=500)
    options: list[Annotated[str, StringConstraints(min_length=1, max_length=120)]] = Field(
        default_factory=list, validate_default=True
    )
    required: bool = True
    department: Token | None = None

    @field_validator("options")
    @classmethod
    def _options_fit_the_kind(cls, value: list[str], info: ValidationInfo) -> list[str]:
        kind = info.data.get("kind")
        if kind is QuestionKind.choice and (len(value) < 2 or len(set(value)) != len(value)):
            raise ValueError("a choice question needs at least two distinct options")
        if kind is not QuestionKind.choice and value:
            raise ValueError("only choice questions have options")
        return value


class SampleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: SampleMethod = SampleMethod.all
    size: int | None = Field(None, ge=1, le=100_000, validate_default=True)

    @field_validator("size")
    @classmethod
    def _size_for_samples(cls, value: int | None, info: ValidationInfo) -> int | None:
        method = info.data.get("method")
        if method in (SampleMethod.random, SampleMethod.stratified) and value is None:
            raise ValueError("required for a random or stratified sample")
        if method is SampleMethod.all and value is not None:
            raise ValueError("not allowed when every household is invited")
        return value


class SurveyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: Token
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    buildings: list[Token] = Field(default_factory=list, max_length=200)
    sample: SampleSpec = Field(default_factory=lambda: SampleSpec(size=None))
    closes_at: InputDatetime | None = None
    questions: list[QuestionCreate] = Field(min_length=1, max_length=100)


class QuestionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    position: int
    kind: str
    text: str
    options: list[str]
    required: bool
    department: str | None


class SurveyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site: str
    title: str
    description: str | None
    buildings: list[str]
    sample_method: str
    sample_size: int | None
    status: str
    closes_at: UtcDatetime | None
    created_by: str
    created_at: UtcDatetime
    sent_at: UtcDatetime | None
    closed_at: UtcDatetime | None
    invited: int
    excluded_by_budget: int


class SurveyDetail(SurveyRead):
    questions: list[QuestionRead]


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    survey_id: str
    site: str
    party_id: str
    unit_id: str
    building: str
    status: str
    invited_at: UtcDatetime
    answered_at: UtcDatetime | None
    channel: str | None


class InvitationDetail(InvitationRead):
    title: str
    description: str | None
    closes_at: UtcDatetime | None
    questions: list[QuestionRead]


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question_id: str = Field(min_length=1, max_length=64)
    value: int | str


class AnswersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: list[AnswerIn] = Field(min_length=1, max_length=100)


class Satisfaction(BaseModel):
    answered: int
    satisfied: int
    basically_satisfied: int
    dissatisfied: int
    rate: float | None  # (satisfied + basically satisfied) / answered


class QuestionReport(BaseModel):
    question_id: str
    position: int
    kind: str
    text: str
    department: str | None
    answered: int
    satisfaction: Satisfaction | None = None
    average: float | None = None
    choices: dict[str, int] | None = None


class SurveyReport(BaseModel):
    survey_id: str
    site: str
    title: str
    invited: int
    responded: int
    response_rate: float | None
    satisfaction: Satisfaction
    by_department: dict[str, Satisfaction]
    by_building: dict[str, Satisfaction]
    questions: list[QuestionReport]


class SiteSatisfaction(BaseModel):
    site: str
    surveys: Satisfaction
    by_department: dict[str, Satisfaction]
    followups: Satisfaction  # answered follow-ups: a satisfied outcome by its overall score, else dissatisfied
    followups_by_department: dict[str, Satisfaction]
