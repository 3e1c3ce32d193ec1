"""Form inputs to survey's request bodies, and survey's refusals back to the input they name. Survey decides what
is valid (a missing answer, an odd score, a choice question without options): these only translate, so a
refusal always comes in survey's own words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

SCORES = ("overall", "speed", "attitude")
QUESTION_ROWS = 5  # blank question rows the survey form offers (a row without text is left out)
# Options and buildings are typed in one field: commas (also the Chinese ones), semicolons or new lines part them.
_SEPARATORS = re.compile("[,;\n\uff0c\uff1b\u3001]+")


def split_list(text: str) -> list[str]:
    return [part.strip() for part in _SEPARATORS.split(text) if part.strip()]


def whole_number(text: str) -> int | str:
    """A number typed in a form; anything else goes to survey as typed, for survey to refuse in its words."""
    stripped = text.strip()
    return int(stripped) if stripped.isdigit() else stripped


def local_moment(text: str, zone: ZoneInfo) -> str | None:
    """A datetime-local input (the console's display time zone) as an ISO moment with its offset; empty: None.
    Text that is no date goes as typed, for survey to refuse."""
    stripped = text.strip()
    if not stripped:
        return None
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        return stripped
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()


# --- follow-ups -------------------------------------------------------------------------------------------


def follow_up_answer(solved: str, scores: dict[str, str], comment: str) -> dict[str, Any]:
    """The owner's answer taken on the phone: solved or not ("yes"/"no"; nothing chosen goes as null, for survey
    to refuse), the scores given (survey wants all three or none) and the owner's words."""
    body: dict[str, Any] = {"solved": {"yes": True, "no": False}.get(solved)}
    given = {name: whole_number(value) for name, value in scores.items() if value.strip()}
    if given:
        body["scores"] = given
    if comment.strip():
        body["comment"] = comment.strip()
    return body


def attempt_note(reason: str, detail: str) -> str:
    """An unanswered attempt's note: the reason chosen, then the agent's own words if any."""
    return f"{reason}: {detail.strip()}" if detail.strip() else reason


def follow_up_input(field: str | None) -> str | None:
    """Which input of the result form a survey problem's field names (``scores.speed`` -> ``score_speed``)."""
    if field in ("solved", "comment"):
        return field
    if field and field.startswith("scores."):
        name = field.removeprefix("scores.")
        return f"score_{name}" if name in SCORES else "score_overall"
    if field == "scores":
        return "score_overall"
    return None


# --- surveys ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionRow:
    """One row of the survey form's questions, as typed."""

    kind: str
    text: str
    options: str = ""
    department: str = ""
    required: bool = True


@dataclass(frozen=True)
class SurveyForm:
    site: str
    title: str
    description: str
    buildings: str
    sample_method: str
    sample_size: str
    closes_at: str
    questions: tuple[QuestionRow, ...]


def survey_body(form: SurveyForm, zone: ZoneInfo) -> tuple[dict[str, Any], list[int]]:
    """Survey's SurveyCreate from the form, and for each question sent the form row it came from (a refusal of
    ``questions.1.text`` lands on that row)."""
    rows = [index for index, row in enumerate(form.questions) if row.text.strip()]
    questions = []
    for index in rows:
        row = form.questions[index]
        question: dict[str, Any] = {"kind": row.kind, "text": row.text.strip(), "required": row.required}
        options = split_list(row.options)
        if options:
            question["options"] = options
        if row.department.strip():
            question["department"] = row.department.strip()
        questions.append(question)
    sample: dict[str, Any] = {"method": form.sample_method}
    if form.sample_size.strip():
        sample["size"] = whole_number(form.sample_size)
    body: dict[str, Any] = {
        "site": form.site.strip(),
        "title": form.title.strip(),
        "buildings": split_list(form.buildings),
        "sample": sample,
        "questions": questions,
    }
    if form.description.strip():
        body["description"] = form.description.strip()
    closes_at = local_moment(form.closes_at, zone)
    if closes_at:
        body["closes_at"] = closes_at
    return body, rows


_SURVEY_INPUTS = {
    "site": "site",
    "title": "title",
    "description": "description",
    "buildings": "buildings",
    "sample": "sample_method",
    "sample.method": "sample_method",
    "sample.size": "sample_size",
    "closes_at": "closes_at",
    "questions": "questions",
}
_QUESTION_FIELD = re.compile(r"^questions\.(\d+)\.(kind|text|options|department|required)")


def survey_input(field: str | None, rows: list[int]) -> str | None:
    """Which input of the survey form a survey problem's field names (``questions.1.options.0`` -> ``q3_options``
    when the second question sent came from the third row)."""
    if not field:
        return None
    question = _QUESTION_FIELD.match(field)
    if question:
        sent = int(question.group(1))
        row = rows[sent] if sent < len(rows) else sent
        return f"q{row}_{question.group(2)}"
    return _SURVEY_INPUTS.get(field) or _SURVEY_INPUTS.get(field.split(".")[0])


# --- home visits ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitForm:
    site: str
    unit_code: str
    visited_at: str
    notes: str
    raise_kind: str = ""
    raise_category: str = ""
    raise_description: str = ""
    raise_priority: str = "normal"
    raise_in_unit: bool = False


def visit_body(form: VisitForm, zone: ZoneInfo) -> dict[str, Any]:
    """Survey's VisitCreate: the unit by its code within the site (as intake names units: ``harbour-A-0101``),
    and a request for intake only when the visitor described one."""
    unit_code = form.unit_code.strip()
    body: dict[str, Any] = {
        "site": form.site.strip(),
        "unit_id": f"{form.site.strip()}-{unit_code}" if unit_code else "",
        "notes": form.notes.strip(),
    }
    visited_at = local_moment(form.visited_at, zone)
    if visited_at:
        body["visited_at"] = visited_at
    if form.raise_description.strip():
        body["raise_request"] = {
            "kind": form.raise_kind,
            "category": form.raise_category.strip(),
            "description": form.raise_description.strip(),
            "priority": form.raise_priority,
            "in_unit": form.raise_in_unit,
        }
    return body


def visit_input(field: str | None) -> str | None:
    """Which input of the visit form a survey problem's field names."""
    if not field:
        return None
    if field.startswith("raise_request."):
        name = field.removeprefix("raise_request.")
        return f"raise_{name}" if name in ("kind", "category", "description", "priority", "in_unit") else None
    return {
        "site": "site",
        "unit_id": "unit_code",
        "party_id": "unit_code",
        "visited_at": "visited_at",
        "notes": "notes",
    }.get(field)
