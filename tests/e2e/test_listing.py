"""Listing: filters, cursor pagination in a stable order, and precise errors for bad queries."""

import asyncio
from datetime import date, timedelta

import httpx

from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..conftest import client


async def test_pages_follow_each_other_without_gaps_or_repeats(stack: Stack, national_api: httpx.AsyncClient) -> None:
    partner = await asyncio.to_thread(stack.credential, "--kind", "partner", "--name", "Lister", "--departement", "21")
    async with client(stack, partner["secret"]) as api:
        posted = []
        for n in range(7):
            response = await api.post(
                "/v1/declarations",
                json=declaration(finess=finess_in("27", 810000 + n), category="malware" if n % 2 else "phishing"),
            )
            posted.append(response.json()["id"])

        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = (await api.get("/v1/declarations", params=params)).json()
            seen += [item["id"] for item in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == 3
        assert seen == list(reversed(posted)), "newest first, each once"

        malware = (await api.get("/v1/declarations", params={"category": "malware"})).json()["items"]
        assert {item["id"] for item in malware} == {posted[n] for n in (1, 3, 5)}
        assert all(item["region"] == {"code": "27", "name": "Bourgogne-Franche-Comté"} for item in malware)

    by_structure = (await national_api.get("/v1/declarations", params={"finess": finess_in("27", 810003)})).json()
    assert [item["id"] for item in by_structure["items"]] == [posted[3]]
    today = date.today()
    recent = (
        await national_api.get(
            "/v1/declarations",
            params={
                "region": "27",
                "from": str(today - timedelta(days=1)),
                "to": str(today + timedelta(days=1)),
            },
        )
    ).json()
    assert set(posted) <= {item["id"] for item in recent["items"]}
    old = (
        await national_api.get("/v1/declarations", params={"region": "27", "to": str(today - timedelta(days=30))})
    ).json()
    assert not set(posted) & {item["id"] for item in old["items"]}
    received = (await national_api.get("/v1/declarations", params={"region": "27", "status": "received"})).json()
    assert all(item["status"] == "received" for item in received["items"])


async def test_bad_queries_get_precise_errors(national_api: httpx.AsyncClient) -> None:
    cases: list[tuple[dict[str, str | int], str]] = [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"region": "99"}, "no region 99"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "after"),
        ({"limit": 0}, "limit"),
        ({"limit": 500}, "limit"),
        ({"category": "hack"}, "category"),
        ({"status": "lost"}, "status"),
        ({"from": "yesterday"}, "from"),
    ]
    for params, words in cases:
        response = await national_api.get("/v1/declarations", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert words in response.text, (params, response.text)
