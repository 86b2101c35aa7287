"""The declaration service's use cases on a real database: accepting, answering a repeated
request, revising, and listing what a caller may read."""

from uuid import uuid4

import pytest

from vigie_contracts.declaration import ADMITTING, DeclarationContent
from vigie_contracts.events import RevisionKind
from vigie_declaration.domain.access import Caller, CredentialKind, Denied
from vigie_declaration.domain.revision import RevisionCreate
from vigie_declaration.handlers import (
    Accepted,
    Conflict,
    ListFilters,
    list_declarations,
    prepare_submission,
    read_declaration,
    revise_declaration,
    submit_declarations,
)
from vigie_kit.db import driver, sessions, unit_of_work
from vigie_stack.samples import declaration, finess_in

from .conftest import Database

EDITOR = Caller(uuid4(), "partner:editeur-a", CredentialKind.partner, departements=frozenset({"*"}))
OTHER_EDITOR = Caller(uuid4(), "partner:editeur-b", CredentialKind.partner, departements=frozenset({"*"}))
ARS_PACA = Caller(uuid4(), "ars:ars-pac", CredentialKind.ars, region_code="93")


def _content(region: str = "84", serial: int = 1, description: str | None = None) -> DeclarationContent:
    return DeclarationContent.model_validate(
        declaration(finess=finess_in(region, serial), description=description), context=ADMITTING
    )


async def _submit(db: Database, caller: Caller, content: DeclarationContent, key: str | None = None) -> Accepted:
    engine, _ = db
    async with driver(engine) as connection:  # the intake's connection, in a transaction
        (answer,) = await submit_declarations(connection, [prepare_submission(caller, content, key)])
    assert isinstance(answer, Accepted), answer
    return answer


async def test_a_declaration_is_kept_with_its_revision_timeline_audit_and_event(declaration_db: Database) -> None:
    _, connection = declaration_db
    accepted = await _submit(declaration_db, EDITOR, _content(description="Rançongiciel, patient 185057512345673"))
    assert accepted.declaration.reference.startswith("VIG-")
    assert accepted.redacted == 1, "the NIR is masked before anything is kept"
    declaration_id = accepted.declaration.id
    assert (
        await connection.fetchval(
            "SELECT count(*) FROM declaration_revisions WHERE declaration_id = $1", declaration_id
        )
        == 1
    )
    assert (
        await connection.fetchval("SELECT what FROM declaration_timeline WHERE declaration_id = $1", declaration_id)
        == "submitted"
    )
    assert (
        await connection.fetchval("SELECT action FROM audit_log WHERE declaration_id = $1", declaration_id) == "create"
    )
    assert await connection.fetchval("SELECT topic FROM outbox") == "declaration.submitted.v1"
    kept = await connection.fetchval("SELECT content->>'description' FROM declarations WHERE id = $1", declaration_id)
    assert "185057512345673" not in kept


async def test_a_request_sent_again_gets_the_first_answer_and_new_content_a_conflict(declaration_db: Database) -> None:
    engine, connection = declaration_db
    content = _content(serial=2)
    first = await _submit(declaration_db, EDITOR, content, key="key-1")
    again = await _submit(declaration_db, EDITOR, content, key="key-1")
    assert (again.declaration.id, again.replayed) == (first.declaration.id, True)
    async with driver(engine) as intake:
        (changed,) = await submit_declarations(intake, [prepare_submission(EDITOR, _content(serial=3), "key-1")])
    assert isinstance(changed, Conflict)
    # The key is the partner's own: another partner using it declares anew.
    other = await _submit(declaration_db, OTHER_EDITOR, content, key="key-1")
    assert other.declaration.id != first.declaration.id
    assert await connection.fetchval("SELECT count(*) FROM declarations") == 2


async def test_a_revision_written_against_an_old_revision_is_refused(declaration_db: Database) -> None:
    engine, _ = declaration_db
    accepted = await _submit(declaration_db, EDITOR, _content(serial=4))
    update = RevisionCreate(kind=RevisionKind.update, based_on=1, changes={"status": "contained"})
    async with unit_of_work(sessions(engine)) as session:
        revised = await revise_declaration(session, EDITOR, accepted.declaration.id, update)
    assert revised.revision == 2
    with pytest.raises(Conflict, match="at revision 2"):
        async with unit_of_work(sessions(engine)) as session:
            await revise_declaration(session, EDITOR, accepted.declaration.id, update)
    with pytest.raises(Denied):  # another partner's declaration does not exist for it
        async with unit_of_work(sessions(engine)) as session:
            await revise_declaration(session, OTHER_EDITOR, accepted.declaration.id, update)


async def test_a_partner_lists_its_own_and_an_ars_its_region_page_by_page(declaration_db: Database) -> None:
    engine, _ = declaration_db
    mine = [(await _submit(declaration_db, EDITOR, _content("93", 10 + i))).declaration.id for i in range(3)]
    theirs = (await _submit(declaration_db, OTHER_EDITOR, _content("84", 20))).declaration.id
    async with unit_of_work(sessions(engine)) as session:
        first, more = await list_declarations(session, EDITOR, ListFilters(), after=None, limit=2)
        last = first[-1]
        second, no_more = await list_declarations(
            session, EDITOR, ListFilters(), after=(last.received_at, last.id), limit=2
        )
        in_region, _ = await list_declarations(session, ARS_PACA, ListFilters(), after=None, limit=10)
        with pytest.raises(Denied):
            await list_declarations(session, ARS_PACA, ListFilters(region="84"), after=None, limit=10)
    assert (more, no_more) == (True, False)
    assert {d.id for d in [*first, *second]} == set(mine)
    assert {d.id for d in in_region} == set(mine), "Provence-Alpes-Côte d'Azur's, not another region's"
    async with unit_of_work(sessions(engine)) as session:
        with pytest.raises(Denied):
            await read_declaration(session, ARS_PACA, theirs)
