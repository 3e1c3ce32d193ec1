"""The pure rules of live updates and the board, without a stack: what a person may listen to, and which
live events make an alert line."""

from __future__ import annotations

import pytest

from console.board.rules import alert_of
from console.live.topics import Listener, LiveRefused, subjects_for

pytestmark = pytest.mark.unit

SUPERVISOR = Listener(roles=["supervisor"], sites=["harbour"])
HEAD_OFFICE = Listener(roles=["head_office"], sites=["*"])
WORKER = Listener(roles=["worker"], sites=["harbour"], department="engineering")


def test_a_person_listens_to_their_own_sites_only() -> None:
    subjects = [subject for _, subject in subjects_for(SUPERVISOR, ["requests", "workorders"], [])]
    assert "intake.request.created.v1.harbour" in subjects
    assert "dispatch.workorder.created.v1.harbour.*" in subjects
    assert all(subject.split(".")[4] == "harbour" for subject in subjects)
    with pytest.raises(LiveRefused) as refused:
        subjects_for(SUPERVISOR, ["requests"], ["riverside"])
    assert refused.value.status == 403


def test_head_office_names_a_site_or_hears_every_site() -> None:
    assert ("requests", "intake.request.created.v1.riverside") in subjects_for(HEAD_OFFICE, ["requests"], ["riverside"])
    assert ("requests", "intake.request.created.v1.*") in subjects_for(HEAD_OFFICE, ["requests"], [])


def test_a_worker_hears_their_departments_work_orders_and_no_requests() -> None:
    subjects = [subject for _, subject in subjects_for(WORKER, ["workorders"], [])]
    assert subjects and all(subject.endswith(".harbour.engineering") for subject in subjects)
    with pytest.raises(LiveRefused) as refused:
        subjects_for(WORKER, ["requests"], [])
    assert refused.value.status == 403
    with pytest.raises(LiveRefused):
        subjects_for(Listener(roles=["worker"], sites=["harbour"]), ["workorders"], [])


@pytest.mark.parametrize("site", ["harbour.*", ">", "har bour", ""])
def test_a_site_that_is_not_one_subject_token_is_refused(site: str) -> None:
    with pytest.raises(LiveRefused) as refused:
        subjects_for(HEAD_OFFICE, ["requests"], [site])
    assert refused.value.status == 400


def test_an_unknown_or_missing_topic_is_refused() -> None:
    for topics in ([], ["everything"]):
        with pytest.raises(LiveRefused) as refused:
            subjects_for(SUPERVISOR, topics, [])
        assert refused.value.status == 400


def test_a_time_limit_event_makes_an_alert_and_nothing_else_does() -> None:
    event = {
        "type": "dispatch.workorder.timelimit.v1",
        "site": "harbour",
        "request_id": "req-1",
        "work_order_id": "wo-1",
        "limit": "arrival",
        "stage": "breach",
        "due_at": "2026-12-02T08:30:00+00:00",
    }
    alert = alert_of(event)
    assert alert is not None and (alert.work_order_id, alert.limit, alert.stage) == ("wo-1", "arrival", "breach")
    request_event = {**event, "type": "intake.request.timelimit.v1", "limit": "acknowledge", "stage": "warning"}
    found = alert_of(request_event)
    assert found is not None and found.work_order_id is None and found.request_id == "req-1"
    assert alert_of({**event, "type": "intake.request.created.v1"}) is None
    assert alert_of({**event, "limit": "acknowledge"}) is None  # not a work order's limit
    assert alert_of({**event, "stage": "soon"}) is None
    assert alert_of({**event, "work_order_id": "../reports"}) is None  # an id goes into an API path
    assert alert_of({**event, "request_id": ""}) is None
