"""Looking at one dead letter and discarding it, within the operator's sites (billing's app, SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from tests.platform.test_deadletter_scope import (  # noqa: F401 (billing is a fixture)
    billing,
    completed,
    dead_letter,
    operator,
    status_of,
)

HARBOUR_SUBJECT = "dispatch.workorder.completed.v1.harbour.engineering"


async def test_an_operator_looks_at_one_dead_letter_of_their_sites(billing: Any) -> None:  # noqa: F811
    runtime, client = billing
    letter = await dead_letter(
        runtime, HARBOUR_SUBJECT, completed("e-1", "harbour", "harbour-A-0101", "Replaced the tap cartridge")
    )
    response = await client.get(f"/admin/dead-letters/{letter}", headers=operator(runtime, ["harbour"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["status"], body["reason"]) == (letter, "open", "KeyError: unit_area")
    assert "Replaced the tap cartridge" in body["payload"]
    response = await client.get(f"/admin/dead-letters/{letter}", headers=operator(runtime, ["riverside"]))
    assert response.status_code == 404


async def test_a_discarded_dead_letter_leaves_the_open_list_and_cannot_be_replayed(billing: Any) -> None:  # noqa: F811
    runtime, client = billing
    letter = await dead_letter(
        runtime, HARBOUR_SUBJECT, completed("e-2", "harbour", "harbour-A-0101", "Replaced the tap cartridge")
    )
    response = await client.post(f"/admin/dead-letters/{letter}/discard", headers=operator(runtime, ["riverside"]))
    assert response.status_code == 404
    assert await status_of(runtime, letter) == "open"

    response = await client.post(f"/admin/dead-letters/{letter}/discard", headers=operator(runtime, ["harbour"]))
    assert response.status_code == 200, response.text
    assert response.json() == {"id": letter, "status": "discarded"}
    assert await status_of(runtime, letter) == "discarded"
    listed = await client.get("/admin/dead-letters", headers=operator(runtime, ["*"]))
    assert letter not in [row["id"] for row in listed.json()]
    discarded = await client.get(
        "/admin/dead-letters", params={"status": "discarded"}, headers=operator(runtime, ["*"])
    )
    assert letter in [row["id"] for row in discarded.json()]

    for action in ("discard", "replay"):
        response = await client.post(f"/admin/dead-letters/{letter}/{action}", headers=operator(runtime, ["harbour"]))
        assert response.status_code == 409, response.text
        assert response.json()["detail"] == f"dead letter {letter} is already discarded"
