"""A declaration lives through revisions: numbered, guarded against concurrent writers,
published as events of the same declaration so that the agencies and the figures follow, and
its deadlines tell what is met and what is late."""

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from vigie_stack.receiver import WebhookReceiver
from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import query, read_topic, settle, wait_for_status, wait_until


async def category_counts(stats_api: httpx.AsyncClient) -> Counter[str]:
    body = (await stats_api.get("/v1/stats", params={"group_by": "category"})).json()
    return Counter({group["key"]: group["count"] for group in body["groups"]})


async def test_a_revision_is_published_notified_counted_once_and_meets_its_deadline(
    stack: Stack, api: httpx.AsyncClient, stats_api: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    await settle(stack)
    before = await category_counts(stats_api)
    detected = datetime.now(UTC) - timedelta(hours=30)
    payload = declaration(
        finess=finess_in("32", 790001),
        essential_operator=True,
        degraded_mode=True,
        detected_at=detected,
    )
    payload["impacts"]["data_disclosure"] = True
    created = await api.post("/v1/declarations", json=payload)
    declaration_id, reference = created.json()["id"], created.json()["reference"]
    state = (await wait_for_status(api, [declaration_id]))[declaration_id]

    # A NIS2 essential entity, a significant incident: declaring to Vigie answers none of its
    # clocks towards ANSSI; 30 h after detection, the early warning is overdue.
    deadlines = {d["obligation"]: (d["addressee"], d["state"]) for d in state["deadlines"]}
    assert deadlines == {
        "early_warning": ("ANSSI", "overdue"),
        "notification": ("ANSSI", "pending"),
        "final_report": ("ANSSI", "pending"),
        "cnil_notification": ("CNIL", "pending"),
    }
    assert [r["kind"] for r in state["revisions"]] == ["initial"]
    assert [t["what"] for t in state["timeline"]][:2] == ["submitted", "enriched"]
    assert "notified" in [t["what"] for t in state["timeline"]]

    revised = await api.post(
        f"/v1/declarations/{declaration_id}/revisions",
        json={
            "kind": "notification",
            "based_on": 1,
            "changes": {
                "category": "data_theft",
                "impacts": {"patient_safety": "proven"},
                "cnil_notified_at": (detected + timedelta(hours=29)).isoformat(),
                "anssi_notified_at": (detected + timedelta(hours=29)).isoformat(),
            },
        },
    )
    assert revised.status_code == 202, revised.text
    assert revised.json()["revision"] == 2
    assert revised.headers["location"] == f"/v1/declarations/{declaration_id}"

    await wait_until(
        lambda: _notified_at_revision(api, declaration_id, 2),
        timeout=60,
        what="revision 2 notified",
    )
    state = (await api.get(f"/v1/declarations/{declaration_id}")).json()
    assert state["revision"] == 2
    assert state["declaration"]["category"] == "data_theft"
    assert state["declaration"]["impacts"]["degraded_mode"] is True, "unchanged fields stay"
    assert state["declaration"]["impacts"]["patient_safety"] == "proven"
    assert [(r["revision"], r["kind"], r["based_on"]) for r in state["revisions"]] == [
        (1, "initial", None),
        (2, "notification", 1),
    ]
    clocks = {d["obligation"]: d["state"] for d in state["deadlines"]}
    assert clocks == {
        "early_warning": "late",  # the notification, 29 h after detection, answers it late
        "notification": "met",
        "final_report": "pending",
        "cnil_notification": "met",
    }
    await settle(stack)
    state = (await api.get(f"/v1/declarations/{declaration_id}")).json()
    assert {(n["revision"], n["recipient"]["code"], n["channel"]) for n in state["notifications"]} == {
        (revision, code, channel)
        for revision in (1, 2)
        for code, channel in [
            ("ars-hdf", "webhook"),
            ("ars-hdf", "email"),
            ("cert-sante", "webhook"),
            ("cert-sante", "email"),
            ("hfds", "webhook"),
            ("hfds", "email"),
            ("declarant", "email"),
        ]
    }

    # the ARS was told of each revision, once each
    told = [r.body for r in receiver.received["ars-hdf"] if r.body["reference"] == reference]
    assert sorted((body["revision"], body["kind"]) for body in told) == [
        (1, "initial"),
        (2, "notification"),
    ]
    # both revisions went out as events of the same declaration, in order
    submitted = [
        json.loads(r.value or b"{}")
        for r in await read_topic(stack, "declaration.submitted.v1")
        if r.key == declaration_id.encode()
    ]
    assert [(e["data"]["revision"], e["data"]["kind"]) for e in submitted] == [
        (1, "initial"),
        (2, "notification"),
    ]
    # and the figures moved the declaration from one category to the other rather than adding one
    after = await category_counts(stats_api)
    assert after - before == Counter({"data_theft": 1})


async def _notified_at_revision(api: httpx.AsyncClient, declaration_id: str, revision: int) -> bool:
    state = (await api.get(f"/v1/declarations/{declaration_id}")).json()
    return bool(state["revision"] == revision and state["status"] == "notified")


async def _fresh(api: httpx.AsyncClient, serial: int) -> str:
    created = await api.post("/v1/declarations", json=declaration(finess=finess_in("32", serial)))
    return str(created.json()["id"])


async def test_a_revision_written_against_an_old_revision_is_refused(
    api: httpx.AsyncClient,
) -> None:
    declaration_id = await _fresh(api, 790002)
    first = await api.post(
        f"/v1/declarations/{declaration_id}/revisions",
        json={"kind": "update", "based_on": 1, "changes": {"status": "contained"}},
    )
    assert first.status_code == 202
    stale = await api.post(
        f"/v1/declarations/{declaration_id}/revisions",
        json={"kind": "update", "based_on": 1, "changes": {"status": "resolved"}},
    )
    assert stale.status_code == 409
    assert stale.json()["current_revision"] == 2
    assert "written against revision 1" in stale.json()["detail"]


async def test_of_concurrent_writers_on_one_revision_exactly_one_wins(
    api: httpx.AsyncClient,
) -> None:
    declaration_id = await _fresh(api, 790003)

    async def write(n: int) -> httpx.Response:
        return await api.post(
            f"/v1/declarations/{declaration_id}/revisions",
            json={"kind": "update", "based_on": 1, "changes": {"description": f"version {n}"}},
        )

    responses = await asyncio.gather(*(write(n) for n in range(6)))
    assert sorted(r.status_code for r in responses) == [202, 409, 409, 409, 409, 409]
    state = (await api.get(f"/v1/declarations/{declaration_id}")).json()
    winner = next(r for r in responses if r.status_code == 202)
    assert state["revision"] == 2 == winner.json()["revision"]
    assert len(state["revisions"]) == 2


async def test_an_invalid_revision_names_the_field_under_changes(api: httpx.AsyncClient) -> None:
    declaration_id = await _fresh(api, 790004)
    cases: list[tuple[dict[str, Any], int, str]] = [
        (
            {
                "kind": "update",
                "based_on": 1,
                "changes": {"structure": {"finess": finess_in("11", 1)}},
            },
            422,
            "changes.structure.finess",
        ),
        (
            {"kind": "update", "based_on": 1, "changes": {"category": "hack"}},
            422,
            "changes.category",
        ),
        (
            {"kind": "update", "based_on": 1, "changes": {"severity": "high"}},
            422,
            "changes.severity",
        ),
        (
            {
                "kind": "update",
                "based_on": 1,
                "changes": {"started_at": datetime.now(UTC).isoformat()},
            },
            422,
            "changes.started_at",
        ),
        ({"kind": "initial", "based_on": 1}, 422, "kind"),
        ({"kind": "update", "based_on": 0}, 422, "based_on"),
        ({"kind": "update", "based_on": 1, "reason": "x"}, 422, "reason"),
    ]
    for body, status, field in cases:
        response = await api.post(f"/v1/declarations/{declaration_id}/revisions", json=body)
        assert response.status_code == status, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (field, response.json())
    assert (await api.get(f"/v1/declarations/{declaration_id}")).json()["revision"] == 1


async def test_a_declaration_accepted_under_an_earlier_finess_rule_is_revised_and_flows(
    stack: Stack, api: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    """Before the register's rule was verified, Corsican check digits counted letters as 0:
    2A1000213 was accepted then, and today's rule would refuse it. What was accepted stays
    readable and revisable, and its revisions reach the agencies like any other's."""
    created = (await api.post("/v1/declarations", json=declaration(finess="2A0000014"))).json()
    await wait_for_status(api, [created["id"]])
    await query(
        stack,
        "declaration",
        "UPDATE declarations SET finess = '2A1000213',"
        " content = jsonb_set(content, '{structure,finess}', '\"2A1000213\"') WHERE id = $1::uuid",
        created["id"],
    )
    assert (await api.get(f"/v1/declarations/{created['id']}")).json()["declaration"]["structure"]["finess"] == (
        "2A1000213"
    )
    revised = await api.post(
        f"/v1/declarations/{created['id']}/revisions",
        json={"kind": "update", "based_on": 1, "changes": {"status": "contained"}},
    )
    assert revised.status_code == 202, revised.text
    await wait_until(lambda: _notified_at_revision(api, created["id"], 2), timeout=60, what="revision 2 notified")
    await settle(stack)
    assert (created["reference"], 2) in receiver.revisions("ars-cor")
    # What a revision changes is admitted by today's rule.
    refused = await api.post(
        f"/v1/declarations/{created['id']}/revisions",
        json={"kind": "update", "based_on": 2, "changes": {"structure": {"finess_ej": "2B0000021"}}},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "changes.structure.finess_ej"
