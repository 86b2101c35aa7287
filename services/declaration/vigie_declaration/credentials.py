"""Credentials: created, listed and revoked by the ``credentials`` command, presented by callers
as ``Authorization: Bearer <secret>``. The secret is shown once, at creation; only its hash is
stored."""

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

from vigie_contracts.events import CredentialChanged, CredentialData
from vigie_contracts.finess import InvalidFiness, parse_finess
from vigie_contracts.territory import DEPARTEMENTS, REGIONS
from vigie_kit.access import secret_sha256
from vigie_kit.outbox import add_events

from .adapters.orm import Credential, Principal
from .domain.access import ANY_DEPARTEMENT, Caller, CredentialKind

_PREFIX = {
    CredentialKind.partner: "vigp",
    CredentialKind.ars: "viga",
    CredentialKind.national: "vign",
}
_TOKEN = re.compile(r"^vig[pan]_[A-Za-z0-9_-]{43}$")


class InvalidCredential(ValueError):
    pass


def _slug(name: str) -> str:
    """``"Éditeur de démonstration"`` → ``"editeur-de-demonstration"``: a reading aid in a
    generated principal, never its identity (two names may fold into one slug)."""
    spelled = name.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    ascii_name = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-") or "unnamed"


_MAIL_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_PRINCIPAL = re.compile(r"^(partner|ars|national):[a-z0-9][a-z0-9._-]{0,79}$")


async def _principal_for(
    session: AsyncSession, kind: CredentialKind, name: str, wanted: str | None, join: bool, now: datetime
) -> str:
    """The principal a new credential acts for: a new one, named ``wanted`` or generated (its
    name's slug and random digits: unique whatever the name), or, with ``join``, the existing
    principal ``wanted``. Nobody joins an organisation without saying so."""
    if wanted is None:
        if join:
            raise InvalidCredential("--join names the principal to join: give --principal too")
        while True:
            generated = f"{kind}:{_slug(name)}-{secrets.token_hex(3)}"
            if await session.get(Principal, generated) is None:
                break
        session.add(Principal(id=generated, kind=kind, name=name, created_at=now))
        await session.flush()  # written before the credential that refers to it
        return generated
    if not _PRINCIPAL.match(wanted):
        raise InvalidCredential(
            "--principal is the kind, a colon and 1 to 80 lower-case letters, digits, '.', '_' or '-'"
            " (partner:editeur-a)"
        )
    if not wanted.startswith(f"{kind}:"):
        raise InvalidCredential(f"--principal of a {kind} credential starts with '{kind}:'")
    existing = await session.get(Principal, wanted, with_for_update=True)
    if existing is None:
        if join:
            raise InvalidCredential(f"no principal {wanted} to join")
        session.add(Principal(id=wanted, kind=kind, name=name, created_at=now))
        await session.flush()  # written before the credential that refers to it
        return wanted
    if not join:
        raise InvalidCredential(
            f"principal {wanted} exists ({existing.name}): its credentials read and revise what it declared."
            " Add --join to give it this credential, or choose another --principal"
        )
    return wanted


def _check_scope(kind: CredentialKind, finess: list[str], departements: list[str], region_code: str | None) -> None:
    """What each kind's scope is made of: a partner's structures or départements, an ARS's
    region, nothing for a national credential (it reads everything)."""
    if kind is CredentialKind.partner:
        if not finess and not departements:
            raise InvalidCredential(
                "a partner declares for FINESS numbers or départements: give --finess or --departement"
            )
        if region_code is not None:
            raise InvalidCredential("--region is for ARS credentials")
    elif kind is CredentialKind.ars:
        if region_code not in REGIONS:
            raise InvalidCredential(f"an ARS credential names its region: --region one of {', '.join(REGIONS)}")
        if finess or departements:
            raise InvalidCredential("--finess and --departement are for partner credentials")
    elif finess or departements or region_code is not None:
        raise InvalidCredential("a national credential reads everything: no --finess, --departement or --region")


async def create_credential(
    session: AsyncSession,
    *,
    kind: CredentialKind,
    name: str,
    principal: str | None = None,
    join: bool = False,
    finess: Sequence[str] = (),
    departements: Sequence[str] = (),
    region_code: str | None = None,
    rate_per_minute: int | None = None,
    mail_domains: Sequence[str] = (),
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
    domains = sorted({domain.strip().lower().rstrip(".") for domain in mail_domains})
    if bad := [domain for domain in domains if not _MAIL_DOMAIN.match(domain)]:
        raise InvalidCredential(f"--mail-domain: {', '.join(bad)} is not a domain name (chu-x.fr)")
    if domains and kind is not CredentialKind.partner:
        raise InvalidCredential("--mail-domain is for partner credentials: only partners are acknowledged")
    _check_scope(kind, allowed_finess, allowed_departements, region_code)

    now = datetime.now(UTC)
    acting_for = await _principal_for(session, kind, name.strip(), principal, join, now)
    secret = f"{_PREFIX[kind]}_{secrets.token_urlsafe(32)}"
    credential = Credential(
        id=uuid4(),
        principal=acting_for,
        kind=kind,
        name=name.strip(),
        token_hash=secret_sha256(secret),
        token_hint=secret[:9] + "…",
        finess=allowed_finess,
        departements=allowed_departements,
        region_code=region_code,
        rate_per_minute=rate_per_minute,
        mail_domains=domains,
        created_at=now,
    )
    session.add(credential)
    await _announce(session, credential)
    return credential, secret


async def _announce(session: AsyncSession, credential: Credential) -> None:
    """Tell the services that check credentials of their own (the stats service) that a
    credential reading figures was created or revoked, in the transaction that does it. A
    partner's is nobody else's business."""
    if credential.kind == CredentialKind.partner:
        return
    event = CredentialChanged(
        event_id=uuid4(),
        occurred_at=datetime.now(UTC),
        producer="declaration",
        credential_id=credential.id,
        data=CredentialData(
            principal=credential.principal,
            kind=CredentialKind(credential.kind),
            name=credential.name,
            region_code=credential.region_code,
            secret_sha256=credential.token_hash.hex(),
            created_at=credential.created_at,
            revoked_at=credential.revoked_at,
        ),
    )
    await add_events(session, [event])


async def list_credentials(session: AsyncSession) -> list[Credential]:
    return list(await session.scalars(sa.select(Credential).order_by(col(Credential.created_at))))


async def revoke_credential(session: AsyncSession, credential_id: UUID) -> Credential | None:
    credential = await session.get(Credential, credential_id, with_for_update=True)
    if credential is not None and credential.revoked_at is None:
        credential.revoked_at = datetime.now(UTC)
        await _announce(session, credential)
    return credential


_CALLER = (
    "SELECT id, principal, kind, finess, departements, region_code, rate_per_minute, mail_domains"
    " FROM credentials WHERE token_hash = $1 AND revoked_at IS NULL"
)


async def caller_for(connection: asyncpg.Connection, secret: str) -> Caller | None:
    """Who presents ``secret``, or None if nobody (unknown, malformed or revoked). Read on the
    driver's connection: it is read at every request."""
    if not _TOKEN.match(secret):
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
