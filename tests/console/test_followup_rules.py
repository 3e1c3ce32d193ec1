"""The follow-up area's pure rules: form inputs to survey's bodies, and survey's refusals back to their input."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from console.followup.rules import (
    QuestionRow,
    SurveyForm,
    VisitForm,
    attempt_note,
    follow_up_answer,
    follow_up_input,
    local_moment,
    split_list,
    survey_body,
    survey_input,
    visit_body,
    visit_input,
)
from console.permissions import screens_for

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.unit
def test_a_not_solved_answer_carries_the_owners_words_and_only_the_scores_given() -> None:
    body = follow_up_answer("no", {"overall": "2", "speed": "", "attitude": " 4 "}, "  Still leaking  ")
    assert body == {"solved": False, "scores": {"overall": 2, "attitude": 4}, "comment": "Still leaking"}
    assert follow_up_answer("yes", {"overall": "", "speed": "", "attitude": ""}, "") == {"solved": True}


@pytest.mark.unit
def test_nothing_chosen_goes_to_survey_as_null_for_survey_to_refuse() -> None:
    assert follow_up_answer("", {}, "")["solved"] is None
    assert follow_up_answer("no", {"overall": "x"}, "")["scores"] == {"overall": "x"}


@pytest.mark.unit
def test_an_attempts_note_is_the_reason_then_the_detail() -> None:
    assert attempt_note("无人接听", "  ") == "无人接听"
    assert attempt_note("Busy", " try after six ") == "Busy: try after six"


@pytest.mark.unit
def test_a_refusal_of_the_answer_lands_on_its_input() -> None:
    assert follow_up_input("solved") == "solved"
    assert follow_up_input("scores.speed") == "score_speed"
    assert follow_up_input("scores") == "score_overall"
    assert follow_up_input("status") is None
    assert follow_up_input(None) is None


@pytest.mark.unit
def test_a_local_time_gets_the_display_zone_and_odd_text_goes_as_typed() -> None:
    assert local_moment("2026-12-20T18:00", SHANGHAI) == "2026-12-20T18:00:00+08:00"
    assert local_moment("  ", SHANGHAI) is None
    assert local_moment("next week", SHANGHAI) == "next week"


@pytest.mark.unit
def test_lists_split_on_latin_and_chinese_separators() -> None:
    assert split_list("A, B\uff0cC\uff1bD\u3001E\nF;;") == ["A", "B", "C", "D", "E", "F"]


def _form(**changes: object) -> SurveyForm:
    rows = (
        QuestionRow(kind="scale", text="Cleaning of the lobby", department="cleaning"),
        QuestionRow(kind="scale", text="   "),
        QuestionRow(kind="choice", text="Best contact time", options="Morning, Evening", required=False),
        QuestionRow(kind="text", text=""),
    )
    values: dict[str, object] = {
        "site": "harbour",
        "title": " Winter survey ",
        "description": "",
        "buildings": "A, B",
        "sample_method": "random",
        "sample_size": "3",
        "closes_at": "",
        "questions": rows,
    }
    values.update(changes)
    return SurveyForm(**values)  # type: ignore[arg-type]


@pytest.mark.unit
def test_a_survey_keeps_the_rows_with_text_and_remembers_where_each_came_from() -> None:
    body, rows = survey_body(_form(), SHANGHAI)
    assert rows == [0, 2]
    assert body == {
        "site": "harbour",
        "title": "Winter survey",
        "buildings": ["A", "B"],
        "sample": {"method": "random", "size": 3},
        "questions": [
            {"kind": "scale", "text": "Cleaning of the lobby", "required": True, "department": "cleaning"},
            {"kind": "choice", "text": "Best contact time", "required": False, "options": ["Morning", "Evening"]},
        ],
    }
    with_close, _ = survey_body(_form(sample_method="all", sample_size="", closes_at="2026-12-31T12:00"), SHANGHAI)
    assert with_close["sample"] == {"method": "all"}
    assert with_close["closes_at"] == "2026-12-31T12:00:00+08:00"


@pytest.mark.unit
def test_a_refusal_of_a_question_lands_on_the_row_it_came_from() -> None:
    assert survey_input("questions.1.options", [0, 2]) == "q2_options"
    assert survey_input("questions.0.text", [0, 2]) == "q0_text"
    assert survey_input("sample.size", []) == "sample_size"
    assert survey_input("buildings.1", []) == "buildings"
    assert survey_input("closes_at", []) == "closes_at"
    assert survey_input("status", []) is None


@pytest.mark.unit
def test_a_visit_names_the_unit_as_intake_does_and_raises_a_request_only_when_described() -> None:
    plain = VisitForm(site="harbour", unit_code=" A-0101 ", visited_at="", notes=" Talked about parking ")
    assert visit_body(plain, SHANGHAI) == {
        "site": "harbour",
        "unit_id": "harbour-A-0101",
        "notes": "Talked about parking",
    }
    found = VisitForm(
        site="harbour",
        unit_code="A-0101",
        visited_at="2026-12-01T10:30",
        notes="Window seal",
        raise_kind="repair",
        raise_category="leaks_walls",
        raise_description="Window seal leaks",
        raise_in_unit=True,
    )
    body = visit_body(found, SHANGHAI)
    assert body["visited_at"] == "2026-12-01T10:30:00+08:00"
    assert body["raise_request"] == {
        "kind": "repair",
        "category": "leaks_walls",
        "description": "Window seal leaks",
        "priority": "normal",
        "in_unit": True,
    }
    assert visit_input("unit_id") == "unit_code"
    assert visit_input("raise_request.category") == "raise_category"
    assert visit_input("something_else") is None


@pytest.mark.unit
def test_follow_ups_are_for_the_desk_surveys_for_managers_and_head_office_visits_for_managers_and_supervisors() -> None:
    def paths(role: str) -> set[str]:
        return {path for path, _ in screens_for([role])}

    assert {"/follow-ups", "/surveys", "/visits"} <= paths("manager")
    assert "/follow-ups" in paths("agent") and not {"/surveys", "/visits"} & paths("agent")
    assert {"/follow-ups", "/visits"} <= paths("supervisor") and "/surveys" not in paths("supervisor")
    assert "/surveys" in paths("head_office") and not {"/follow-ups", "/visits"} & paths("head_office")
    for role in ("worker", "billing_clerk", "operator"):
        assert not {"/follow-ups", "/surveys", "/visits"} & paths(role)
