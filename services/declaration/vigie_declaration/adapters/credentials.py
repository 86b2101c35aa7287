"""The credentials and principals tables: what the use cases of ``handlers`` read and write, and
the lookup of a caller by its secret, made at every request."""

from datetime import datetime
from uuid import UUID

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from vigie_kit.access import secret_sha256

from ..domain.access import Caller, CredentialKind
from ..domain.credentials import TOKEN
from .orm import Credential, Principal


async def principal_exists(session: AsyncSession, principal: str) -> bool:
    return await session.get(Principal, principal) is not None


async def principal_name(session: AsyncSession, principal: str) -> str | None:
    """The display name of ``principal``, locked until the transaction ends (so that two
    credentials created at once agree on whether it existed), or None."""
    existing = await session.get(Principal, principal, with_for_update=True)
    return None if existing is None else existing.name


async def add_principal(session: AsyncSession, principal: str, kind: CredentialKind, name: str, now: datetime) -> None:
    session.add(Principal(id=principal, kind=kind, name=name, created_at=now))
    await session.flush()  # written before the credentials that refer to it


def add_credential(session: AsyncSession, credential: Credential) -> None:
    session.add(credential)


async def all_credentials(session: AsyncSession) -> list[Credential]:
    return list(await session.scalars(sa.select(Credential).order_by(col(Credential.created_at))))


async def credential_to_change(session: AsyncSession, credential_id: UUID) -> Credential | None:
    return await session.get(Credential, credential_id, with_for_update=True)


_CALLER = (
    "SELECT id, principal, kind, finess, departements, region_code, rate_per_minute, mail_domains"
    " FROM credentials WHERE token_hash = $1 AND revoked_at IS NULL"
)


async def caller_for(connection: asyncpg.Connection, secret: str) -> Caller | None:
    """Who presents ``secret``, or None if nobody (unknown, malformed or revoked). Read on the
    driver's connection: it is read at every request."""
    if not TOKEN.match(secret):
        return None
    row = await connection.fetchrow(_CALLER, secret_sha256(secret))
    if row is None:
        return None
    return Caller(
        credential_id=row["id"],
        principal=row["principal"],
        kind=CredentialKind(row["kind"]),
        finess=frozenset(row["finess"]),
        departements=frozenset(row["departements"]),
        region_code=row["region_code"],
        rate_per_minute=row["rate_per_minute"],
        mail_domains=frozenset(row["mail_domains"]),
    )
