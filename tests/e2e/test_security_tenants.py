"""Finding 3 of the security review: two partners whose names fold into one slug ("Éditeur A",
"Editeur A") were one organisation, each reading and revising the other's declarations. A
principal is now an explicit identity, and a credential joins one only when told to."""

import asyncio
from typing import Any

import httpx

from vigie_stack.samples import declaration, finess_in
from vigie_stack.stack import Stack

from ..conftest import client


async def create(stack: Stack, *args: str) -> Any:
    return await asyncio.to_thread(stack.services["declaration"].command, "credentials", "create", *args)


async def test_two_organisations_whose_names_fold_alike_stay_two(stack: Stack) -> None:
    first = await asyncio.to_thread(stack.credential, "--kind", "partner", "--name", "Editeur A", "--departement", "75")
    second = await asyncio.to_thread(
        stack.credential, "--kind", "partner", "--name", "Éditeur A", "--departement", "75"
    )
    assert first["principal"] != second["principal"]
    assert first["principal"].startswith("partner:editeur-a-")
    async with client(stack, first["secret"]) as a, client(stack, second["secret"]) as b:
        posted = await a.post("/v1/declarations", json=declaration(finess=finess_in("11", 3301)))
        assert posted.status_code == 202
        mine = posted.json()["id"]
        theirs = await b.get(f"/v1/declarations/{mine}")
        assert theirs.status_code == 404
        assert theirs.json()["detail"] == f"no declaration {mine}"
        assert (await b.get("/v1/declarations")).json()["items"] == []
        revised = await b.post(
            f"/v1/declarations/{mine}/revisions",
            json={"kind": "update", "based_on": 1, "changes": {"status": "resolved"}},
        )
        assert revised.status_code == 404


async def test_a_non_latin_name_does_not_make_everyone_one_partner(stack: Stack) -> None:
    made = [
        await asyncio.to_thread(stack.credential, "--kind", "partner", "--name", name, "--departement", "13")
        for name in ("Ελληνικός εκδότης", "日本の出版社")
    ]
    assert made[0]["principal"] != made[1]["principal"]


async def test_a_credential_joins_an_organisation_only_when_asked_to(stack: Stack) -> None:
    first = await asyncio.to_thread(
        stack.credential,
        "--kind",
        "partner",
        "--name",
        "Hôpital Nord",
        "--principal",
        "partner:hopital-nord",
        "--finess",
        finess_in("32", 3302),
    )
    assert first["principal"] == "partner:hopital-nord"
    refused = await create(
        stack,
        "--kind",
        "partner",
        "--name",
        "Hopital Nord",
        "--principal",
        "partner:hopital-nord",
        "--departement",
        "59",
    )
    assert refused.returncode == 2
    assert "principal partner:hopital-nord exists (Hôpital Nord)" in refused.stdout
    assert "Add --join" in refused.stdout
    for args, words in [
        (["--principal", "ars:hopital-nord", "--departement", "59"], "starts with 'partner:'"),
        (["--principal", "partner:Hôpital", "--departement", "59"], "lower-case letters"),
        (["--join", "--departement", "59"], "give --principal too"),
        (
            ["--principal", "partner:nobody-here", "--join", "--departement", "59"],
            "no principal partner:nobody-here to join",
        ),
    ]:
        done = await create(stack, "--kind", "partner", "--name", "X", *args)
        assert done.returncode == 2, args
        assert words in done.stdout, (args, done.stdout)

    second = await asyncio.to_thread(
        stack.credential,
        "--kind",
        "partner",
        "--name",
        "Hôpital Nord, poste 2",
        "--principal",
        "partner:hopital-nord",
        "--join",
        "--finess",
        finess_in("32", 3302),
    )
    assert second["principal"] == "partner:hopital-nord"
    async with client(stack, first["secret"]) as a, client(stack, second["secret"]) as b:
        posted = await a.post("/v1/declarations", json=declaration(finess=finess_in("32", 3302)))
        declared = posted.json()["id"]
        assert (await b.get(f"/v1/declarations/{declared}")).status_code == 200


async def test_the_audit_trail_tells_every_credential_apart(stack: Stack, national_api: httpx.AsyncClient) -> None:
    first = await asyncio.to_thread(
        stack.credential,
        "--kind",
        "partner",
        "--name",
        "Clinique Sud",
        "--principal",
        "partner:clinique-sud",
        "--departement",
        "13",
    )
    second = await asyncio.to_thread(
        stack.credential,
        "--kind",
        "partner",
        "--name",
        "Clinique Sud (2)",
        "--principal",
        "partner:clinique-sud",
        "--join",
        "--departement",
        "13",
    )
    async with client(stack, first["secret"]) as a, client(stack, second["secret"]) as b:
        declared = (await a.post("/v1/declarations", json=declaration(finess=finess_in("93", 3303)))).json()["id"]
        assert (await b.get(f"/v1/declarations/{declared}")).status_code == 200
    trail = (await national_api.get(f"/v1/declarations/{declared}/audit")).json()
    by_action = {(e["action"], e["credential_id"]) for e in trail}
    assert ("create", first["id"]) in by_action
    assert ("read", second["id"]) in by_action
    assert {
        e["principal"] for e in trail if e["action"] in ("create", "read") and e["credential_id"] != _national(trail)
    } == {"partner:clinique-sud"}


def _national(trail: list[dict[str, Any]]) -> str | None:
    return next((e["credential_id"] for e in trail if e["principal"].startswith("national:")), None)
