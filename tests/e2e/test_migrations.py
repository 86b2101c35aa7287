"""Migrations: they build the schema the models describe; one that reshapes data already there,
checked on a database made at the revision before it and holding such data; and what a service
starting says when it cannot migrate."""

import asyncio
import importlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from vigie_declaration.bootstrap import MIGRATIONS as DECLARATION_MIGRATIONS
from vigie_enrichment.bootstrap import MIGRATIONS
from vigie_kit.db import migrate, schema_drift
from vigie_kit.migrate import UNREACHABLE
from vigie_stack.stack import Stack

from ..support.pipeline import scratch_database


@pytest_asyncio.fixture
async def scratch(stack: Stack) -> AsyncIterator[tuple[AsyncEngine, asyncpg.Connection]]:
    """An empty database of the enrichment role's, dropped afterwards."""
    async with scratch_database(stack, "enrichment") as scratch:
        yield scratch


async def test_campaigns_learn_their_sizes_and_links_whether_they_joined(
    scratch: tuple[AsyncEngine, asyncpg.Connection],
) -> None:
    engine, db = scratch
    await migrate(engine, MIGRATIONS, revision="0002")
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    members = [uuid4() for _ in range(3)]
    alone, elsewhere = uuid4(), uuid4()
    campaign = uuid4()
    await db.execute(
        "INSERT INTO campaigns (id, kind, key, label, first_detected_at, last_detected_at, created_at)"
        " VALUES ($1, 'indicator', 'domain:x.top', 'Domaine partagé x.top', $2, $2, $2)",
        campaign,
        at,
    )
    links: list[tuple[UUID, str, str]] = [(m, "indicator", "domain:x.top") for m in members]
    # Not a member: a link of the same key never joined, and a member's link of another key.
    links += [(alone, "indicator", "domain:x.top"), (members[0], "provider", "hebergeur"), (elsewhere, "cve", "CVE-1")]
    await db.executemany(
        "INSERT INTO declaration_links (declaration_id, kind, key, label, detected_at) VALUES ($1, $2, $3, 'l', $4)",
        [(d, kind, key, at + timedelta(hours=i)) for i, (d, kind, key) in enumerate(links)],
    )
    await db.executemany(
        "INSERT INTO campaign_members (campaign_id, declaration_id, joined_at) VALUES ($1, $2, $3)",
        [(campaign, m, at) for m in members],
    )

    await migrate(engine, MIGRATIONS)

    assert await db.fetchval("SELECT size FROM campaigns WHERE id = $1", campaign) == 3
    joined = await db.fetch("SELECT declaration_id, kind FROM declaration_links WHERE joined")
    assert {(r["declaration_id"], r["kind"]) for r in joined} == {(m, "indicator") for m in members}


async def test_campaign_sizes_start_from_what_the_declarations_were_told(stack: Stack) -> None:
    async with scratch_database(stack, "declaration") as (engine, db):
        await migrate(engine, DECLARATION_MIGRATIONS, revision="0003")
        campaign, provider = str(uuid4()), str(uuid4())

        def link(campaign_id: str, kind: str, size: int) -> dict[str, object]:
            return {"id": campaign_id, "kind": kind, "key": "k", "label": "l", "declarations": size}

        told = [
            {"campaigns": [link(campaign, "indicator", 2)], "parent_incident": None},
            {"campaigns": [link(campaign, "indicator", 5), link(provider, "provider", 3)]}
            | {"parent_incident": link(provider, "provider", 3)},
            {"campaigns": [], "parent_incident": None},
            None,  # not enriched yet
        ]
        at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        await db.executemany(
            "INSERT INTO declarations (id, reference, revision, finess, departement_code, region_code, category,"
            " content, status, received_at, updated_at, threat)"
            " VALUES ($1, $2, 1, '750712184', '75', '11', 'phishing', '{}', 'enriched', $3, $3, $4::jsonb)",
            [(uuid4(), f"VIG-2026-{n:06d}", at, json.dumps(t) if t else None) for n, t in enumerate(told)],
        )

        await migrate(engine, DECLARATION_MIGRATIONS)

        sizes = await db.fetch("SELECT id::text, declarations FROM campaign_sizes")
        assert {r["id"]: r["declarations"] for r in sizes} == {campaign: 5, provider: 3}


async def test_credentials_made_before_principals_keep_their_organisation_and_reach_stats(stack: Stack) -> None:
    async with scratch_database(stack, "declaration") as (engine, db):
        await migrate(engine, DECLARATION_MIGRATIONS, revision="0004")
        at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        made = [
            (uuid4(), "partner:editeur-a", "partner", "Editeur A", None),
            (uuid4(), "partner:editeur-a", "partner", "Éditeur A", None),  # folded into one, as before
            (uuid4(), "ars:ars-cor", "ars", "ARS Corse", "94"),
            (uuid4(), "national:cert-sante", "national", "CERT Santé", None),
        ]
        await db.executemany(
            "INSERT INTO credentials (id, principal, kind, name, token_hash, token_hint, region_code, created_at)"
            " VALUES ($1, $2, $3, $4, $5, 'vig…', $6, $7)",
            [(i, p, k, n, uuid4().bytes * 2, r, at) for i, p, k, n, r in made],
        )

        await migrate(engine, DECLARATION_MIGRATIONS)

        principals = await db.fetch("SELECT id, kind, name FROM principals ORDER BY id")
        assert [(r["id"], r["kind"]) for r in principals] == [
            ("ars:ars-cor", "ars"),
            ("national:cert-sante", "national"),
            ("partner:editeur-a", "partner"),
        ]
        kept = await db.fetch("SELECT id, principal FROM credentials")
        assert {r["id"]: r["principal"] for r in kept} == {i: p for i, p, *_ in made}
        # The credentials that read figures are announced to the stats service through the outbox.
        announced = await db.fetch("SELECT topic, aggregate_id, payload FROM outbox ORDER BY id")
        assert [(r["topic"], r["aggregate_id"]) for r in announced] == [
            ("credential.changed.v1", str(made[2][0])),
            ("credential.changed.v1", str(made[3][0])),
        ]
        assert json.loads(announced[0]["payload"])["data"]["region_code"] == "94"


def _migrate_in_own_process(url: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigie_kit.migrate", str(folder), "enrichment"],
        env={**os.environ, "VIGIE_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_a_service_migrating_says_why_it_cannot(
    scratch: tuple[AsyncEngine, asyncpg.Connection], tmp_path: Path
) -> None:
    engine, db = scratch
    (tmp_path / "versions").mkdir()
    (tmp_path / "env.py").write_text(
        "import sqlalchemy as sa\nfrom vigie_kit.db import run_migrations_online\n\nrun_migrations_online(sa.MetaData())\n"
    )
    (tmp_path / "versions" / "0001_broken.py").write_text(
        'revision = "0001"\ndown_revision = None\n\n\ndef upgrade():\n'
        "    from alembic import op\n\n"
        '    op.execute("CREATE TABLE kept (n int)")\n'
        '    op.execute("INSERT INTO no_such_table VALUES (1)")\n'
    )
    url = engine.url.render_as_string(hide_password=False)

    failed = await asyncio.to_thread(_migrate_in_own_process, url, tmp_path)
    assert failed.returncode == 1
    said = [json.loads(line) for line in failed.stderr.splitlines()]
    assert any("Running upgrade  -> 0001" in line["message"] for line in said), "its log says what it ran"
    assert said[-1]["service"] == "enrichment"
    assert said[-1]["message"] == "migrating the database failed"
    assert 'relation "no_such_table" does not exist' in said[-1]["error"]
    assert await db.fetchval("SELECT to_regclass('kept')") is None, "a failed migration leaves nothing behind"

    unreachable = url.rsplit("@", 1)[0] + "@127.0.0.1:1/nowhere"
    away = await asyncio.to_thread(_migrate_in_own_process, unreachable, tmp_path)
    assert away.returncode == UNREACHABLE, away.stderr
    assert json.loads(away.stderr.splitlines()[-1])["message"].startswith("database unreachable:")


@pytest.mark.parametrize("service", ["declaration", "enrichment", "notification", "stats"])
async def test_the_migrations_build_exactly_the_schema_the_models_describe(stack: Stack, service: str) -> None:
    """The schema is written twice, as hand-written migrations and as sqlmodel models; on an
    empty database migrated to the head, Alembic's autogenerate finds nothing to change."""
    migrations = importlib.import_module(f"vigie_{service}.bootstrap").MIGRATIONS
    schema: sa.MetaData = importlib.import_module(f"vigie_{service}.adapters.orm").SCHEMA
    async with scratch_database(stack, service) as (engine, _):
        await migrate(engine, migrations)
        assert await schema_drift(engine, schema) == []

        # And the comparison sees a difference when there is one: a model with a column more.
        wider = sa.MetaData()
        for table in schema.tables.values():
            table.to_metadata(wider)
        first = next(iter(wider.tables.values()))
        first.append_column(sa.Column("not_migrated", sa.Text))
        drift = await schema_drift(engine, wider)
        assert [change[0] for change in drift] == ["add_column"], drift
