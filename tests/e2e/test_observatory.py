"""The national observatory, checked against a realistic year of declarations posted through the
API (every region and structure type, structures that declare again and again, a year before it
to compare with): every figure is computed independently here from what was posted."""

import asyncio
import csv
import io
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import async_playwright

from vigie_contracts.finess import parse_finess, with_check_digit
from vigie_contracts.territory import DEPARTEMENTS, REGIONS
from vigie_stack.samples import declaration
from vigie_stack.stack import Stack
from vigie_stats.domain.disclosure import MASKED, UNDER

from ..support.differencing import PublishedTable, bounds_of, months_of, pairs, worked_out
from ..support.pipeline import query, settle

PARIS = ZoneInfo("Europe/Paris")
YEAR, LAST = 2024, 2023
TYPES = ["health_facility", "medico_social", "biology_lab", "radiotherapy_centre", "other"]
CATEGORIES = ["ransomware", "phishing", "account_compromise", "malware", "denial_of_service", "intrusion",
              "data_theft", "vulnerability_exploitation", "technical_failure", "human_error", "equipment_theft"]  # fmt: skip
# A département of each region, as the first characters of a FINESS number.
PREFIXES = {
    "01": "97010", "02": "97020", "03": "97030", "04": "97040", "06": "98050", "975": "97050", "11": "930", "24": "370",
    "27": "250", "28": "140", "32": "800", "44": "510", "52": "490", "53": "290", "75": "870", "76": "340",
    "84": "380", "93": "840", "94": "2B0",
}  # fmt: skip


@dataclass
class Posted:
    payload: dict[str, Any]
    region: str
    year: int
    id: str = ""


def the_year() -> list[Posted]:
    rng = random.Random(2024)
    posted = []
    regions = list(REGIONS)
    for index in range(7 * len(regions)):  # 7 structures per region, every type in every region band
        region = regions[index % len(regions)]
        prefix = PREFIXES[region]
        finess = with_check_digit(prefix + str(index).zfill(8 - len(prefix)))
        kind = TYPES[index % len(TYPES)]
        # What a structure says of itself, or does not (the national form's fields are optional).
        legal_status = rng.choice([None, "public", "private_non_profit", "private_for_profit"])
        regime = rng.choice([None, "ose", "nis2_essential", "nis2_important", "none"])
        times = rng.choices([1, 1, 1, 2, 3, 5, 6], k=1)[0]
        for _ in range(times):
            year = YEAR if rng.random() < 0.8 else LAST
            detected = datetime(year, 1, 1, 8, tzinfo=UTC) + timedelta(minutes=rng.randrange(365 * 24 * 60 - 24 * 60))
            category = rng.choice(CATEGORIES)
            payload = declaration(
                finess=finess,
                structure_type=kind,
                category=category,
                origin="accidental"
                if category in ("technical_failure", "human_error")
                else rng.choice(["malicious", "malicious", "unknown"]),
                detected_at=detected,
                degraded_mode=rng.random() < 0.3,
                patient_safety=rng.choice(["none", "none", "none", "potential", "proven"]),
                support_requested=rng.random() < 0.4,
                legal_status=legal_status,
                regime=regime,
                territorial_extent=rng.choice([None, "local", "departmental", "regional", "national"]),
            )
            payload["impacts"]["care_interrupted"] = rng.random() < 0.1
            payload["impacts"]["data_unavailable"] = payload["impacts"]["degraded_mode"]
            payload["impacts"]["data_integrity"] = rng.random() < 0.1
            payload["impacts"]["data_disclosure"] = rng.random() < 0.15
            posted.append(Posted(payload, region, year))
    return posted


def severity_of(payload: dict[str, Any]) -> str:
    """Grave and significatif, decided here from the facts alone (no indicator, no provider)."""
    impacts = payload["impacts"]
    grave = impacts["patient_safety"] != "none" or any(
        impacts[k]
        for k in ("care_interrupted", "data_disclosure", "data_integrity", "degraded_mode", "data_unavailable")
    )
    # Among the grave ones, reaching beyond the structure and likely to reach others: without an
    # indicator or a provider, only care interrupted in a hospital (its patients go elsewhere).
    significatif = impacts["care_interrupted"] and payload["structure"]["type"] == "health_facility"
    return {(True, True): "grave_significatif", (True, False): "grave", (False, True): "significatif"}.get(
        (grave, significatif), "none"
    )


def dimension(item: Posted, name: str) -> Any:
    p = item.payload
    return {
        "region": item.region,
        "category": p["category"],
        "origin": p["origin"],
        "structure_type": p["structure"]["type"],
        "month": datetime.fromisoformat(p["detected_at"]).astimezone(PARIS).strftime("%Y-%m"),
        "severity": severity_of(p),
        "degraded_mode": p["impacts"]["degraded_mode"],
        "patient_safety": p["impacts"]["patient_safety"],
        "support_requested": p["support_requested"],
        "legal_status": p["structure"].get("legal_status", "not_stated"),
        "regime": p["structure"].get("regime", "not_stated"),
        "data_unavailable": p["impacts"]["data_unavailable"],
        "data_integrity": p["impacts"]["data_integrity"],
        "data_disclosure": p["impacts"]["data_disclosure"],
        "care_interrupted": p["impacts"]["care_interrupted"],
        "territorial_extent": p["impacts"].get("territorial_extent", "not_stated"),
    }[name]


def in_year(items: list[Posted], year: int) -> list[Posted]:
    return [i for i in items if datetime.fromisoformat(i.payload["detected_at"]).astimezone(PARIS).year == year]


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@pytest_asyncio.fixture(scope="module")
async def year(stack: Stack, api: httpx.AsyncClient) -> list[Posted]:
    posted = the_year()
    # A dozen at a time: fewer than the intake takes in progress (16), so that none is shed.
    for start in range(0, len(posted), 12):
        chunk = posted[start : start + 12]
        responses = await asyncio.gather(*(api.post("/v1/declarations", json=item.payload) for item in chunk))
        for item, response in zip(chunk, responses, strict=True):
            assert response.status_code == 202, response.text
            item.id = response.json()["id"]
    await settle(stack, timeout=180)
    return posted


async def get(stats_api: httpx.AsyncClient, path: str, **params: Any) -> Any:
    # A public table is suppressed by solving a few hundred small linear programs: give it time.
    response = await stats_api.get(path, params=params, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


PERIOD = {"from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"}
DIMENSIONS = ["region", "category", "origin", "structure_type", "month", "severity", "degraded_mode", "patient_safety",
              "support_requested", "legal_status", "regime", "data_unavailable", "data_integrity", "data_disclosure",
              "care_interrupted", "territorial_extent"]  # fmt: skip


@pytest.mark.parametrize("name", DIMENSIONS)
async def test_every_dimension_counts_each_declaration_once(
    year: list[Posted], stats_api: httpx.AsyncClient, name: str
) -> None:
    expected = Counter(dimension(item, name) for item in in_year(year, YEAR))
    body = await get(stats_api, "/v1/stats", group_by=name, **PERIOD)
    assert {g["key"]: g["count"] for g in body["groups"]} == dict(expected)
    assert body["total"] == len(in_year(year, YEAR))


async def test_two_dimensions_at_once(year: list[Posted], stats_api: httpx.AsyncClient) -> None:
    expected = Counter((i.region, i.payload["category"]) for i in in_year(year, YEAR))
    body = await get(stats_api, "/v1/stats", group_by="region,category", **PERIOD)
    assert {tuple(g["key"]): g["count"] for g in body["groups"]} == dict(expected)


async def test_structures_declaring_again_and_again(year: list[Posted], stats_api: httpx.AsyncClient) -> None:
    per_structure = Counter(i.payload["structure"]["finess"] for i in in_year(year, YEAR))
    body = await get(stats_api, "/v1/stats/structures", **PERIOD)
    assert body["structures"] == len(per_structure)
    assert body["more_than_2"] == sum(1 for n in per_structure.values() if n > 2) > 0
    assert body["more_than_4"] == sum(1 for n in per_structure.values() if n > 4) > 0
    # The whole distribution, so that "more than 2" can be read as "3 or more" or "2 or more".
    times = Counter(min(n, 5) for n in per_structure.values())
    assert body["declarations_per_structure"] == {
        "1": times[1],
        "2": times[2],
        "3": times[3],
        "4": times[4],
        "5+": times[5],
    }


async def test_time_to_tell_the_ars_per_region(stack: Stack, year: list[Posted], stats_api: httpx.AsyncClient) -> None:
    # Measured independently from the intake's own record of each declaration's notifications.
    rows = await query(
        stack,
        "declaration",
        "SELECT d.region_code, extract(epoch FROM min(n.at) - d.received_at) AS seconds"
        " FROM declarations d JOIN declaration_notifications n ON n.declaration_id = d.id"
        " WHERE n.recipient_kind = 'ars' AND n.outcome = 'sent' AND n.revision = 1 AND d.id = ANY($1::uuid[])"
        " GROUP BY d.id, d.region_code",
        [i.id for i in in_year(year, YEAR)],
    )
    delays: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        delays[row["region_code"]].append(float(row["seconds"]))
    body = await get(stats_api, "/v1/stats/delivery", **PERIOD)
    by_region = {g["key"]: g for g in body["groups"]}
    assert set(by_region) == set(delays) == set(REGIONS)
    for region, values in delays.items():
        group = by_region[region]
        assert group["count"] == len(values)
        for field, fraction in (("median_seconds", 0.5), ("p90_seconds", 0.9), ("p99_seconds", 0.99)):
            assert group[field] == pytest.approx(percentile(values, fraction), abs=0.002), (region, field)


async def test_this_year_against_last_year(year: list[Posted], stats_api: httpx.AsyncClient) -> None:
    now = Counter(i.payload["category"] for i in in_year(year, YEAR))
    then = Counter(i.payload["category"] for i in in_year(year, LAST))
    body = await get(stats_api, "/v1/stats/compare", group_by="category", year=YEAR)
    assert body["this_year"]["from"] == f"{YEAR}-01-01"
    assert body["last_year"]["to"] == f"{LAST}-12-31"
    assert body["this_year"]["total"] == sum(now.values())
    assert body["last_year"]["total"] == sum(then.values())
    for group in body["groups"]:
        key = group["key"]
        assert (group["this_year"], group["last_year"]) == (now[key], then[key])
        assert group["change"] == now[key] - then[key]
        if then[key]:
            assert group["change_percent"] == round(100 * (now[key] - then[key]) / then[key], 1)


async def test_csv_exports_say_what_json_says(year: list[Posted], stats_api: httpx.AsyncClient) -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("/v1/stats", {"group_by": "region,category", **PERIOD}),
        ("/v1/stats/structures", PERIOD),
        ("/v1/stats/delivery", PERIOD),
        ("/v1/stats/compare", {"group_by": "category", "year": YEAR}),
    ]
    for path, params in cases:
        response = await stats_api.get(path, params={**params, "format": "csv"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        body = await get(stats_api, path, **params)
        if path == "/v1/stats":
            assert {(r["region"], r["category"]): int(r["count"]) for r in rows if r["region"] != "total"} == {
                tuple(g["key"]): g["count"] for g in body["groups"]
            }
        elif path.endswith("structures"):
            figures = {k: body[k] for k in ("structures", "more_than_2", "more_than_4")}
            figures |= {f"declared_{k}": v for k, v in body["declarations_per_structure"].items()}
            assert {r["figure"]: int(r["count"]) for r in rows} == figures
        else:
            assert [r["region" if "region" in r else "key"] for r in rows] == [str(g["key"]) for g in body["groups"]]


@pytest_asyncio.fixture(scope="module")
async def publication(year: list[Posted], stats_api: httpx.AsyncClient) -> dict[str, Any]:
    """CERT Santé publishes the year: its figures are decided once, and frozen."""
    response = await stats_api.post(f"/v1/stats/publications/{YEAR}", timeout=120)
    assert response.status_code == 201, response.text
    published: dict[str, Any] = response.json()
    return published


async def test_published_figures_hide_every_small_cell_and_give_none_away(
    year: list[Posted], publication: dict[str, Any], public_stats: httpx.AsyncClient
) -> None:
    assert publication["declarations"] == len(in_year(year, YEAR))
    truth = Counter((i.region, i.payload["category"]) for i in in_year(year, YEAR))
    body = await get(public_stats, "/v1/stats", group_by="region,category", **PERIOD)
    assert body["public"] is True
    shown = {tuple(g["key"]): g["count"] for g in body["groups"]}
    assert len(shown) == len(REGIONS) * 13
    for cell, value in shown.items():
        actual = truth.get(cell, 0)
        if actual < 5:
            assert value == UNDER, cell
        else:
            assert value in (actual, MASKED), cell
    # The public view by region is that table's margin: one figure, shown alike.
    regions = await get(public_stats, "/v1/stats", group_by="region", **PERIOD)
    assert {g["key"]: g["count"] for g in regions["groups"]} == {
        g["key"]: g["count"] for g in body["margins"]["region"]
    }


@pytest.mark.parametrize("dimension", ["region", "category", "origin", "regime", "territorial_extent"])
async def test_no_two_published_tables_of_nested_or_adjacent_periods_give_a_small_count_away(
    publication: dict[str, Any], public_stats: httpx.AsyncClient, dimension: str
) -> None:
    # Every published table of the year, read as anybody reads them, then attacked in pairs by
    # an independent solver (tests/support/differencing.py).
    periods = [str(YEAR), *(f"{YEAR}-Q{q}" for q in range(1, 5)), *(f"{YEAR}-{m:02d}" for m in range(1, 13))]
    tables = []
    for period in periods:
        first, last = bounds_of(period)
        body = await get(public_stats, "/v1/stats", group_by=dimension, **{"from": str(first), "to": str(last)})
        assert body["period"] == period
        tables.append(
            PublishedTable(period, months_of(period), {g["key"]: g["count"] for g in body["groups"]}, body["total"])
        )
    assert any(isinstance(t.total, int) for t in tables)
    assert [found for a, b in pairs(tables) for found in worked_out(a, b)] == []


BROWSER_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


async def test_the_dashboard_renders_the_figures_in_a_real_browser(
    stack: Stack,
    year: list[Posted],
    publication: dict[str, Any],
    credentials: dict[str, dict[str, str]],
    stats_api: httpx.AsyncClient,
) -> None:
    items = in_year(year, YEAR)
    shots = stack.config.state / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    origin = stack.config.service_url("stats")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1440, "height": 900}, locale="fr-FR")
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))

            # Anybody: the published year, no small count.
            response = await page.goto(f"{origin}/tableau-de-bord?year={YEAR}")
            assert response is not None
            assert response.ok
            assert await page.locator("html").get_attribute("lang") == "fr"
            assert await page.inner_text('[data-testid="declarations"] .figure') == str(len(items))
            for code in REGIONS:
                shown = await page.locator(f'[data-testid="map"] [data-region="{code}"]').get_attribute("data-count")
                actual = sum(1 for i in items if i.region == code)
                assert shown == UNDER if actual < 5 else shown in (str(actual), MASKED)
            await page.screenshot(path=str(shots / "tableau-de-bord-public.png"), full_page=True)

            # CERT Santé signs in with its credential on the form, and sees every exact figure.
            await page.click("text=Se connecter")
            await page.fill("#credential", credentials["national"]["secret"])
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{origin}/tableau-de-bord")
            await page.goto(f"{origin}/tableau-de-bord?year={YEAR}")
            assert "CERT Santé" in await page.inner_text('[data-testid="signed-in"]')
            cookie = next(c for c in await page.context.cookies() if c["name"] == "vigie_session")
            assert cookie["httpOnly"]
            assert cookie["sameSite"] == "Strict"
            assert credentials["national"]["secret"] not in page.url
            assert await page.inner_text('[data-testid="declarations"] .figure') == str(len(items))
            malicious = sum(1 for i in items if i.payload["origin"] == "malicious")
            assert (
                await page.inner_text('[data-testid="malicious"] .figure') == f"{round(100 * malicious / len(items))} %"
            )
            degraded = sum(1 for i in items if i.payload["impacts"]["degraded_mode"])
            assert await page.inner_text('[data-testid="degraded"] .figure') == str(degraded)
            endangered = sum(1 for i in items if i.payload["impacts"]["patient_safety"] != "none")
            assert await page.inner_text('[data-testid="endangered"] .figure') == str(endangered)
            support = sum(1 for i in items if i.payload["support_requested"])
            assert await page.inner_text('[data-testid="support"] .figure') == str(support)

            months = Counter(dimension(i, "month") for i in items)
            for month in range(1, 13):
                key = f"{YEAR}-{month:02d}"
                bar = page.locator(f'[data-testid="months"] [data-month="{key}"]')
                assert await bar.get_attribute("data-count") == str(months.get(key, 0))
            for code in REGIONS:
                tile = page.locator(f'[data-testid="map"] [data-region="{code}"]')
                assert await tile.get_attribute("data-count") == str(sum(1 for i in items if i.region == code))
                assert await tile.is_visible()
            categories = Counter(i.payload["category"] for i in items)
            assert await page.locator('[data-testid="categories"] [data-count]').count() == len(categories)
            types = Counter(i.payload["structure"]["type"] for i in items)
            for label, count in [
                ("établissement de santé", types["health_facility"]),
                ("laboratoire de biologie médicale", types["biology_lab"]),
            ]:
                assert await page.locator(f'[data-testid="structure-types"] [data-label="{label}"]').get_attribute(
                    "data-count"
                ) == str(count)
            regimes = Counter(dimension(i, "regime") for i in items)
            for label, key in [("opérateur de services essentiels (OSE)", "ose"), ("non renseigné", "not_stated")]:
                assert await page.locator(f'[data-testid="regimes"] [data-label="{label}"]').get_attribute(
                    "data-count"
                ) == str(regimes[key])
            hits = page.locator('[data-testid="hits"] [data-label="intégrité des données"]')
            assert await hits.get_attribute("data-count") == str(
                sum(1 for i in items if i.payload["impacts"]["data_integrity"])
            )
            # How often each structure declared, in full, beside "more than 2" read as 3 or more.
            per_structure = Counter(i.payload["structure"]["finess"] for i in items)
            times = Counter(min(n, 5) for n in per_structure.values())
            for label, n in [("1 déclaration", 1), ("3 déclarations", 3), ("5 ou plus", 5)]:
                bar = page.locator(f'[data-testid="declarations-per-structure"] [data-label="{label}"]')
                assert await bar.get_attribute("data-count") == str(times[n])
            more_than_2 = sum(1 for n in per_structure.values() if n > 2)
            assert f"{more_than_2} en ont déclaré 3 ou plus" in await page.inner_text('[data-testid="structures"]')

            await page.screenshot(path=str(shots / "tableau-de-bord.png"), full_page=True)
            assert (shots / "tableau-de-bord.png").stat().st_size > 20_000

            # Signing out ends the session: the page is the published one again.
            await page.click("text=Se déconnecter")
            await page.wait_for_url(f"{origin}/tableau-de-bord")
            assert await page.locator('[data-testid="signed-in"]').count() == 0
            assert all(url.startswith(origin) for url in requests), "nothing fetched from elsewhere"
        finally:
            await browser.close()


async def test_rebuilding_from_the_topics_gives_identical_aggregates(
    stack: Stack, year: list[Posted], api: httpx.AsyncClient, stats_api: httpx.AsyncClient
) -> None:
    await settle(stack)
    before = [await get(stats_api, "/v1/stats", group_by=d, **PERIOD) for d in ("region,category", "month")]
    check = await asyncio.to_thread(stack.services["stats"].command, "rebuild")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "declaration_facts: identical" in check.stdout
    assert "ars_notifications: identical" in check.stdout

    # Swapped in while the service runs and declarations keep coming: none is lost or counted twice.
    swap = asyncio.create_task(asyncio.to_thread(stack.services["stats"].command, "rebuild", "--swap"))
    more = [
        (
            await api.post(
                "/v1/declarations",
                json=declaration(finess=with_check_digit(f"930{n:05d}"), detected_at=datetime(YEAR, 6, 1, tzinfo=UTC)),
            )
        ).json()["id"]
        for n in range(10)
    ]
    swapped = await swap
    assert swapped.returncode == 0, swapped.stdout + swapped.stderr
    await settle(stack)
    after = await get(stats_api, "/v1/stats", group_by="region,category", **PERIOD)
    expected = Counter({tuple(g["key"]): g["count"] for g in before[0]["groups"]})
    expected[("11", "ransomware")] += len(more)
    assert {tuple(g["key"]): g["count"] for g in after["groups"]} == dict(expected)
    recheck = await asyncio.to_thread(stack.services["stats"].command, "rebuild")
    assert recheck.returncode == 0, recheck.stdout


def test_the_region_codes_of_the_year_are_the_regions_of_their_finess() -> None:
    for item in the_year()[:50]:
        assert DEPARTEMENTS[parse_finess(item.payload["structure"]["finess"]).departement].region.code == item.region
