"""Patient numbers never travel: masked before storage, before publishing, before any agency
reads them, and the answer says how many were masked."""

import httpx

from vigie_declaration.domain.privacy import MASK, nir_key
from vigie_stack.receiver import WebhookReceiver
from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import query, read_topic, settle, wait_for_status


def nir(first_thirteen: str) -> str:
    return first_thirteen + f"{nir_key(first_thirteen):02d}"


async def test_social_security_numbers_are_masked_everywhere_they_could_travel(
    stack: Stack, api: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    compact = nir("1850578006084")
    corsican = nir("285052B006084")
    spaced = " ".join([(n := nir("2940375120005"))[0], n[1:3], n[3:5], n[5:7], n[7:10], n[10:13], n[13:]])
    not_a_nir = "1850578006084" + f"{(nir_key('1850578006084') + 1) % 97:02d}"
    payload = declaration(
        finess=finess_in("44", 800001),
        description=f"Dossiers de {compact}, {corsican} et {spaced} exposés ; ticket {not_a_nir}.",
    )
    payload["provider"] = {"name": f"Hébergeur {compact}"}

    response = await api.post("/v1/declarations", json=payload)
    assert response.status_code == 202
    assert response.json()["redactions"] == {"nir": 4}
    declaration_id = response.json()["id"]
    state = (await wait_for_status(api, [declaration_id]))[declaration_id]
    assert state["declaration"]["description"] == f"Dossiers de {MASK}, {MASK} et {MASK} exposés ; ticket {not_a_nir}."
    assert state["declaration"]["provider"]["name"] == f"Hébergeur {MASK}"
    assert state["redactions"] == {"nir": 4}

    await settle(stack)
    stored = await query(
        stack,
        "declaration",
        "SELECT content::text, (SELECT string_agg(content::text, '') FROM declaration_revisions WHERE declaration_id = $1) FROM declarations WHERE id = $1",
        declaration_id,
    )
    events = [
        r.value or b""
        for topic in ("declaration.submitted.v1", "declaration.enriched.v1")
        for r in await read_topic(stack, topic)
        if r.key == declaration_id.encode()
    ]
    webhooks = [
        str(r.body)
        for code in receiver.received
        for r in receiver.received[code]
        if r.body["declaration_id"] == declaration_id
    ]
    assert events
    assert webhooks
    for number in (compact, corsican, spaced):
        assert number not in "".join(stored[0]), "stored"
        assert all(number.encode() not in value for value in events), "published"
        assert all(number not in body for body in webhooks), "sent to an agency"
    assert all(not_a_nir.encode() in value for value in events), "other numbers travel untouched"


async def test_a_revision_is_masked_too(api: httpx.AsyncClient) -> None:
    created = await api.post("/v1/declarations", json=declaration(finess=finess_in("44", 800002)))
    declaration_id = created.json()["id"]
    revised = await api.post(
        f"/v1/declarations/{declaration_id}/revisions",
        json={
            "kind": "update",
            "based_on": 1,
            "changes": {"description": f"Patient {nir('1850578006084')}"},
        },
    )
    assert revised.json()["redactions"] == {"nir": 1}
    state = (await api.get(f"/v1/declarations/{declaration_id}")).json()
    assert state["declaration"]["description"] == f"Patient {MASK}"
    assert state["revisions"][1]["redactions"] == {"nir": 1}
