"""Delivery that always arrives once: every recipient gets one message per revision and channel,
by signed webhook and by e-mail (STARTTLS, authenticated); retries from durable state; a
receiver that never answers is dead-lettered without slowing the others; a crash loses nothing
and duplicates nothing."""

import asyncio
import json
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from vigie_contracts.finess import with_check_digit
from vigie_contracts.topics import NOTIFICATION_DISPATCHED
from vigie_stack.mailbox import Mailbox
from vigie_stack.receiver import Behaviour, WebhookReceiver
from vigie_stack.samples import declaration
from vigie_stack.stack import Stack

from ..support.pipeline import query, read_topic, settle, wait_for_status, wait_until

DECLARANT = "rssi@structure.example.fr"


def alert_desk(code: str) -> str:
    return f"alerte@{code}.vigie.test"


async def test_every_recipient_gets_one_message_per_revision_and_channel(
    stack: Stack, api: httpx.AsyncClient, receiver: WebhookReceiver, mailbox: Mailbox
) -> None:
    await settle(stack)
    payload = declaration(
        finess=with_check_digit("29080001"),
        name="Centre hospitalier de Cornouaille",
        degraded_mode=True,
        patient_safety="proven",
        description="Rançongiciel sur le dossier patient informatisé ; détails sensibles ici.",
    )
    created = await api.post("/v1/declarations", json=payload)
    declaration_id, reference = created.json()["id"], created.json()["reference"]
    await wait_for_status(api, [declaration_id])
    revised = await api.post(
        f"/v1/declarations/{declaration_id}/revisions",
        json={"kind": "notification", "based_on": 1, "changes": {"status": "contained"}},
    )
    assert revised.status_code == 202
    await settle(stack)

    # The agency, CERT Santé and the ministries' security officer (HFDS), each by both channels.
    for code in ("ars-bre", "cert-sante", "hfds"):
        told = sorted(r for r in receiver.revisions(code) if r[0] == reference)
        assert told == [(reference, 1), (reference, 2)], code
        subjects = [s for s in mailbox.subjects(alert_desk(code)) if reference in s]
        assert len(subjects) == 2, (code, subjects)
        assert all(s.startswith("[URGENT] [Vigie]") for s in subjects)
    bodies = [r.body for r in receiver.received["ars-bre"] if r.body["reference"] == reference]
    assert all(body["urgent"] is True and body["severity"]["grave"] is True for body in bodies)
    acknowledgements = [s for s in mailbox.subjects(DECLARANT) if reference in s]
    assert acknowledgements == [f"[Vigie] Accusé de réception — {reference}"] * 2

    message = next(m for m in mailbox.messages(alert_desk("ars-bre")) if reference in str(m["Subject"]))
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Territoire : Finistère (29), Bretagne" in text
    assert "Gravité : incident grave" in text
    assert "détails sensibles" not in text, "the description stays in Vigie"
    assert message["Message-ID"].endswith("@vigie.sante>")
    assert mailbox.refused_logins == 0

    # Neither grave nor significant, not even malicious: the HFDS is told all the same
    # (art. D1111-16-3 CSP, instruction SHFDS/FSSI/2023/78).
    quiet = await api.post(
        "/v1/declarations",
        json=declaration(finess=with_check_digit("29080002"), category="human_error", origin="accidental"),
    )
    quiet_reference = quiet.json()["reference"]
    await wait_for_status(api, [quiet.json()["id"]])
    await settle(stack)
    assert [r for r in receiver.revisions("hfds") if r[0] == quiet_reference] == [(quiet_reference, 1)]
    mailed = [s for s in mailbox.subjects(alert_desk("hfds")) if quiet_reference in s]
    assert len(mailed) == 1, mailed
    assert mailed[0].startswith(f"[Vigie] {quiet_reference} — "), mailed


async def outcomes(stack: Stack, reference: str, recipient: str) -> list[tuple[int, str]]:
    events = [json.loads(r.value or b"{}")["data"] for r in await read_topic(stack, NOTIFICATION_DISPATCHED.name)]
    return [
        (told["attempt"], told["outcome"])
        for e in events
        if e["reference"] == reference
        for told in e["deliveries"]
        if told["recipient"]["code"] == recipient and told["channel"] == "webhook"
    ]


async def test_a_receiver_that_fails_three_times_gets_it_after_retries(
    stack: Stack, api: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    receiver.behaviour["ars-cor"] = Behaviour(failures=3, status=500)
    try:
        created = await api.post("/v1/declarations", json=declaration(finess=with_check_digit("2B080003")))
        reference = created.json()["reference"]
        await wait_for_status(api, [created.json()["id"]], timeout=60)
        await settle(stack)
    finally:
        receiver.behaviour.pop("ars-cor", None)
    assert receiver.references("ars-cor").count(reference) == 1
    assert await outcomes(stack, reference, "ars-cor") == [
        (1, "retrying"),
        (2, "retrying"),
        (3, "retrying"),
        (4, "sent"),
    ]
    state = (await api.get(f"/v1/declarations/{created.json()['id']}")).json()
    ars = next(n for n in state["notifications"] if n["recipient"]["code"] == "ars-cor" and n["channel"] == "webhook")
    assert (ars["outcome"], ars["attempt"], ars["error"]) == ("sent", 4, None)


async def test_a_receiver_that_never_answers_is_dead_lettered_without_slowing_the_others(
    stack: Stack, api: httpx.AsyncClient, national_api: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    await settle(stack)
    receiver.behaviour["ars-may"] = Behaviour(hang=True)
    posted: dict[str, float] = {}
    try:
        ids = []
        for n in range(6):  # Mayotte, whose agency hangs, among other regions
            finess = with_check_digit(f"9805{n:04d}") if n % 2 == 0 else with_check_digit(f"3508{n:04d}")
            response = await api.post("/v1/declarations", json=declaration(finess=finess))
            ids.append(response.json()["id"])
            posted[response.json()["reference"]] = time.monotonic()
        mayotte = [ref for i, ref in enumerate(posted) if i % 2 == 0]

        async def everyone_else_told() -> bool:
            cert = set(receiver.references("cert-sante"))
            bretagne = set(receiver.references("ars-bre"))
            return set(posted) <= cert and set(posted) - set(mayotte) <= bretagne

        await wait_until(everyone_else_told, timeout=10, interval=0.05, what="the other recipients told")
        others_done = time.monotonic()

        async def mayotte_dead_lettered() -> bool:
            rows = await query(
                stack,
                "notification",
                "SELECT status FROM deliveries WHERE reference = ANY($1) AND recipient_code = 'ars-may' AND channel = 'webhook'",
                mayotte,
            )
            return len(rows) == 3 and all(row["status"] == "failed" for row in rows)

        await wait_until(mayotte_dead_lettered, timeout=60, what="Mayotte's deliveries dead-lettered")
        # The others were told well before the hanging agency's deliveries gave up.
        assert others_done - min(posted.values()) < 5.0
        failed = await asyncio.to_thread(stack.services["notification"].command, "deliveries", "failed")
        assert sum(ref in failed.stdout for ref in mayotte) == 3
        assert "no answer before the timeout" in failed.stdout
        # CERT Santé reads every outcome and its error; the partner, what was sent.
        state = (await national_api.get(f"/v1/declarations/{ids[0]}")).json()
        hung = next(
            n for n in state["notifications"] if n["recipient"]["code"] == "ars-may" and n["channel"] == "webhook"
        )
        assert hung["outcome"] == "failed"
    finally:
        receiver.behaviour.pop("ars-may", None)

    # Once the agency answers again, a command replays what was dead-lettered.
    replay = await asyncio.to_thread(stack.services["notification"].command, "deliveries", "replay", "--all")
    assert replay.returncode == 0, replay.stdout
    await wait_until(
        lambda: _async_true(set(mayotte) <= set(receiver.references("ars-may"))), timeout=60, what="the replay"
    )
    await settle(stack)
    assert Counter(r for r in receiver.references("ars-may") if r in mayotte) == dict.fromkeys(mayotte, 1)


async def _async_true(value: bool) -> bool:
    return value


async def test_killing_notification_mid_burst_loses_nothing_and_duplicates_nothing(
    stack: Stack, api: httpx.AsyncClient, receiver: WebhookReceiver, mailbox: Mailbox
) -> None:
    await settle(stack)
    references = []
    for n in range(30):
        response = await api.post("/v1/declarations", json=declaration(finess=with_check_digit(f"6908{n:04d}")))
        references.append(response.json()["reference"])
    await asyncio.sleep(0.4)
    await asyncio.to_thread(stack.services["notification"].stop, kill=True)  # as a crash would
    await asyncio.sleep(0.5)
    await asyncio.to_thread(stack.services["notification"].start)
    await settle(stack, timeout=120)

    for code in ("ars-ara", "cert-sante", "hfds"):
        told = Counter(r for r in receiver.references(code) if r in references)
        assert told == dict.fromkeys(references, 1), code
    for address in (alert_desk("ars-ara"), alert_desk("cert-sante"), alert_desk("hfds"), DECLARANT):
        subjects = [s for s in mailbox.subjects(address) if any(r in s for r in references)]
        told = Counter(next(r for r in references if r in s) for s in subjects)
        assert told == dict.fromkeys(references, 1), address
    rows = await query(
        stack,
        "notification",
        "SELECT status, count(*) AS n FROM deliveries WHERE reference = ANY($1) GROUP BY status",
        references,
    )
    assert {row["status"]: row["n"] for row in rows} == {"sent": 30 * 7}


async def test_a_directory_that_leaves_an_agency_unreachable_is_refused(stack: Stack, tmp_path: Path) -> None:
    copy = tmp_path / "recipients.json"
    shutil.copy(stack.config.recipients_file, copy)
    command = stack.services["notification"].command
    env = {"VIGIE_RECIPIENTS_FILE": str(copy)}

    valid = await asyncio.to_thread(command, "directory", "validate", env=env)
    assert valid.returncode == 0, valid.stdout
    silenced = await asyncio.to_thread(command, "directory", "set", "ars-idf", "--no-webhook", "--no-email", env=env)
    assert silenced.returncode == 2
    assert "ars-idf has no channel" in silenced.stdout
    assert json.loads(copy.read_text()) == json.loads(stack.config.recipients_file.read_text()), "nothing saved"

    rotated = await asyncio.to_thread(command, "directory", "set", "ars-idf", "--rotate-secret", env=env)
    assert rotated.returncode == 0
    new_secret = rotated.stdout.split("hand it to the agency): ")[1].strip()
    assert json.loads(copy.read_text())["ars"][5]["webhook"]["secret"] == new_secret
    shown = await asyncio.to_thread(command, "directory", "show", env=env)
    assert new_secret not in shown.stdout

    document: dict[str, Any] = json.loads(copy.read_text())
    document["ars"] = [entry for entry in document["ars"] if entry["code"] != "ars-may"]
    copy.write_text(json.dumps(document))
    refused = await asyncio.to_thread(command, env={**env, "VIGIE_HTTP_PORT": "8299"})
    assert refused.returncode != 0
    assert "no entry for ars-may" in refused.stderr + refused.stdout
