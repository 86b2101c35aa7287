"""The credentials command: a secret shown once and stored only as a hash, scopes checked at
creation, revocation effective at once, and a rate limit per credential."""

import asyncio
import hashlib
import json

import httpx

from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..conftest import client
from ..support.pipeline import query


async def test_the_secret_is_shown_once_and_only_its_hash_is_kept(stack: Stack) -> None:
    created = await asyncio.to_thread(stack.credential, "--kind", "ars", "--name", "ARS Occitanie", "--region", "76")
    secret = created["secret"]
    assert secret.startswith("viga_")
    rows = await query(
        stack,
        "declaration",
        "SELECT row_to_json(c)::text AS row, token_hash FROM credentials c WHERE id = $1::uuid",
        created["id"],
    )
    assert secret not in rows[0]["row"]
    assert bytes(rows[0]["token_hash"]) == hashlib.sha256(secret.encode()).digest()
    listing = await asyncio.to_thread(stack.services["declaration"].command, "credentials", "list", "--json")
    assert secret not in listing.stdout
    mine = next(c for c in json.loads(listing.stdout) if c["id"] == created["id"])
    assert (mine["kind"], mine["region"], mine["revoked_at"]) == ("ars", "76", None)
    assert mine["principal"].startswith("ars:ars-occitanie-")


async def test_a_credential_with_an_impossible_scope_is_refused(stack: Stack) -> None:
    command = stack.services["declaration"].command
    for args, words in [
        (["--kind", "partner", "--name", "X"], "give --finess or --departement"),
        (["--kind", "partner", "--name", "X", "--finess", "130783237"], "check digit"),
        (["--kind", "partner", "--name", "X", "--departement", "20"], "no département 20"),
        (["--kind", "ars", "--name", "X"], "--region one of"),
        (
            ["--kind", "ars", "--name", "X", "--region", "11", "--departement", "75"],
            "for partner credentials",
        ),
        (["--kind", "national", "--name", "X", "--region", "11"], "reads everything"),
        (["--kind", "partner", "--name", "X", "--departement", "75", "--rate", "0"], "at least 1"),
    ]:
        done = await asyncio.to_thread(command, "credentials", "create", *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert words in done.stdout, (args, done.stdout)


async def test_a_revoked_credential_is_refused_at_once(stack: Stack) -> None:
    created = await asyncio.to_thread(stack.credential, "--kind", "partner", "--name", "Révoqué", "--departement", "75")
    async with client(stack, created["secret"]) as api:
        assert (await api.get("/v1/declarations")).status_code == 200
        done = await asyncio.to_thread(stack.services["declaration"].command, "credentials", "revoke", created["id"])
        assert done.returncode == 0
        refused = await api.get("/v1/declarations")
        assert refused.status_code == 401
        assert refused.json()["detail"] == "this credential is unknown or revoked"


async def test_too_many_requests_get_429_with_retry_after(stack: Stack) -> None:
    created = await asyncio.to_thread(
        stack.credential,
        "--kind",
        "partner",
        "--name",
        "Pressé",
        "--departement",
        "75",
        "--rate",
        "5",
    )
    async with client(stack, created["secret"]) as api:
        statuses = [(await api.get("/v1/declarations")).status_code for _ in range(5)]
        assert statuses == [200] * 5
        limited = await api.post("/v1/declarations", json=declaration(finess=finess_in("11", 820001)))
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/problem+json"
        assert 1 <= int(limited.headers["retry-after"]) <= 12
        assert "5 requests a minute" in limited.json()["detail"]


async def test_the_openapi_document_is_complete_and_served_with_its_docs(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.config.service_url("declaration")) as anonymous:
        assert (await anonymous.get("/docs")).status_code == 200
        document = (await anonymous.get("/openapi.json")).json()
    paths = document["paths"]
    assert set(paths) >= {
        "/v1/declarations",
        "/v1/declarations/{declaration_id}",
        "/v1/declarations/{declaration_id}/revisions",
        "/v1/declarations/{declaration_id}/audit",
    }
    schemas = document["components"]["schemas"]
    assert {"DeclarationContent", "RevisionCreate", "Problem", "DeclarationPublic"} <= set(schemas)
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    declare = paths["/v1/declarations"]["post"]
    assert declare["requestBody"]["content"]["application/json"]["example"]["structure"]["finess"]
    assert {"202", "400", "401", "403", "409", "413", "415", "422", "429"} <= set(declare["responses"])
    for methods in paths.values():
        for operation in methods.values():
            for code, answer in operation["responses"].items():
                if code.startswith(("4", "5")):
                    assert list(answer.get("content", {})) in ([], ["application/problem+json"]), (
                        code,
                        operation["summary"],
                    )
