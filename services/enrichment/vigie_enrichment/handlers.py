"""Use cases of the enrichment service: place a declaration revision in the territory and in its
threat context (taxonomies, severity and why, intelligence matches, campaigns, recurrence), keep
what was concluded, and publish it.

When a campaign forms, the declarations that form it learn it: their latest enrichment is
published again with the campaign (same revision, so nobody is notified twice). A declaration that
joins a campaign later is told the campaign's size with its own enrichment, and the members before
it are not told again: what was concluded about them (significant, its parent incident) does not
change as the campaign grows, and every declaration's enrichment carries the size it joined, from
which readers keep the campaign's latest (the declaration service). A mass campaign of n
declarations is n enrichments, not the waves of thousands that telling every member again would send.
"""

import logging
from datetime import UTC, datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import asyncpg

from vigie_contracts.declaration import DeclarationContent, Scope
from vigie_contracts.events import (
    CampaignLink,
    DeclarantView,
    DeclarationEnriched,
    DeclarationSubmitted,
    EnrichedData,
    ObservedIndicator,
    Place,
    SubmittedData,
    ThreatMatch,
)
from vigie_kit.consumer import processing
from vigie_kit.db import insert_rows
from vigie_kit.outbox import OUTBOX, outbox_message

from .adapters.intel import find_matches
from .adapters.orm import Enrichment
from .domain.campaigns import WINDOW, LinkKey, LinkKind, link_keys
from .domain.indicators import Observed, observed_indicators
from .domain.severity import Context, assess
from .domain.taxonomy import classify, facts_of
from .domain.territory import locate

log = logging.getLogger(__name__)

PRODUCER = "enrichment"
_REFRESH_SLICE = 200
_CAMPAIGNS = uuid5(NAMESPACE_URL, "https://vigie/campaigns")
RECURRENCE = timedelta(days=365)


def free_text(content: DeclarationContent) -> list[str]:
    texts = [content.description, content.structure.name]
    if content.provider is not None:
        texts.append(content.provider.name)
    return texts


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


async def _register(
    connection: asyncpg.Connection,
    declaration_id: UUID,
    content: DeclarationContent,
    keys: list[LinkKey],
    window: timedelta,
) -> set[UUID]:
    """Record what this declaration may share with others, link it into campaigns, and return
    the other declarations that joined a campaign with it just now (those that formed it)."""
    detected = content.detected_at
    await connection.execute(
        _LINK,
        declaration_id,
        content.structure.finess,
        detected,
        [f"{k.kind}:{k.key}" for k in keys],
        [k.kind for k in keys],
        [k.key for k in keys],
        [k.label for k in keys],
    )
    joined: set[UUID] = set()
    for link in keys:
        lower, upper = detected - window, detected + window
        campaign_id = await connection.fetchval(_CAMPAIGN, link.kind, link.key, window, detected)
        if campaign_id is None:
            counted = await connection.fetchrow(_SHARING, link.kind, link.key, lower, upper)
            assert counted is not None, "an aggregate has its row"
            sharing, earliest = counted
            if sharing < 2:
                continue
            campaign_id = uuid5(_CAMPAIGNS, f"{link.kind}:{link.key}:{earliest}")
        added = await connection.fetchval(
            _JOIN, campaign_id, declaration_id, link.label, datetime.now(UTC), link.kind, link.key, lower, upper
        )
        joined.update(added)
    joined.discard(declaration_id)
    return joined


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


async def _campaigns_of(connection: asyncpg.Connection, declaration_ids: list[UUID]) -> dict[UUID, list[CampaignLink]]:
    """The campaigns each declaration is a member of, with their sizes."""
    campaigns: dict[UUID, list[CampaignLink]] = {}
    for r in await connection.fetch(_CAMPAIGNS_OF, declaration_ids):
        link = CampaignLink(id=r["id"], kind=r["kind"], key=r["key"], label=r["label"], declarations=r["size"])
        campaigns.setdefault(r["declaration_id"], []).append(link)
    return campaigns


async def _structure_incidents(connection: asyncpg.Connection, detections: list[tuple[str, datetime]]) -> list[int]:
    """For each (FINESS, detection), the structure's incidents in the year up to it, itself included."""
    rows = await connection.fetch(
        _STRUCTURE_INCIDENTS, [f for f, _ in detections], [at for _, at in detections], RECURRENCE
    )
    return [max(int(count), 1) for _, count in rows]


Revision = tuple[UUID, SubmittedData, list[Observed]]


async def assemble(connection: asyncpg.Connection, revisions: list[Revision], now: datetime) -> list[EnrichedData]:
    """Everything enrichment concludes about each revision, from the store as it is now: three
    queries for the whole list, however long."""
    if not revisions:
        return []
    matches = await find_matches(connection, [[o.observable for o in observed] for _, _, observed in revisions])
    campaigns = await _campaigns_of(connection, [declaration_id for declaration_id, _, _ in revisions])
    recurrences = await _structure_incidents(
        connection, [(s.declaration.structure.finess, s.declaration.detected_at) for _, s, _ in revisions]
    )
    return [
        _conclude(submitted, observed, found, campaigns.get(declaration_id, []), recurrence, now)
        for (declaration_id, submitted, observed), found, recurrence in zip(
            revisions, matches, recurrences, strict=True
        )
    ]


def _conclude(
    submitted: SubmittedData,
    observed: list[Observed],
    matches: list[ThreatMatch],
    campaigns: list[CampaignLink],
    structure_incidents: int,
    now: datetime,
) -> EnrichedData:
    content = submitted.declaration
    location = locate(content.structure.finess)
    region = location.region
    parent = next((c for c in campaigns if c.kind == LinkKind.provider), None)
    provider_hit = content.provider is not None and (
        content.category == "provider_incident" or Scope.provider_hosted in content.scope or parent is not None
    )
    ransomware_cves = tuple(sorted({m.value for m in matches if m.kev and m.kev.known_ransomware_use}))
    severity = assess(
        content,
        Context(
            shared_provider=content.provider.name if provider_hit and content.provider else None,
            campaign_declarations=max((c.declarations for c in campaigns), default=0),
            ransomware_cves=ransomware_cves,
        ),
    )
    # The declarant's own: what it stated of a provider, not what others' declarations show.
    stated_provider = content.provider is not None and (
        content.category == "provider_incident" or Scope.provider_hosted in content.scope
    )
    own_severity = assess(
        content,
        Context(
            shared_provider=content.provider.name if stated_provider and content.provider else None,
            ransomware_cves=ransomware_cves,
        ),
    )
    facts = facts_of(content, {o.observable.type for o in observed})
    return EnrichedData(
        **submitted.model_dump(exclude={"declaration"}),
        declaration=content,
        departement=Place(code=location.departement.code, name=location.departement.name),
        region=Place(code=region.code, name=region.name),
        ars=Place(code=region.ars_code, name=region.ars_name),
        enriched_at=now,
        classification=classify(facts, severity),
        severity=severity,
        indicators=[
            ObservedIndicator(type=o.observable.type, value=o.observable.value, origin=o.origin) for o in observed
        ],
        matches=matches,
        campaigns=campaigns,
        parent_incident=parent,
        structure_incidents_12_months=structure_incidents,
        declarant_view=DeclarantView(severity=own_severity, classification=classify(facts, own_severity)),
    )


def _event(declaration_id: UUID, data: EnrichedData, now: datetime) -> DeclarationEnriched:
    return DeclarationEnriched(
        event_id=uuid4(),
        occurred_at=now,
        producer=PRODUCER,
        declaration_id=declaration_id,
        data=data,
    )


_ENRICHMENTS = Enrichment.__table__  # type: ignore[attr-defined]
# A revision enriched again (a campaign formed with it) has what was concluded replaced.
_REPLACE = "(declaration_id, revision) DO UPDATE SET result = excluded.result, enriched_at = excluded.enriched_at"


async def _keep(connection: asyncpg.Connection, enriched: list[tuple[UUID, EnrichedData]]) -> None:
    # One row a revision: the same revision twice in one statement would be refused.
    rows = {
        (declaration_id, data.revision): {
            "declaration_id": declaration_id,
            "revision": data.revision,
            "reference": data.reference,
            "finess": data.declaration.structure.finess,
            "departement_code": data.departement.code,
            "region_code": data.region.code,
            "result": data.model_dump(mode="json"),
            "enriched_at": data.enriched_at,
        }
        for declaration_id, data in enriched
    }
    await insert_rows(connection, [(_ENRICHMENTS, list(rows.values()))], on_conflict=_REPLACE)


async def enrich(
    connection: asyncpg.Connection, events: list[DeclarationSubmitted], *, window: timedelta = WINDOW
) -> None:
    """Enrich a batch of revisions: each is linked into its campaigns in turn, then all are
    concluded together from the store as it now is, kept and published. A revision concluded in
    the same batch as the campaign members it joined already knows them all."""
    now = datetime.now(UTC)
    revisions: list[Revision] = []
    joined: set[UUID] = set()
    for event in events:
        content = event.data.declaration
        observed = observed_indicators(content.indicators, free_text(content))
        keys = link_keys(observed, content.provider.name if content.provider else None)
        joined |= await _register(connection, event.declaration_id, content, keys, window)
        revisions.append((event.declaration_id, event.data, observed))
    enriched = list(zip([r[0] for r in revisions], await assemble(connection, revisions, now), strict=True))
    await _keep(connection, enriched)
    published = []
    for event, (declaration_id, data) in zip(events, enriched, strict=True):
        # Each revision's log line and event continue its own trace, not the batch's last.
        with processing(event):
            log.info(
                "enriched revision %d of %s: region %s, %s, %d threat matches, %d campaign links",
                data.revision,
                data.reference,
                data.region.code,
                "grave" if data.severity and data.severity.grave else "not grave",
                len(data.matches),
                len(data.campaigns),
                extra={"declaration_id": declaration_id, "reference": data.reference},
            )
            published.append(outbox_message(_event(declaration_id, data, now)))
    await insert_rows(connection, [(OUTBOX, published)])
    # A campaign may form of many declarations at once (a key shared by many that joined none):
    # they learn of it a slice at a time, so that memory holds a slice, not the campaign.
    others = sorted(joined - {event.declaration_id for event in events})
    for start in range(0, len(others), _REFRESH_SLICE):
        await _refresh(connection, others[start : start + _REFRESH_SLICE], now)


_LATEST = (
    "SELECT DISTINCT ON (declaration_id) declaration_id, result FROM enrichments"
    " WHERE declaration_id = ANY($1::uuid[]) ORDER BY declaration_id, revision DESC"
)


async def _refresh(connection: asyncpg.Connection, others: list[UUID], now: datetime) -> None:
    """Enrich again the latest revision of each of ``others`` (their campaigns changed), and
    publish it: same revision, so nobody is notified twice."""
    rows = await connection.fetch(_LATEST, others)
    revisions: list[Revision] = []
    # Linked before its own enrichment was kept, a declaration is not there: it will see the
    # campaign when it is enriched.
    for other, result in rows:
        before = EnrichedData.model_validate(result)
        submitted = SubmittedData.model_validate(before.model_dump(include=set(SubmittedData.model_fields)))
        revisions.append(
            (other, submitted, observed_indicators(before.declaration.indicators, free_text(before.declaration)))
        )
    refreshed = list(zip([r[0] for r in revisions], await assemble(connection, revisions, now), strict=True))
    await _keep(connection, refreshed)
    await insert_rows(connection, [(OUTBOX, [outbox_message(_event(other, data, now)) for other, data in refreshed])])
