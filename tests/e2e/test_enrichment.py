"""Threat context on realistic declarations, on the real stack with the sample intelligence
loaded: a ransomware at a CHU through KEV-listed VPN CVEs, a phishing wave across three EHPAD,
a provider outage at several labs, an accidental failure with nothing to match."""

import asyncio
from typing import Any

import httpx

from vigie_contracts.finess import with_check_digit
from vigie_stack.samples import declaration
from vigie_stack.stack import Stack

from ..support.pipeline import query, read_topic, scalar, settle, wait_for_status, wait_until


async def declare(api: httpx.AsyncClient, payload: dict[str, Any]) -> str:
    response = await api.post("/v1/declarations", json=payload)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def enriched(api: httpx.AsyncClient, national_api: httpx.AsyncClient, ids: list[str]) -> list[dict[str, Any]]:
    await wait_for_status(api, ids)
    return [(await national_api.get(f"/v1/declarations/{i}")).json() for i in ids]


async def test_a_ransomware_at_a_chu_through_kev_listed_vpn_cves(
    api: httpx.AsyncClient, national_api: httpx.AsyncClient
) -> None:
    payload = declaration(
        finess=with_check_digit("13078400"),
        name="CHU de Méditerranée",
        essential_operator=True,
        degraded_mode=True,
        patient_safety="potential",
        description=(
            "Chiffrement des serveurs après intrusion par le VPN SSL (FortiGate non corrigé). "
            "Connexions sortantes vers 185.234.218[.]52, note de rançon LockBit."
        ),
        indicators=[{"type": "cve", "value": "CVE-2018-13379"}, {"type": "cve", "value": "cve-2023-27997"}],
    )
    payload["scope"] = ["vpn", "servers", "directory"]
    # The region's patients are sent elsewhere: repercussions beyond the structure, and the
    # ransomware CVE exposes other structures: both conditions of art. D1111-16-2 III.
    payload["impacts"]["territorial_extent"] = "regional"
    (state,) = await enriched(api, national_api, [await declare(api, payload)])

    severity = state["severity"]
    assert (severity["grave"], severity["significatif"], severity["nis2_significant"]) == (True, True, True)
    texts = [reason["text"] for reason in severity["reasons"]]
    assert "La sécurité des soins peut être mise en danger (conséquence potentielle)." in texts
    assert any("CVE-2018-13379" in text and "rançongiciel" in text for text in texts)
    assert not any("CVE-2023-27997" in text for text in texts), "KEV does not list it as used by ransomware"

    context = state["threat_context"]
    assert context["classification"]["rsit"][:2] == [
        'rsit:malicious-code="infected-system"',
        'rsit:information-content-security="unauthorised-information-modification"',
    ]
    assert {t["id"] for t in context["classification"]["attack"]} >= {"T1486", "T1133", "T1190"}
    assert 'nis2:impact-severity="red"' in context["classification"]["nis2"]
    assert {(i["type"], i["value"], i["origin"]) for i in context["indicators"]} == {
        ("cve", "CVE-2018-13379", "declared"),
        ("cve", "CVE-2023-27997", "declared"),
        ("ipv4", "185.234.218.52", "text"),
    }
    kev = {m["value"]: m["kev"] for m in context["matches"] if m["kev"]}
    assert kev["CVE-2018-13379"]["known_ransomware_use"] is True
    assert kev["CVE-2018-13379"]["vendor"] == "Fortinet"
    assert kev["CVE-2023-27997"]["known_ransomware_use"] is False
    c2 = [m for m in context["matches"] if m["value"] == "185.234.218.52"]
    assert {m["source"] for m in c2} == {"misp:sample-feed", "stix:sample-bundle"}
    assert {m["malware"] for m in c2} == {"LockBit"}
    assert any(m["threat_actor"] == "LockBit affiliate (exemple)" for m in c2)


async def test_a_phishing_wave_across_three_ehpad_is_one_campaign(
    api: httpx.AsyncClient, national_api: httpx.AsyncClient
) -> None:
    ids = []
    for n, (departement, page) in enumerate([("44", "espace/connexion"), ("49", "remboursement"), ("85", "compte")]):
        ids.append(
            await declare(
                api,
                declaration(
                    finess=with_check_digit(f"{departement}0790{n:02d}"),
                    structure_type="medico_social",
                    category="phishing",
                    name=f"EHPAD {n}",
                    # the domain named alone and as the page's host: one link, not two
                    description=f"Courriel « remboursement » menant à hxxps://ameli-remboursement[.]top/{page} ;"
                    " un compte saisi. Domaine à bloquer : ameli-remboursement[.]top.",
                ),
            )
        )
    await enriched(api, national_api, ids)
    # each shows the campaign's latest size, the first ones too, told of it when it formed
    await wait_for_campaign(national_api, ids, size=3)
    states = [(await national_api.get(f"/v1/declarations/{i}")).json() for i in ids]
    campaign_ids = set()
    for state in states:
        context = state["threat_context"]
        assert context["classification"]["rsit"] == ['rsit:fraud="phishing"']
        assert [t["id"] for t in context["classification"]["attack"]] == ["T1566"]
        campaign = next(c for c in context["campaigns"] if c["key"] == "domain:ameli-remboursement.top")
        assert campaign["kind"] == "indicator"
        assert campaign["label"] == "Domaine partagé ameli-remboursement.top"
        assert campaign["declarations"] == 3
        campaign_ids.add(campaign["id"])
        assert any(m["threat_actor"] == "Campagne « Remboursement Ameli » (exemple)" for m in context["matches"])
        # Nothing grave declared: never significatif, campaign or not (art. D1111-16-2 III picks
        # significant incidents among the grave ones); the campaign shows in the threat context.
        assert (state["severity"]["grave"], state["severity"]["significatif"]) == (False, False)
        assert state["severity"]["reasons"] == []
        assert state["status"] == "notified"
    assert len(campaign_ids) == 1


async def test_a_growing_campaign_tells_its_members_once_and_each_shows_its_latest_size(
    stack: Stack, api: httpx.AsyncClient, national_api: httpx.AsyncClient
) -> None:
    ids = []
    for n in range(6):
        payload = declaration(
            finess=with_check_digit(f"{21 + n}0795{n:02d}"),
            category="intrusion",
            name=f"Centre hospitalier {n}",
            description="Connexions sortantes vers le serveur de commande maj-dpi-exemple[.]top.",
            degraded_mode=True,
        )
        payload["impacts"]["territorial_extent"] = "departmental"
        ids.append(await declare(api, payload))
        # one at a time: each joins the campaign the ones before it formed
        await enriched(api, national_api, [ids[-1]])
    await wait_for_campaign(national_api, ids, size=6)
    await settle(stack)
    told: dict[str, int] = dict.fromkeys(ids, 0)
    for record in await read_topic(stack, "declaration.enriched.v1"):
        declaration_id = record.key.decode() if record.key else ""
        if declaration_id in told:
            told[declaration_id] += 1
    # Its own enrichment each, and the first once more when the second formed the campaign with
    # it; nobody again as the campaign grew past 3 and 5.
    assert told == {ids[0]: 2, **dict.fromkeys(ids[1:], 1)}
    first = (await national_api.get(f"/v1/declarations/{ids[0]}")).json()
    (campaign,) = first["threat_context"]["campaigns"]
    assert (campaign["key"], campaign["declarations"]) == ("domain:maj-dpi-exemple.top", 6)
    # Grave, departmental, and one of a campaign: significatif, with the size each decision was
    # made on (the first, decided again when the second joined it, saw two).
    for n, declaration_id in enumerate(ids):
        severity = (await national_api.get(f"/v1/declarations/{declaration_id}")).json()["severity"]
        said = [r["text"] for r in severity["reasons"] if "campagne (" in r["text"]]
        assert said == [
            f"L'incident fait partie d'une campagne ({max(n + 1, 2)} déclarations liées lors de l'évaluation)."
        ]
        assert severity["significatif"] is True


async def wait_for_campaign(national_api: httpx.AsyncClient, ids: list[str], *, size: int) -> None:
    async def linked() -> bool:
        for declaration_id in ids:
            state = (await national_api.get(f"/v1/declarations/{declaration_id}")).json()
            campaigns = (state.get("threat_context") or {}).get("campaigns", [])
            if not any(c["declarations"] >= size for c in campaigns):
                return False
        return True

    await wait_until(linked, timeout=30, what=f"a campaign of {size}")


async def test_a_provider_outage_at_several_labs_hangs_under_one_parent_incident(
    stack: Stack, api: httpx.AsyncClient, national_api: httpx.AsyncClient
) -> None:
    ids = []
    for n, provider in enumerate(["BioCloud Hébergement SAS", "BIOCLOUD HEBERGEMENT", "Biocloud hébergement"]):
        payload = declaration(
            finess=with_check_digit(f"{59 + n}0791{n:02d}"),
            structure_type="biology_lab",
            category="provider_incident",
            origin="accidental",
            name=f"Laboratoire {n}",
            degraded_mode=True,
            description="Le système de gestion du laboratoire, hébergé chez le prestataire, est indisponible.",
        )
        payload["provider"] = {"name": provider}
        payload["scope"] = ["provider_hosted", "lab"]
        # Results late for the département's hospitals: repercussions beyond the laboratory.
        payload["impacts"]["territorial_extent"] = "departmental"
        ids.append(await declare(api, payload))
    await enriched(api, national_api, ids)
    await wait_for_campaign(national_api, ids, size=3)
    states = [(await national_api.get(f"/v1/declarations/{i}")).json() for i in ids]
    parents = {state["threat_context"]["parent_incident"]["id"] for state in states}
    assert len(parents) == 1
    parent = states[0]["threat_context"]["parent_incident"]
    assert (parent["kind"], parent["key"], parent["declarations"]) == ("provider", "biocloud hebergement", 3)
    for state in states:
        assert state["threat_context"]["classification"]["rsit"] == ['rsit:availability="outage"']
        assert 'nis2:nature-root-cause="third-party-failures"' in state["threat_context"]["classification"]["nis2"]
        assert state["severity"]["significatif"] is True
        assert any("prestataire partagé" in r["text"] for r in state["severity"]["reasons"])
    members = await scalar(
        stack, "enrichment", "SELECT count(*) FROM campaign_members WHERE campaign_id = $1::uuid", parent["id"]
    )
    assert members == 3


async def test_an_accidental_failure_with_no_indicator_is_classified_without_context(
    api: httpx.AsyncClient, national_api: httpx.AsyncClient
) -> None:
    payload = declaration(
        finess=with_check_digit("63079200"),
        structure_type="radiotherapy_centre",
        category="technical_failure",
        origin="accidental",
        degraded_mode=True,
        description="Panne de la baie de stockage des plans de traitement, séances reportées.",
    )
    (state,) = await enriched(api, national_api, [await declare(api, payload)])
    context = state["threat_context"]
    assert context["indicators"] == []
    assert context["matches"] == []
    assert context["campaigns"] == []
    assert context["parent_incident"] is None
    assert context["classification"]["rsit"] == ['rsit:availability="outage"']
    assert context["classification"]["attack"] == []
    assert 'nis2:nature-root-cause="system-failures"' in context["classification"]["nis2"]
    assert state["severity"]["grave"] is True
    assert state["severity"]["significatif"] is False
    assert [r["text"] for r in state["severity"]["reasons"]] == [
        "Le fonctionnement normal de la structure est perturbé (mode dégradé)."
    ]


async def test_a_structure_that_declares_again_shows_its_recurrence(
    api: httpx.AsyncClient, national_api: httpx.AsyncClient
) -> None:
    finess = with_check_digit("35079300")
    first = await declare(api, declaration(finess=finess, category="malware"))
    second = await declare(api, declaration(finess=finess, category="phishing"))
    states = await enriched(api, national_api, [first, second])
    assert sorted(s["threat_context"]["structure_incidents_12_months"] for s in states) == [1, 2]


async def test_reloading_intelligence_is_idempotent_and_a_malformed_file_changes_nothing(
    stack: Stack, tmp_path: Any
) -> None:
    command = stack.services["enrichment"].command
    before = await query(
        stack, "enrichment", "SELECT source, count(*) AS n FROM ti_indicators GROUP BY source ORDER BY source"
    )
    again = await asyncio.to_thread(command, "intel", "load", "--samples")
    assert again.returncode == 0
    assert again.stdout.count("unchanged") == 3
    bad = tmp_path / "bundle.json"
    bad.write_text('{"type": "bundle", "objects": [{"type": "indicator", "id": "indicator--x", "pattern": "nope"}]}')
    refused = await asyncio.to_thread(command, "intel", "load", "--stix", str(bad), "--source", "stix:sample-bundle")
    assert refused.returncode == 2
    assert "refused, nothing loaded" in refused.stdout
    assert "not a STIX comparison" in refused.stdout
    after = await query(
        stack, "enrichment", "SELECT source, count(*) AS n FROM ti_indicators GROUP BY source ORDER BY source"
    )
    assert after == before
    await settle(stack)
