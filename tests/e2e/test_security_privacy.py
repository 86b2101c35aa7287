"""Findings 4 and 5 of the security review: a social security number masked in the description
was kept and served in the revision's changes (and missed when split by tabs, glued to letters,
written "/ 91" before its key, or without it, and in indicators); and a partner learnt from its
own declaration how many incidents other partners had declared for a structure, an indicator
or a provider."""

import asyncio
from typing import Any

import httpx

from vigie_declaration.domain.privacy import MASK
from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..conftest import client
from ..support.pipeline import query, read_topic, settle, wait_for_status

# Published: "2 06 12 75 111 005 … sa clé est : 64" (lbcd78.fr, 2007-02-26).
NIR = "2 06 12 75 111 005 64"
SPELLINGS = {
    "compact": NIR.replace(" ", ""),
    "tabs": NIR.replace(" ", "\t"),
    "double spaces": NIR.replace(" ", "  "),
    "glued": "NIR" + NIR.replace(" ", ""),
    "slash before the key": "2 06 12 75 111 005 / 64",
    "without its key": "2 06 12 75 111 005",
}


async def test_a_nir_in_a_revision_is_masked_in_its_changes_and_everywhere_else(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    payload = declaration(finess=finess_in("44", 7201))
    payload["indicators"] = [{"type": "url", "value": f"https://phish.example/?nir={NIR.replace(' ', '')}"}]
    payload["declarant"]["name"] = f"Claire {SPELLINGS['glued']}"
    created = await api.post("/v1/declarations", json=payload)
    assert created.status_code == 202
    assert created.json()["redactions"] == {"nir": 2}
    declaration_id = created.json()["id"]
    await wait_for_status(api, [declaration_id])
    for n, (how, written) in enumerate(SPELLINGS.items(), start=1):
        revised = await api.post(
            f"/v1/declarations/{declaration_id}/revisions",
            json={"kind": "update", "based_on": n, "changes": {"description": f"Le patient {written} ({how})."}},
        )
        assert revised.status_code == 202, how
        assert revised.json()["redactions"] == {"nir": 1}, how
    state = (await api.get(f"/v1/declarations/{declaration_id}")).json()
    for how, revision in zip(SPELLINGS, state["revisions"][1:], strict=True):
        masked = f"NIR{MASK}" if how == "glued" else MASK
        assert revision["changes"] == {"description": f"Le patient {masked} ({how})."}
        assert revision["redactions"] == {"nir": 1}
    assert state["declaration"]["indicators"] == [{"type": "url", "value": f"https://phish.example/?nir={MASK}"}]
    assert state["declaration"]["declarant"]["name"] == f"Claire NIR{MASK}"
    await settle(stack)
    stored = await query(
        stack,
        "declaration",
        "SELECT string_agg(changes::text || content::text, '') FROM declaration_revisions WHERE declaration_id = $1",
        declaration_id,
    )
    published = [
        r.value or b""
        for t in ("declaration.submitted.v1", "declaration.enriched.v1")
        for r in await read_topic(stack, t)
    ]
    for text in [stored[0][0], *(v.decode() for v in published if declaration_id.encode() in v)]:
        assert "2061275111005" not in text.replace(" ", "").replace("\\t", "")


async def _partner(stack: Stack, name: str) -> dict[str, str]:
    return await asyncio.to_thread(stack.credential, "--kind", "partner", "--name", name, "--departement", "*")


async def test_a_partner_learns_nothing_of_other_partners_declarations(
    stack: Stack, national_api: httpx.AsyncClient
) -> None:
    structure = finess_in("76", 7202)
    shared = {"type": "domain", "value": "campagne-vigie-tests.example"}
    first, newcomer = await _partner(stack, "Partenaire ancien"), await _partner(stack, "Partenaire nouveau")
    async with client(stack, first["secret"]) as a, client(stack, newcomer["secret"]) as b:
        earlier = []
        for _n in range(2):
            payload = declaration(finess=structure, indicators=[shared])
            payload["provider"] = {"name": "Hébergeur mutualisé des tests"}
            payload["category"] = "provider_incident"
            earlier.append((await a.post("/v1/declarations", json=payload)).json()["id"])
        await wait_for_status(a, earlier)
        probe = declaration(finess=structure, indicators=[shared])
        probe["provider"] = {"name": "Hébergeur mutualisé des tests"}
        # Grave and regional: significatif for whoever sees the campaign it belongs to.
        probe["impacts"].update(degraded_mode=True, territorial_extent="regional")
        mine = (await b.post("/v1/declarations", json=probe)).json()["id"]
        await wait_for_status(b, [mine])
        await settle(stack)
        seen: dict[str, Any] = (await b.get(f"/v1/declarations/{mine}")).json()
    whole = (await national_api.get(f"/v1/declarations/{mine}")).json()
    # CERT Santé sees the campaign, the parent incident and the structure's recurrence.
    assert whole["threat_context"]["structure_incidents_12_months"] == 3
    assert whole["threat_context"]["campaigns"]
    assert whole["threat_context"]["parent_incident"] is not None
    assert any("campagne" in r["text"] for r in whole["severity"]["reasons"])
    # The newcomer, only what its own declaration gives.
    context = seen["threat_context"]
    assert context["structure_incidents_12_months"] is None
    assert context["campaigns"] == []
    assert context["parent_incident"] is None
    assert not any("campagne" in r["text"] or "prestataire" in r["text"] for r in seen["severity"]["reasons"])
    assert "3" not in str(seen["severity"])
    assert "déclarations liées" not in str(seen)


async def test_a_partner_reads_transmitted_to_its_ars_and_no_delivery_internals(
    stack: Stack, api: httpx.AsyncClient, national_api: httpx.AsyncClient
) -> None:
    created = (await api.post("/v1/declarations", json=declaration(finess=finess_in("94", 7203)))).json()["id"]
    await wait_for_status(api, [created])
    await settle(stack)
    partner_view = (await api.get(f"/v1/declarations/{created}")).json()
    transmitted = [t for t in partner_view["timeline"] if t["what"] == "transmitted"]
    messages = {t["detail"]["message"] for t in transmitted}
    assert "transmis à l'ARS Corse" in messages
    assert "transmis au CERT Santé (Agence du numérique en santé)" in messages
    assert not any(t["what"].startswith("notification ") for t in partner_view["timeline"])
    assert all(n["error"] is None and n["outcome"] == "sent" for n in partner_view["notifications"])
    assert "http" not in str(partner_view["timeline"])
    national_view = (await national_api.get(f"/v1/declarations/{created}")).json()
    assert any(t["what"] == "notification sent" for t in national_view["timeline"])
