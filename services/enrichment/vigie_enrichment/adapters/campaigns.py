"""What enrichment keeps to link declarations: each structure's incidents, the keys each
declaration may share with others (an indicator, a provider), and the campaigns they form."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from vigie_contracts.events import CampaignLink

from ..domain.campaigns import LinkKey

# A declaration's facts, and the keys it may share with others. Each link is written under a lock
# on its key, taken before it, in the keys' order, so that declarations sharing a key are linked one
# at a time whichever instance sees them. A revision may have dropped an indicator or the provider:
# its links go with it.
# ($1 the declaration, $2 its FINESS, $3 its detection, $4 the "kind:key" it keeps, $5 to $7 the
# kinds, keys and labels of its links.)
_LINK = """
    WITH incident AS (
        INSERT INTO structure_incidents (declaration_id, finess, detected_at) VALUES ($1::uuid, $2, $3::timestamptz)
        ON CONFLICT (declaration_id) DO UPDATE SET detected_at = excluded.detected_at
    ), dropped AS (
        DELETE FROM declaration_links WHERE declaration_id = $1 AND NOT (kind || ':' || key = ANY($4::text[]))
    )
    INSERT INTO declaration_links (declaration_id, kind, key, label, detected_at)
    SELECT $1, l.kind, l.key, l.label, $3
    FROM unnest($5::text[], $6::text[], $7::text[]) AS l(kind, key, label)
    CROSS JOIN LATERAL (SELECT pg_advisory_xact_lock(hashtext(l.kind || ':' || l.key))) AS locked
    ON CONFLICT (declaration_id, kind, key) DO UPDATE SET detected_at = excluded.detected_at
"""
# The campaign of this key ($1, $2) that a declaration detected at $4 falls in, if any ($3 the window).
_CAMPAIGN = (
    "SELECT id FROM campaigns WHERE kind = $1 AND key = $2"
    " AND first_detected_at - $3::interval <= $4::timestamptz"
    " AND last_detected_at + $3::interval >= $4::timestamptz"
    " ORDER BY first_detected_at LIMIT 1"
)
# With no campaign yet: how many declarations share the key ($1, $2) within the window ($3 to $4),
# and the earliest, after which a campaign they form is named, whichever instance sees it.
_SHARING = (
    "SELECT count(*) AS sharing, (SELECT declaration_id FROM declaration_links"
    "   WHERE kind = $1 AND key = $2 AND detected_at BETWEEN $3::timestamptz AND $4::timestamptz"
    "   ORDER BY detected_at, declaration_id LIMIT 1) AS earliest"
    " FROM declaration_links WHERE kind = $1 AND key = $2 AND detected_at BETWEEN $3 AND $4"
)
# Into the campaign go the declarations sharing the key within the window that joined none yet
# (those that did are members already): in a mass campaign, the newcomer alone, not the thousands
# before it. The campaign is created by its first members, grows by the newcomers, spans their
# detections and this declaration's (a revision may have moved it), and says its size.
# ($1 the campaign, $2 the declaration, $3 the label, $4 now, $5 and $6 the kind and key, $7 to
# $8 the window.)
_JOIN = """
    WITH newcomers AS (
        SELECT declaration_id, detected_at FROM declaration_links
        WHERE kind = $5 AND key = $6 AND NOT joined AND detected_at BETWEEN $7::timestamptz AND $8::timestamptz
        UNION
        SELECT declaration_id, detected_at FROM declaration_links
        WHERE declaration_id = $2::uuid AND kind = $5 AND key = $6
    ), added AS (
        INSERT INTO campaign_members (campaign_id, declaration_id, joined_at)
        SELECT $1::uuid, declaration_id, $4::timestamptz FROM newcomers
        ON CONFLICT DO NOTHING RETURNING declaration_id
    ), marked AS (
        UPDATE declaration_links SET joined = true
        WHERE kind = $5 AND key = $6 AND declaration_id IN (SELECT declaration_id FROM newcomers)
    ), campaign AS (
        INSERT INTO campaigns (id, kind, key, label, first_detected_at, last_detected_at, created_at, size)
        SELECT $1, $5, $6, $3::text, min(detected_at), max(detected_at), $4, (SELECT count(*) FROM added)
        FROM newcomers HAVING count(*) > 0
        ON CONFLICT (id) DO UPDATE SET
            size = campaigns.size + excluded.size,
            first_detected_at = LEAST(campaigns.first_detected_at, excluded.first_detected_at),
            last_detected_at = GREATEST(campaigns.last_detected_at, excluded.last_detected_at)
    )
    SELECT ARRAY(SELECT declaration_id FROM added) AS added
"""


async def keep_links(
    connection: asyncpg.Connection, declaration_id: UUID, finess: str, detected: datetime, keys: Sequence[LinkKey]
) -> None:
    """Record the declaration's incident and the keys it may share, dropping those a revision
    no longer has."""
    await connection.execute(
        _LINK,
        declaration_id,
        finess,
        detected,
        [f"{k.kind}:{k.key}" for k in keys],
        [k.kind for k in keys],
        [k.key for k in keys],
        [k.label for k in keys],
    )


async def campaign_around(
    connection: asyncpg.Connection, link: LinkKey, window: timedelta, at: datetime
) -> UUID | None:
    """The campaign of this key that a declaration detected ``at`` falls in, if any."""
    found: UUID | None = await connection.fetchval(_CAMPAIGN, link.kind, link.key, window, at)
    return found


async def sharing(connection: asyncpg.Connection, link: LinkKey, lower: datetime, upper: datetime) -> tuple[int, UUID]:
    """How many declarations detected from ``lower`` to ``upper`` share the key, and the earliest."""
    counted = await connection.fetchrow(_SHARING, link.kind, link.key, lower, upper)
    assert counted is not None, "an aggregate has its row"
    return int(counted[0]), counted[1]


async def join_campaign(
    connection: asyncpg.Connection,
    campaign_id: UUID,
    declaration_id: UUID,
    link: LinkKey,
    now: datetime,
    lower: datetime,
    upper: datetime,
) -> list[UUID]:
    """Put into the campaign the declarations sharing the key that joined none yet, and this
    one; returns those added."""
    added: list[UUID] = await connection.fetchval(
        _JOIN, campaign_id, declaration_id, link.label, now, link.kind, link.key, lower, upper
    )
    return added


_CAMPAIGNS_OF = (
    "SELECT m.declaration_id, c.id, c.kind, c.key, c.label, c.size"
    " FROM campaign_members m JOIN campaigns c ON c.id = m.campaign_id WHERE m.declaration_id = ANY($1::uuid[])"
    " ORDER BY m.declaration_id, c.kind, c.key, c.first_detected_at"
)
_STRUCTURE_INCIDENTS = (
    "SELECT w.i, count(s.declaration_id)"
    " FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS w(finess, at, i)"
    " LEFT JOIN structure_incidents s"
    "   ON s.finess = w.finess AND s.detected_at BETWEEN w.at - $3::interval AND w.at"
    " GROUP BY w.i ORDER BY w.i"
)


async def campaigns_of(connection: asyncpg.Connection, declaration_ids: list[UUID]) -> dict[UUID, list[CampaignLink]]:
    """The campaigns each declaration is a member of, with their sizes."""
    campaigns: dict[UUID, list[CampaignLink]] = {}
    for r in await connection.fetch(_CAMPAIGNS_OF, declaration_ids):
        link = CampaignLink(id=r["id"], kind=r["kind"], key=r["key"], label=r["label"], declarations=r["size"])
        campaigns.setdefault(r["declaration_id"], []).append(link)
    return campaigns


async def structure_incidents(
    connection: asyncpg.Connection, detections: list[tuple[str, datetime]], recurrence: timedelta
) -> list[int]:
    """For each (FINESS, detection), the structure's incidents in the year up to it, itself included."""
    rows = await connection.fetch(
        _STRUCTURE_INCIDENTS, [f for f, _ in detections], [at for _, at in detections], recurrence
    )
    return [max(int(count), 1) for _, count in rows]
