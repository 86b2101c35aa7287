"""Who may do what, request by request: every credential kind against every endpoint, in and
out of its scope, on the real service."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio

from vigie_contracts.finess import with_check_digit
from vigie_stack.samples import declaration
from vigie_stack.stack import Stack

from ..conftest import client

PARIS_LISTED = with_check_digit("75078001")  # on partner A's FINESS list
PARIS_OTHER = with_check_digit("75078002")  # in Paris, not on A's list
AJACCIO = with_check_digit("2A078003")  # A may declare for all of Corse-du-Sud
LYON = with_check_digit("69078004")  # partner B's département


@dataclass
class World:
    secrets: dict[str, str | None]
    declarations: dict[str, str]  # name → id
    principals: dict[str, str]  # name → the organisation it acts for

    def api(self, stack: Stack, who: str) -> httpx.AsyncClient:
        return client(stack, self.secrets[who])


@pytest_asyncio.fixture(scope="module")
async def world(stack: Stack) -> AsyncIterator[World]:
    async def credential(*args: str) -> dict[str, str]:
        return await asyncio.to_thread(stack.credential, *args)

    made = await asyncio.gather(
        credential(
            "--kind",
            "partner",
            "--name",
            "Partenaire A",
            "--finess",
            PARIS_LISTED,
            "--departement",
            "2A",
        ),
        credential("--kind", "partner", "--name", "Partenaire B", "--departement", "69"),
        credential("--kind", "ars", "--name", "ARS Île-de-France", "--region", "11"),
        credential("--kind", "ars", "--name", "ARS Corse", "--region", "94"),
        credential("--kind", "national", "--name", "CERT Santé"),
        credential("--kind", "partner", "--name", "Ancien éditeur", "--departement", "*"),
    )
    names = ["partner_a", "partner_b", "ars_idf", "ars_corse", "national", "revoked"]
    secrets: dict[str, str | None] = {name: created["secret"] for name, created in zip(names, made, strict=True)}
    principals = {name: created["principal"] for name, created in zip(names, made, strict=True)}
    secrets.update({"nobody": None, "forged": "vigp_" + "A" * 43})
    revoked = await asyncio.to_thread(stack.services["declaration"].command, "credentials", "list", "--json")
    revoked_id = next(c["id"] for c in json.loads(revoked.stdout) if c["name"] == "Ancien éditeur")
    done = await asyncio.to_thread(stack.services["declaration"].command, "credentials", "revoke", revoked_id)
    assert done.returncode == 0, done.stdout + done.stderr

    ids = {}
    async with client(stack, secrets["partner_a"]) as a, client(stack, secrets["partner_b"]) as b:
        for name, api, finess in (
            ("paris", a, PARIS_LISTED),
            ("ajaccio", a, AJACCIO),
            ("lyon", b, LYON),
        ):
            response = await api.post("/v1/declarations", json=declaration(finess=finess))
            assert response.status_code == 202, response.text
            ids[name] = response.json()["id"]
    yield World(secrets, ids, principals)


# (who, structure declared for) → status
DECLARE = [
    ("partner_a", PARIS_LISTED, 202),
    ("partner_a", AJACCIO, 202),
    ("partner_a", PARIS_OTHER, 403),
    ("partner_a", LYON, 403),
    ("partner_b", LYON, 202),
    ("partner_b", PARIS_LISTED, 403),
    ("ars_idf", PARIS_LISTED, 403),
    ("national", PARIS_LISTED, 403),
    ("revoked", PARIS_LISTED, 401),
    ("nobody", PARIS_LISTED, 401),
    ("forged", PARIS_LISTED, 401),
]


@pytest.mark.parametrize(("who", "finess", "status"), DECLARE)
async def test_declaring(stack: Stack, world: World, who: str, finess: str, status: int) -> None:
    async with world.api(stack, who) as api:
        response = await api.post("/v1/declarations", json=declaration(finess=finess))
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


# (who, declaration) → status of GET /v1/declarations/{id}
READ = [
    ("partner_a", "paris", 200),
    ("partner_a", "ajaccio", 200),
    ("partner_a", "lyon", 404),
    ("partner_b", "lyon", 200),
    ("partner_b", "paris", 404),
    ("ars_idf", "paris", 200),
    ("ars_idf", "ajaccio", 403),
    ("ars_corse", "ajaccio", 200),
    ("ars_corse", "lyon", 403),
    ("national", "paris", 200),
    ("national", "lyon", 200),
    ("revoked", "paris", 401),
    ("nobody", "paris", 401),
]


@pytest.mark.parametrize(("who", "which", "status"), READ)
async def test_reading_one(stack: Stack, world: World, who: str, which: str, status: int) -> None:
    async with world.api(stack, who) as api:
        response = await api.get(f"/v1/declarations/{world.declarations[which]}")
    assert response.status_code == status, response.text
    if status == 404:
        # exactly what an id that does not exist gets: existence does not leak
        async with world.api(stack, who) as api:
            unknown = await api.get("/v1/declarations/00000000-0000-4000-8000-000000000001")
        assert response.json()["detail"].replace(world.declarations[which], "ID") == unknown.json()["detail"].replace(
            "00000000-0000-4000-8000-000000000001", "ID"
        )


# (who, query) → (status, declarations it must contain, declarations it must not)
LIST = [
    ("partner_a", {}, 200, {"paris", "ajaccio"}, {"lyon"}),
    ("partner_b", {}, 200, {"lyon"}, {"paris", "ajaccio"}),
    ("ars_idf", {}, 200, {"paris"}, {"ajaccio", "lyon"}),
    ("ars_idf", {"region": "11"}, 200, {"paris"}, {"ajaccio", "lyon"}),
    ("ars_idf", {"region": "94"}, 403, set(), set()),
    ("ars_corse", {}, 200, {"ajaccio"}, {"paris", "lyon"}),
    ("national", {}, 200, {"paris", "ajaccio", "lyon"}, set()),
    ("national", {"region": "84"}, 200, {"lyon"}, {"paris", "ajaccio"}),
    ("revoked", {}, 401, set(), set()),
    ("nobody", {}, 401, set(), set()),
]


@pytest.mark.parametrize(("who", "query", "status", "present", "absent"), LIST)
async def test_listing(
    stack: Stack,
    world: World,
    who: str,
    query: dict[str, str],
    status: int,
    present: set[str],
    absent: set[str],
) -> None:
    seen: set[str] = set()
    async with world.api(stack, who) as api:
        cursor = None
        while True:
            response = await api.get(
                "/v1/declarations",
                params={**query, "limit": 200, **({"cursor": cursor} if cursor else {})},
            )
            assert response.status_code == status, response.text
            if status != 200:
                return
            page = response.json()
            seen |= {item["id"] for item in page["items"]}
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert {world.declarations[name] for name in present} <= seen
    assert not {world.declarations[name] for name in absent} & seen


# (who, declaration) → status of POST /v1/declarations/{id}/revisions
REVISE = [
    ("partner_a", "ajaccio", 202),
    ("partner_a", "lyon", 404),
    ("partner_b", "paris", 404),
    ("ars_idf", "paris", 403),
    ("national", "paris", 403),
    ("revoked", "paris", 401),
    ("nobody", "paris", 401),
]


@pytest.mark.parametrize(("who", "which", "status"), REVISE)
async def test_revising(stack: Stack, world: World, who: str, which: str, status: int) -> None:
    declaration_id = world.declarations[which]
    async with world.api(stack, "national") as national:
        current = (await national.get(f"/v1/declarations/{declaration_id}")).json()["revision"]
    async with world.api(stack, who) as api:
        response = await api.post(
            f"/v1/declarations/{declaration_id}/revisions",
            json={"kind": "update", "based_on": current, "changes": {"status": "contained"}},
        )
    assert response.status_code == status, response.text


# (who) → status of GET /v1/declarations/{id}/audit
AUDIT = [("national", 200), ("partner_a", 403), ("ars_idf", 403), ("nobody", 401)]


@pytest.mark.parametrize(("who", "status"), AUDIT)
async def test_reading_the_audit_trail(stack: Stack, world: World, who: str, status: int) -> None:
    async with world.api(stack, who) as api:
        response = await api.get(f"/v1/declarations/{world.declarations['paris']}/audit")
    assert response.status_code == status, response.text


async def test_the_audit_trail_records_who_created_revised_and_read(stack: Stack, world: World) -> None:
    declaration_id = world.declarations["ajaccio"]
    async with world.api(stack, "ars_corse") as ars, world.api(stack, "partner_a") as partner:
        assert (await ars.get(f"/v1/declarations/{declaration_id}")).status_code == 200
        current = (await partner.get(f"/v1/declarations/{declaration_id}")).json()["revision"]
        revised = await partner.post(
            f"/v1/declarations/{declaration_id}/revisions",
            json={"kind": "notification", "based_on": current, "changes": {"status": "resolved"}},
        )
        assert revised.status_code == 202
    async with world.api(stack, "national") as national:
        trail = (await national.get(f"/v1/declarations/{declaration_id}/audit")).json()
    actions = [(entry["principal"], entry["action"]) for entry in trail]
    partner_a, ars_corse = world.principals["partner_a"], world.principals["ars_corse"]
    assert actions[0] == (partner_a, "create")
    assert (ars_corse, "read") in actions
    assert (partner_a, "revise") in actions
    assert all(entry["at"] for entry in trail)
    assert [entry["at"] for entry in trail] == sorted(entry["at"] for entry in trail)
