"""One declaration flows through all four services on the real broker and database, and every
territory's declarations reach its own agency, CERT Santé and the HFDS."""

from collections import Counter, defaultdict
from typing import Any

import httpx

from vigie_contracts.territory import REGIONS
from vigie_stack.receiver import CERT_SANTE, HFDS, WebhookReceiver
from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import settle, wait_for_status

# Metropolitan regions, and every special territory by a number the register gave a real
# structure (sources in contracts/tests/test_finess.py): Corsica's two départements, each overseas
# region, Saint-Martin and Saint-Barthélemy under Guadeloupe's agency. Saint-Pierre-et-Miquelon,
# whose numbers no source we have prints, by its prefix: its ATS stands for an ARS.
STRUCTURES = [
    (finess_in("11", 700101), "11"),
    (finess_in("84", 700102), "84"),
    (finess_in("53", 700103), "53"),
    ("2A0000014", "94"),  # CH d'Ajaccio
    ("2B0000020", "94"),  # CH de Bastia
    ("970100400", "01"),  # CH Louis Constant Fleming, Saint-Martin
    ("970102018", "01"),  # PMI de Saint-Barthélemy
    ("970210126", "02"),  # CMPP Aloès, Martinique
    ("970302022", "03"),  # CH de Cayenne
    ("970400024", "04"),  # CHU de La Réunion, site Félix Guyon
    ("980502199", "06"),  # Mayotte
    (finess_in("975", 700111), "975"),  # Saint-Pierre-et-Miquelon
]


async def region_counts(stats_api: httpx.AsyncClient) -> Counter[str]:
    response = await stats_api.get("/v1/stats", params={"group_by": "region"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == sum(group["count"] for group in body["groups"])
    return Counter({group["key"]: group["count"] for group in body["groups"]})


async def test_each_ars_receives_exactly_its_regions_declarations_and_cert_sante_all(
    stack: Stack, api: httpx.AsyncClient, stats_api: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    await settle(stack)
    stats_before = await region_counts(stats_api)
    received_before = {code: set(receiver.references(code)) for code in receiver.secrets}

    expected_by_ars: dict[str, set[str]] = defaultdict(set)
    accepted = {}
    for finess, region in STRUCTURES:
        response = await api.post("/v1/declarations", json=declaration(finess=finess))
        assert response.status_code == 202, response.text
        body = response.json()
        assert response.headers["location"] == f"/v1/declarations/{body['id']}"
        assert body["status"] == "received"
        accepted[body["id"]] = (body["reference"], region)
        expected_by_ars[REGIONS[region].ars_code].add(body["reference"])

    await wait_for_status(api, list(accepted))
    await settle(stack)  # the e-mails too
    for declaration_id, (reference, region) in accepted.items():
        state = (await api.get(f"/v1/declarations/{declaration_id}")).json()
        assert state["reference"] == reference
        assert state["region"] == {"code": region, "name": REGIONS[region].name}
        assert state["ars"]["code"] == REGIONS[region].ars_code
        told = {(n["recipient"]["code"], n["channel"], n["outcome"]) for n in state["notifications"]}
        ars = REGIONS[region].ars_code
        assert told == {
            (ars, "webhook", "sent"),
            (ars, "email", "sent"),
            (CERT_SANTE, "webhook", "sent"),
            (CERT_SANTE, "email", "sent"),
            (HFDS, "webhook", "sent"),
            (HFDS, "email", "sent"),
            ("declarant", "email", "sent"),
        }

    await settle(stack)
    all_references = {reference for reference, _ in accepted.values()}
    for code in receiver.secrets:
        new = set(receiver.references(code)) - received_before[code]
        if code in (CERT_SANTE, HFDS):
            assert new == all_references
        else:
            assert new == expected_by_ars.get(code, set()), code
        revisions = receiver.revisions(code)
        assert len(revisions) == len(set(revisions)), f"{code} told twice of a revision"
    assert receiver.rejected == []

    stats_after = await region_counts(stats_api)
    assert stats_after - stats_before == Counter(region for _, region in accepted.values())


async def test_stats_count_by_category_and_month_and_refuse_unknown_dimensions(
    stack: Stack, api: httpx.AsyncClient, stats_api: httpx.AsyncClient
) -> None:
    await settle(stack)
    before = (await stats_api.get("/v1/stats", params={"group_by": "category"})).json()
    ids = []
    for category in ("phishing", "phishing", "data_theft"):
        response = await api.post(
            "/v1/declarations", json=declaration(finess=finess_in("28", 700200), category=category)
        )
        ids.append(response.json()["id"])
    await wait_for_status(api, ids)
    await settle(stack)
    after = (await stats_api.get("/v1/stats", params={"group_by": "category"})).json()
    delta = Counter({g["key"]: g["count"] for g in after["groups"]}) - Counter(
        {g["key"]: g["count"] for g in before["groups"]}
    )
    assert delta == Counter({"phishing": 2, "data_theft": 1})
    assert after["total"] == before["total"] + 3

    months = (await stats_api.get("/v1/stats", params={"group_by": "month"})).json()
    assert months["total"] == after["total"]
    assert all(len(g["key"]) == 7 and g["key"][4] == "-" for g in months["groups"])

    refused = await stats_api.get("/v1/stats", params={"group_by": "planet"})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert "unknown dimension planet" in refused.json()["detail"]


async def counts_by(stats_api: httpx.AsyncClient, group_by: str) -> Counter[Any]:
    body = (await stats_api.get("/v1/stats", params={"group_by": group_by})).json()
    return Counter({tuple(g["key"]) if isinstance(g["key"], list) else g["key"]: g["count"] for g in body["groups"]})


async def test_the_national_forms_dimensions_are_counted_and_exported(
    stack: Stack, api: httpx.AsyncClient, stats_api: httpx.AsyncClient
) -> None:
    await settle(stack)
    dimensions = ["legal_status", "regime", "territorial_extent", "data_unavailable", "data_integrity",
                  "data_disclosure", "care_interrupted", "regime,data_unavailable"]  # fmt: skip
    before = {d: await counts_by(stats_api, d) for d in dimensions}
    hospital = declaration(
        finess=finess_in("76", 700301), regime="ose", legal_status="public", territorial_extent="departmental"
    )
    hospital["impacts"].update(data_unavailable=True, care_interrupted=True)
    clinic = declaration(finess=finess_in("76", 700302), legal_status="private_for_profit", regime="nis2_important")
    clinic["impacts"].update(data_integrity=True, data_disclosure=True)
    older = declaration(finess=finess_in("76", 700303), essential_operator=True)  # says nothing of the form's fields
    ids = [(await api.post("/v1/declarations", json=payload)).json()["id"] for payload in (hospital, clinic, older)]
    await wait_for_status(api, ids)
    await settle(stack)
    delta = {d: await counts_by(stats_api, d) - before[d] for d in dimensions}
    assert delta["legal_status"] == Counter({"public": 1, "private_for_profit": 1, "not_stated": 1})
    assert delta["regime"] == Counter({"ose": 1, "nis2_important": 1, "nis2_essential": 1})
    assert delta["territorial_extent"] == Counter({"departmental": 1, "not_stated": 2})
    assert delta["data_unavailable"] == Counter({True: 1, False: 2})
    assert delta["data_integrity"] == Counter({True: 1, False: 2})
    assert delta["data_disclosure"] == Counter({True: 1, False: 2})
    assert delta["care_interrupted"] == Counter({True: 1, False: 2})
    assert delta["regime,data_unavailable"] == Counter(
        {("ose", True): 1, ("nis2_important", False): 1, ("nis2_essential", False): 1}
    )
    exported = await stats_api.get("/v1/stats", params={"group_by": "regime", "format": "csv"})
    assert exported.status_code == 200
    assert exported.text.splitlines()[0].startswith("regime,")
