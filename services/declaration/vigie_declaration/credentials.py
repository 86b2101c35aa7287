"""Credentials: created, listed and revoked by the ``credentials`` command, presented by callers
as ``Authorization: Bearer <secret>``. The secret is shown once, at creation; only its hash is
stored."""

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from vigie_contracts.finess import InvalidFiness, parse_finess
from vigie_contracts.territory import DEPARTEMENTS, REGIONS

from .adapters.orm import Credential
from .domain.access import ANY_DEPARTEMENT, Caller, CredentialKind

_PREFIX = {
    CredentialKind.partner: "vigp",
    CredentialKind.ars: "viga",
    CredentialKind.national: "vign",
}
_TOKEN = re.compile(r"^vig[pan]_[A-Za-z0-9_-]{43}$")


class InvalidCredential(ValueError):
    pass


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _slug(name: str) -> str:
    """``"Éditeur de démonstration"`` → ``"editeur-de-demonstration"``."""
    spelled = name.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    ascii_name = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "unnamed"


async def create_credential(
    session: AsyncSession,
    *,
    kind: CredentialKind,
    name: str,
    principal: str | None = None,
    finess: Sequence[str] = (),
    departements: Sequence[str] = (),
    region_code: str | None = None,
    rate_per_minute: int | None = None,
) -> tuple[Credential, str]:
    """A new credential and its secret (the only time the secret exists outside the caller)."""
    if not name.strip():
        raise InvalidCredential("a credential has a name")
    try:
        allowed_finess = sorted({parse_finess(number).number for number in finess})
    except InvalidFiness as error:
        raise InvalidCredential(f"--finess: {error}") from None
    allowed_departements = sorted({code.upper() if code != ANY_DEPARTEMENT else code for code in departements})
    unknown = [code for code in allowed_departements if code != ANY_DEPARTEMENT and code not in DEPARTEMENTS]
    if unknown:
        raise InvalidCredential(f"--departement: no département {', '.join(unknown)}")
    if rate_per_minute is not None and rate_per_minute < 1:
        raise InvalidCredential("--rate is at least 1 request per minute")
    if kind is CredentialKind.partner:
        if not allowed_finess and not allowed_departements:
            raise InvalidCredential(
                "a partner declares for FINESS numbers or départements: give --finess or --departement"
            )
        if region_code is not None:
            raise InvalidCredential("--region is for ARS credentials")
        principal = principal or f"partner:{_slug(name)}"
    elif kind is CredentialKind.ars:
        if region_code not in REGIONS:
            raise InvalidCredential(f"an ARS credential names its region: --region one of {', '.join(REGIONS)}")
        if allowed_finess or allowed_departements:
            raise InvalidCredential("--finess and --departement are for partner credentials")
        principal = principal or f"ars:{REGIONS[region_code].ars_code}"
    else:
        if allowed_finess or allowed_departements or region_code is not None:
            raise InvalidCredential("a national credential reads everything: no --finess, --departement or --region")
        principal = principal or "national:cert-sante"

    secret = f"{_PREFIX[kind]}_{secrets.token_urlsafe(32)}"
    credential = Credential(
        id=uuid4(),
        principal=principal,
        kind=kind,
        name=name.strip(),
        token_hash=hash_secret(secret),
        token_hint=secret[:9] + "…",
        finess=allowed_finess,
        departements=allowed_departements,
        region_code=region_code,
        rate_per_minute=rate_per_minute,
        created_at=datetime.now(UTC),
    )
    session.add(credential)
    return credential, secret


async def list_credentials(session: AsyncSession) -> list[Credential]:
    return list(await session.scalars(sa.select(Credential).order_by(col(Credential.created_at))))


async def revoke_credential(session: AsyncSession, credential_id: UUID) -> Credential | None:
    credential = await session.get(Credential, credential_id, with_for_update=True)
    if credential is not None and credential.revoked_at is None:
        credential.revoked_at = datetime.now(UTC)
    return credential


_CALLER = (
    "SELECT id, principal, kind, finess, departements, region_code, rate_per_minute"
    " FROM credentials WHERE token_hash = $1 AND revoked_at IS NULL"
)


async def caller_for(connection: asyncpg.Connection, secret: str) -> Caller | None:
    """Who presents ``secret``, or None if nobody (unknown, malformed or revoked). Read on the
    driver's connection: it is read at every request."""
    if not _TOKEN.match(secret):
        return None
    row = await connection.fetchrow(_CALLER, hash_secret(secret))
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
    )
