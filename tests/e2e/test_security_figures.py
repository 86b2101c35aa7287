"""Findings 1 and 2 of the security review, as a stranger and as each kind of credential tries
them: exact figures for no one without a credential (the count of 1 that named a Corsican
radiotherapy centre on one day), the publishable form over whole calendar periods only, and the
operators' metrics for the operators."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..conftest import reads_figures
from ..support.pipeline import scrape, settle

YEAR = 2022  # a year of its own: the observatory's tests publish 2024
DAY = date(YEAR, 6, 14)


@pytest_asyncio.fixture(scope="module")
async def corsica(stack: Stack, api: httpx.AsyncClient) -> dict[str, Any]:
    """One radiotherapy centre in Corsica declares, alone that day, alone in its cell."""
    payload = declaration(
        finess=finess_in("94", 4201),
        structure_type="radiotherapy_centre",
        detected_at=datetime(YEAR, DAY.month, DAY.day, 9, tzinfo=UTC),
    )
    response = await api.post("/v1/declarations", json=payload)
    assert response.status_code == 202, response.text
    await settle(stack)
    return payload


@pytest_asyncio.fixture(scope="module")
async def ars_corse(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    created = await asyncio.to_thread(
        stack.credential, "--kind", "ars", "--name", "ARS Corse (tests)", "--region", "94"
    )
    headers = {"Authorization": f"Bearer {created['secret']}"}
    async with httpx.AsyncClient(base_url=stack.config.service_url("stats"), headers=headers, timeout=30) as client:
        await reads_figures(client)
        yield client


ONE_DAY = {"from": str(DAY), "to": str(DAY)}


async def test_a_stranger_gets_no_exact_figure_from_any_view(
    corsica: dict[str, Any], public_stats: httpx.AsyncClient
) -> None:
    # The review's request: without any token, a count of 1 for one radiotherapy centre in Corsica.
    response = await public_stats.get("/v1/stats", params={"group_by": "region,structure_type", **ONE_DAY})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "whole calendar months, quarters or years" in response.json()["detail"]
    # Asking for exact figures outright is refused, and says what would open them.
    cases: list[tuple[str, dict[str, Any]]] = [
        ("/v1/stats", {"group_by": "region", "public": "false", **ONE_DAY}),
        ("/v1/stats/structures", {"public": "false", **ONE_DAY}),
        ("/v1/stats/delivery", {"public": "false", **ONE_DAY}),
        ("/v1/stats/compare", {"group_by": "category", "public": "false", "year": YEAR}),
        ("/v1/stats", {"group_by": "region", "public": "false", "format": "csv", **ONE_DAY}),
    ]
    for path, params in cases:
        refused = await public_stats.get(path, params=params)
        assert refused.status_code == 401, (path, refused.text)
        assert refused.json()["detail"].startswith("exact figures are for ARS and CERT Santé credentials")
        assert refused.headers["www-authenticate"] == "Bearer"
    # By default a stranger reads what is published, and this year is not.
    unpublished_views: list[tuple[str, dict[str, Any]]] = [
        ("/v1/stats", {"group_by": "region", "from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"}),
        ("/v1/stats/structures", {"from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"}),
        ("/v1/stats/delivery", {"from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31", "format": "csv"}),
        ("/v1/stats/compare", {"group_by": "category", "year": YEAR}),
    ]
    for path, params in unpublished_views:
        unpublished = await public_stats.get(path, params=params)
        assert unpublished.status_code == 404, (path, unpublished.text)
        assert unpublished.json()["detail"].startswith(f"the figures of {YEAR} are not published")


async def test_the_dashboard_without_a_credential_shows_no_exact_count(
    stack: Stack, corsica: dict[str, Any], public_stats: httpx.AsyncClient
) -> None:
    page = await public_stats.get("/tableau-de-bord", params={"year": YEAR})
    assert page.status_code == 200
    assert 'data-testid="nothing-published"' in page.text
    assert "public=false" not in page.text
    assert 'href="/connexion"' in page.text
    assert page.headers["cache-control"] == "private, no-store"


async def test_an_ars_reads_its_own_region_exactly_and_nothing_else(
    corsica: dict[str, Any], ars_corse: httpx.AsyncClient
) -> None:
    body = (await ars_corse.get("/v1/stats", params={"group_by": "region,structure_type", **ONE_DAY})).json()
    assert body == {
        "total": 1,
        "groups": [{"key": ["94", "radiotherapy_centre"], "count": 1}],
        "public": False,
        "region": "94",
    }
    everywhere = (await ars_corse.get("/v1/stats", params={"group_by": "region"})).json()
    assert {g["key"] for g in everywhere["groups"]} <= {"94"}
    delivery = (await ars_corse.get("/v1/stats/delivery")).json()
    assert {g["key"] for g in delivery["groups"]} <= {"94"}
    response = await ars_corse.get("/v1/stats", params={"group_by": "region"})
    assert response.headers["cache-control"] == "private, no-store"


async def test_credentials_that_read_no_figures_are_refused(
    stack: Stack, credentials: dict[str, dict[str, str]], public_stats: httpx.AsyncClient
) -> None:
    for secret, why in [
        (credentials["partner"]["secret"], "a partner reads its declarations, not figures"),
        ("vign_" + "x" * 43, "a secret nobody was given"),
        ("not a token at all", "garbage"),
    ]:
        refused = await public_stats.get(
            "/v1/stats", params={"group_by": "region"}, headers={"Authorization": f"Bearer {secret}"}
        )
        assert refused.status_code == 401, why
        assert "unknown or revoked" in refused.json()["detail"], why


async def test_a_revoked_national_credential_stops_reading_figures(stack: Stack) -> None:
    created = await asyncio.to_thread(stack.credential, "--kind", "national", "--name", "Analyste partie")
    headers = {"Authorization": f"Bearer {created['secret']}"}
    async with httpx.AsyncClient(base_url=stack.config.service_url("stats"), headers=headers) as client:
        await reads_figures(client)
        revoked = await asyncio.to_thread(stack.services["declaration"].command, "credentials", "revoke", created["id"])
        assert revoked.returncode == 0, revoked.stdout
        for _ in range(100):
            answer = await client.get("/v1/stats", params={"group_by": "region"})
            if answer.status_code == 401:
                break
            await asyncio.sleep(0.1)
        assert answer.status_code == 401


async def test_publishable_figures_cover_whole_calendar_periods_only(
    corsica: dict[str, Any], public_stats: httpx.AsyncClient, stats_api: httpx.AsyncClient
) -> None:
    # The review's differencing: the year to date, minus the year to yesterday.
    today = datetime.now(UTC).date()
    for end in (today, today - timedelta(days=1)):
        response = await public_stats.get(
            "/v1/stats", params={"group_by": "region", "public": "true", "from": f"{today.year}-01-01", "to": str(end)}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "from"
    for bad in [("2022-02-01", "2022-04-30"), ("2022-01-15", "2022-02-14"), ("2021-07-01", "2022-06-30")]:
        response = await public_stats.get(
            "/v1/stats", params={"group_by": "region", "public": "true", "from": bad[0], "to": bad[1]}
        )
        assert response.status_code == 422, bad
        assert (
            "not a calendar month, quarter" in response.json()["detail"]
            or "whole calendar" in response.json()["detail"]
        )
    # A year is published once it has ended, once, by CERT Santé.
    this_year = await stats_api.post(f"/v1/stats/publications/{today.year}")
    assert this_year.status_code == 422
    assert this_year.json()["detail"] == f"{today.year} has not ended: a year's figures are published once it has"
    refused = await public_stats.post(f"/v1/stats/publications/{YEAR}")
    assert refused.status_code == 401
    published = await stats_api.post(f"/v1/stats/publications/{YEAR}")
    assert published.status_code == 201, published.text
    again = await stats_api.post(f"/v1/stats/publications/{YEAR}")
    assert again.status_code == 409
    # Published, the lone Corsican centre reads "<5" in every period that holds it.
    for first, last in [
        (f"{YEAR}-06-01", f"{YEAR}-06-30"),
        (f"{YEAR}-04-01", f"{YEAR}-06-30"),
        (f"{YEAR}-01-01", f"{YEAR}-12-31"),
    ]:
        body = (await public_stats.get("/v1/stats", params={"group_by": "region", "from": first, "to": last})).json()
        assert {g["key"]: g["count"] for g in body["groups"]}["94"] == "<5"
    two_dimensions = await public_stats.get(
        "/v1/stats", params={"group_by": "region,structure_type", "from": f"{YEAR}-06-01", "to": f"{YEAR}-06-30"}
    )
    assert two_dimensions.status_code == 422
    assert "crossed over a whole year only" in two_dimensions.json()["detail"]


async def test_metrics_are_for_the_operators_scraper(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.config.service_url("notification")) as client:
        anonymous = await client.get("/metrics")
        assert anonymous.status_code == 401
        assert "vigie_delivery_attempts_total" not in anonymous.text
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
    samples = await scrape(stack, "notification")  # with the operators' token
    assert any(name == "vigie_delivery_attempts_total" for name, _ in samples)


@pytest.mark.parametrize("service", ["declaration", "stats"])
async def test_a_secret_in_a_url_is_refused_before_any_route(stack: Stack, service: str) -> None:
    async with httpx.AsyncClient(base_url=stack.config.service_url(service)) as client:
        response = await client.get(
            "/v1/stats" if service == "stats" else "/v1/declarations", params={"access_token": "vign_" + "a" * 43}
        )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("a credential goes in the Authorization header, never in a URL")
