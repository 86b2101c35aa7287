"""The credentials that read exact figures, as the declaration service announces them, and the
dashboard's sessions: who presents what, checked against hashes only."""

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from vigie_contracts.events import CredentialChanged, CredentialKind
from vigie_kit.access import secret_sha256
from vigie_kit.db import insert_rows

from ..domain.access import Viewer
from .orm import Credential

_CREDENTIALS = Credential.__table__  # type: ignore[attr-defined]
# The latest state of each credential wins; a revoked one stays revoked, whatever arrives late.
_LATEST = (
    "(id) DO UPDATE SET principal = excluded.principal, kind = excluded.kind, name = excluded.name,"
    " region_code = excluded.region_code, secret_sha256 = excluded.secret_sha256,"
    " revoked_at = coalesce(reader_credentials.revoked_at, excluded.revoked_at)"
)


async def record_credentials(connection: asyncpg.Connection, events: Sequence[CredentialChanged]) -> None:
    latest = {event.credential_id: event for event in events}  # one row each: one statement
    rows = [
        {
            "id": credential_id,
            "principal": event.data.principal,
            "kind": event.data.kind,
            "name": event.data.name,
            "region_code": event.data.region_code,
            "secret_sha256": bytes.fromhex(event.data.secret_sha256),
            "created_at": event.data.created_at,
            "revoked_at": event.data.revoked_at,
        }
        for credential_id, event in latest.items()
    ]
    await insert_rows(connection, [(_CREDENTIALS, rows)], on_conflict=_LATEST)


_CREDENTIAL_PRESENTED = (
    "SELECT id, principal, kind, name, region_code FROM reader_credentials"
    " WHERE secret_sha256 = $1 AND revoked_at IS NULL"
)
_SESSION_PRESENTED = (
    "SELECT c.id, c.principal, c.kind, c.name, c.region_code"
    " FROM reader_sessions s JOIN reader_credentials c ON c.id = s.credential_id"
    " WHERE s.secret_sha256 = $1 AND s.expires_at > $2 AND c.revoked_at IS NULL"
)


def _viewer(row: asyncpg.Record | None) -> Viewer | None:
    if row is None:
        return None
    return Viewer(
        kind=CredentialKind(row["kind"]),
        credential_id=row["id"],
        principal=row["principal"],
        name=row["name"],
        region_code=row["region_code"],
    )


async def viewer_for_secret(connection: asyncpg.Connection, secret: str) -> Viewer | None:
    """Who presents ``secret``: an ARS or national credential, or None (unknown or revoked)."""
    return _viewer(await connection.fetchrow(_CREDENTIAL_PRESENTED, secret_sha256(secret)))


async def viewer_for_session(connection: asyncpg.Connection, secret: str, now: datetime) -> Viewer | None:
    """Who signed in to the session of ``secret``, or None once it expired or its credential was
    revoked."""
    return _viewer(await connection.fetchrow(_SESSION_PRESENTED, secret_sha256(secret), now))


_OPEN = "INSERT INTO reader_sessions (secret_sha256, credential_id, created_at, expires_at) VALUES ($1, $2, $3, $4)"
_FORGET_EXPIRED = "DELETE FROM reader_sessions WHERE expires_at <= $1"
_CLOSE = "DELETE FROM reader_sessions WHERE secret_sha256 = $1"


async def open_session(connection: asyncpg.Connection, credential_id: UUID, now: datetime, lasting: timedelta) -> str:
    """A new session for ``credential_id``: its secret, which only the person's cookie holds."""
    secret = secrets.token_urlsafe(32)
    await connection.execute(_FORGET_EXPIRED, now)
    await connection.execute(_OPEN, secret_sha256(secret), credential_id, now, now + lasting)
    return secret


async def close_session(connection: asyncpg.Connection, secret: str) -> None:
    await connection.execute(_CLOSE, secret_sha256(secret))
