"""The threat-intelligence store: loading a source replaces what that source said before, in one
transaction, so a reload is idempotent and a failed one changes nothing."""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from vigie_contracts.declaration import IndicatorType
from vigie_contracts.events import KevEntry, ThreatMatch

from ..domain.indicators import Observable, parent_domains
from .feeds import IntelBatch


@dataclass(frozen=True)
class LoadReport:
    source: str
    kind: str
    indicators: int
    vulnerabilities: int
    skipped: dict[str, int]
    unchanged: bool


def digest(batch: IntelBatch) -> str:
    content = {
        "indicators": sorted(
            [i.type, i.value, i.reference, list(i.tags), i.threat_actor, i.malware, i.description]
            for i in batch.indicators
        ),
        "vulnerabilities": sorted(
            [v.cve, v.vendor, v.product, v.name, v.date_added.isoformat(), v.known_ransomware_use]
            for v in batch.vulnerabilities
        ),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


async def load(session: AsyncSession, source: str, batch: IntelBatch) -> LoadReport:
    """Replace ``source``'s intelligence with ``batch`` (within the caller's transaction)."""
    fingerprint = digest(batch)
    report = LoadReport(
        source=source,
        kind=batch.kind,
        indicators=len(batch.indicators),
        vulnerabilities=len(batch.vulnerabilities),
        skipped=dict(batch.skipped),
        unchanged=False,
    )
    # One loader per source at a time; a second one waits, then finds the work done.
    await session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:source))"), {"source": source})
    previous = await session.scalar(sa.text("SELECT digest FROM ti_loads WHERE source = :s"), {"s": source})
    if previous == fingerprint:
        return LoadReport(**{**report.__dict__, "unchanged": True})
    await session.execute(sa.text("DELETE FROM ti_indicators WHERE source = :s"), {"s": source})
    await session.execute(sa.text("DELETE FROM ti_vulnerabilities WHERE source = :s"), {"s": source})
    raw = (await (await session.connection()).get_raw_connection()).driver_connection
    assert raw is not None
    if batch.indicators:
        await raw.copy_records_to_table(
            "ti_indicators",
            columns=[
                "source",
                "type",
                "value",
                "reference",
                "tags",
                "threat_actor",
                "malware",
                "description",
                "first_seen",
            ],
            records=[
                (
                    source,
                    i.type.value,
                    i.value,
                    i.reference,
                    list(i.tags),
                    i.threat_actor,
                    i.malware,
                    i.description,
                    i.first_seen,
                )
                for i in batch.indicators
            ],
        )
    if batch.vulnerabilities:
        await raw.copy_records_to_table(
            "ti_vulnerabilities",
            columns=[
                "source",
                "cve",
                "vendor",
                "product",
                "name",
                "date_added",
                "known_ransomware_use",
                "description",
            ],
            records=[
                (
                    source,
                    v.cve,
                    v.vendor,
                    v.product,
                    v.name,
                    v.date_added,
                    v.known_ransomware_use,
                    v.description,
                )
                for v in batch.vulnerabilities
            ],
        )
    await session.execute(
        sa.text(
            "INSERT INTO ti_loads (source, kind, digest, indicators, vulnerabilities, skipped, loaded_at)"
            " VALUES (:source, :kind, :digest, :indicators, :vulnerabilities, CAST(:skipped AS jsonb), :at)"
            " ON CONFLICT (source) DO UPDATE SET kind = excluded.kind, digest = excluded.digest,"
            " indicators = excluded.indicators, vulnerabilities = excluded.vulnerabilities,"
            " skipped = excluded.skipped, loaded_at = excluded.loaded_at"
        ),
        {
            "source": source,
            "kind": batch.kind,
            "digest": fingerprint,
            "indicators": len(batch.indicators),
            "vulnerabilities": len(batch.vulnerabilities),
            "skipped": json.dumps(dict(batch.skipped)),
            "at": datetime.now(UTC),
        },
    )
    return report


async def sources(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(sa.text("SELECT * FROM ti_loads ORDER BY source"))
    return [dict(row._mapping) for row in rows]


def _lookups(observable: Observable) -> list[tuple[str, str]]:
    """Where the intelligence may list an observed indicator: itself, and for a name the domains
    above it (a feed listing ``evil.com`` covers ``login.evil.com``)."""
    pairs = [(observable.type.value, observable.value)]
    host = None
    if observable.type is IndicatorType.domain:
        host = observable.value
    elif observable.type is IndicatorType.url:
        host = observable.value.split("/")[2].split(":")[0]
    elif observable.type is IndicatorType.email:
        host = observable.value.rpartition("@")[2]
    if host is not None:
        pairs += [(IndicatorType.domain.value, domain) for domain in [host, *parent_domains(host)]]
    return list(dict.fromkeys(pairs))


_INDICATORS = (
    "SELECT i.type, i.value, i.source, i.tags, i.threat_actor, i.malware, i.description"
    " FROM ti_indicators i"
    " JOIN unnest($1::text[], $2::text[]) AS w(type, value) ON i.type = w.type AND i.value = w.value"
    " ORDER BY i.source, i.id"
)
_VULNERABILITIES = "SELECT * FROM ti_vulnerabilities WHERE cve = ANY($1::text[]) ORDER BY cve, source"


async def find_matches(
    connection: asyncpg.Connection, observed: Sequence[Iterable[Observable]]
) -> list[list[ThreatMatch]]:
    """The intelligence matches of each list of observables (one list per declaration), looked up
    together: two queries for a whole batch of declarations, whatever its size, on the driver's
    connection (in the transaction it is in)."""
    lists = [list(observables) for observables in observed]
    pairs = list(dict.fromkeys(pair for observables in lists for o in observables for pair in _lookups(o)))
    cves = sorted({o.value for observables in lists for o in observables if o.type is IndicatorType.cve})
    indicators: list[asyncpg.Record] = []
    vulnerabilities: list[asyncpg.Record] = []
    if pairs:
        indicators = await connection.fetch(_INDICATORS, [t for t, _ in pairs], [v for _, v in pairs])
    if cves:
        vulnerabilities = await connection.fetch(_VULNERABILITIES, cves)
    return [_matches(observables, indicators, vulnerabilities) for observables in lists]


def _matches(
    observed: list[Observable], indicators: Sequence[asyncpg.Record], vulnerabilities: Sequence[asyncpg.Record]
) -> list[ThreatMatch]:
    """Which of the rows found are about these observables, as matches."""
    wanted: dict[tuple[str, str], list[Observable]] = {}
    for observable in observed:
        for pair in _lookups(observable):
            wanted.setdefault(pair, []).append(observable)
    matches: dict[tuple[str, str, str, str], ThreatMatch] = {}
    for row in indicators:
        for observable in wanted.get((row["type"], row["value"]), ()):
            key = (observable.type, observable.value, row["value"], row["source"])
            if key in matches:
                continue
            matches[key] = ThreatMatch(
                type=observable.type,
                value=observable.value,
                matched=row["value"],
                source=row["source"],
                tags=list(row["tags"]),
                threat_actor=row["threat_actor"],
                malware=row["malware"],
                description=row["description"],
            )
    cves = {o.value for o in observed if o.type is IndicatorType.cve}
    for row in vulnerabilities:
        if row["cve"] not in cves:
            continue
        kev = KevEntry(
            cve=row["cve"],
            vendor=row["vendor"],
            product=row["product"],
            name=row["name"],
            date_added=row["date_added"],
            known_ransomware_use=row["known_ransomware_use"],
        )
        key = (IndicatorType.cve, row["cve"], row["cve"], row["source"])
        existing = matches.get(key)
        if existing is not None:
            matches[key] = existing.model_copy(update={"kev": kev})
        else:
            matches[key] = ThreatMatch(
                type=IndicatorType.cve,
                value=row["cve"],
                matched=row["cve"],
                source=row["source"],
                tags=["kev"] + (["ransomware"] if row["known_ransomware_use"] else []),
                description=row["description"],
                kev=kev,
            )
    return sorted(matches.values(), key=lambda m: (m.type, m.value, m.source))
