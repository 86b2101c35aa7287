"""One declaration flows through all four services on the real broker and database."""

from collections import Counter, defaultdict

import httpx

from vigie_contracts.finess import with_check_digit
from vigie_contracts.territory import REGIONS
from vigie_stack.receiver import CERT_SANTE, WebhookReceiver
from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..support.pipeline import settle, wait_for_status

# Metropolitan regions, Corsica (both départements) and every overseas region.
STRUCTURES = [
    (finess_in("11", 700101), "11"),
    (finess_in("84", 700102), "84"),
    (finess_in("53", 700103), "53"),
    (finess_in("84", 700104), "84"),
    (with_check_digit("2A700105"), "94"),
    (with_check_digit("2B700106"), "94"),
    (finess_in("01", 700107), "01"),
    (finess_in("02", 700108), "02"),
    (finess_in("03", 700109), "03"),
    (finess_in("04", 700110), "04"),
    (finess_in("06", 700111), "06"),
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
            ("declarant", "email", "sent"),
        }

    await settle(stack)
    all_references = {reference for reference, _ in accepted.values()}
    for code in receiver.secrets:
        new = set(receiver.references(code)) - received_before[code]
        if code == CERT_SANTE:
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
