"""Use cases of the enrichment service: place a declaration revision in the territory and in its
threat context (taxonomies, severity and why, intelligence matches, campaigns, recurrence), keep
what was concluded, and publish it.

When a declaration joins a campaign, the declarations it joins learn it too: their latest
enrichment is published again with the campaign (same revision, so nobody is notified twice).
"""

import logging
from datetime import UTC, datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from vigie_contracts.declaration import DeclarationContent, Scope
from vigie_contracts.events import (
    CampaignLink,
    DeclarationEnriched,
    DeclarationSubmitted,
    EnrichedData,
    ObservedIndicator,
    Place,
    SubmittedData,
    ThreatMatch,
)
from vigie_kit.consumer import processing
from vigie_kit.outbox import add_events, outbox_message, stage

from .domain.campaigns import WINDOW, LinkKey, LinkKind, link_keys
from .domain.indicators import Observed, observed_indicators
from .domain.severity import Context, assess
from .domain.taxonomy import classify, facts_of
from .domain.territory import locate
from .intel.store import find_matches
from .orm import Enrichment

log = logging.getLogger(__name__)

PRODUCER = "enrichment"
_REFRESH_SLICE = 200
_CAMPAIGNS = uuid5(NAMESPACE_URL, "https://vigie/campaigns")
RECURRENCE = timedelta(days=365)


def grown_enough(size: int) -> bool:
    """2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, …"""
    if size in (2, 3):
        return True
    while size >= 10 and size % 10 == 0:
        size //= 10
    return size in (1, 2, 5)


def grew_past_a_step(before: int, after: int) -> bool:
    """Whether a campaign that grew from ``before`` to ``after`` members reached a step."""
    return any(grown_enough(size) for size in range(max(before + 1, 2), after + 1))


def free_text(content: DeclarationContent) -> list[str]:
    texts = [content.description, content.structure.name]
    if content.provider is not None:
        texts.append(content.provider.name)
    return texts


# A declaration's facts, and the keys it may share with others. Each link is written under a lock
# on its key, taken before it, in the keys' order, so that declarations sharing a key are linked one
# at a time whichever instance sees them. A revision may have dropped an indicator or the provider:
# its links go with it.
_LINK = sa.text(
    """
    WITH incident AS (
        INSERT INTO structure_incidents (declaration_id, finess, detected_at) VALUES (:d, :finess, :at)
        ON CONFLICT (declaration_id) DO UPDATE SET detected_at = excluded.detected_at
    ), dropped AS (
        DELETE FROM declaration_links WHERE declaration_id = :d AND NOT (kind || ':' || key = ANY(:keep))
    )
    INSERT INTO declaration_links (declaration_id, kind, key, label, detected_at)
    SELECT :d, l.kind, l.key, l.label, :at
    FROM unnest(CAST(:kinds AS text[]), CAST(:keys AS text[]), CAST(:labels AS text[])) AS l(kind, key, label)
    CROSS JOIN LATERAL (SELECT pg_advisory_xact_lock(hashtext(l.kind || ':' || l.key))) AS locked
    ON CONFLICT (declaration_id, kind, key) DO UPDATE SET detected_at = excluded.detected_at
    """
)
# The campaign of this key that a declaration detected at :at falls in, if any.
_CAMPAIGN = sa.text(
    "SELECT id FROM campaigns WHERE kind = :kind AND key = :key"
    " AND first_detected_at - CAST(:window AS interval) <= :at"
    " AND last_detected_at + CAST(:window AS interval) >= :at"
    " ORDER BY first_detected_at LIMIT 1"
)
# With no campaign yet: how many declarations share the key within the window, and the earliest,
# after which a campaign they form is named, whichever instance sees it.
_SHARING = sa.text(
    "SELECT count(*) AS sharing, (SELECT declaration_id FROM declaration_links"
    "   WHERE kind = :kind AND key = :key AND detected_at BETWEEN :lower AND :upper"
    "   ORDER BY detected_at, declaration_id LIMIT 1) AS earliest"
    " FROM declaration_links WHERE kind = :kind AND key = :key AND detected_at BETWEEN :lower AND :upper"
)
# Into the campaign go the declarations sharing the key within the window that joined none yet
# (those that did are members already): in a mass campaign, the newcomer alone, not the thousands
# before it. The campaign is created by its first members, grows by the newcomers, spans their
# detections and this declaration's (a revision may have moved it), and says its size.
_JOIN = sa.text(
    """
    WITH newcomers AS (
        SELECT declaration_id, detected_at FROM declaration_links
        WHERE kind = :kind AND key = :key AND NOT joined AND detected_at BETWEEN :lower AND :upper
        UNION
        SELECT declaration_id, detected_at FROM declaration_links
        WHERE declaration_id = :d AND kind = :kind AND key = :key
    ), added AS (
        INSERT INTO campaign_members (campaign_id, declaration_id, joined_at)
        SELECT :c, declaration_id, :now FROM newcomers
        ON CONFLICT DO NOTHING RETURNING declaration_id
    ), marked AS (
        UPDATE declaration_links SET joined = true
        WHERE kind = :kind AND key = :key AND declaration_id IN (SELECT declaration_id FROM newcomers)
    ), campaign AS (
        INSERT INTO campaigns (id, kind, key, label, first_detected_at, last_detected_at, created_at, size)
        SELECT :c, :kind, :key, :label, min(detected_at), max(detected_at), :now, (SELECT count(*) FROM added)
        FROM newcomers HAVING count(*) > 0
        ON CONFLICT (id) DO UPDATE SET
            size = campaigns.size + excluded.size,
            first_detected_at = LEAST(campaigns.first_detected_at, excluded.first_detected_at),
            last_detected_at = GREATEST(campaigns.last_detected_at, excluded.last_detected_at)
        RETURNING size
    )
    SELECT (SELECT size FROM campaign) AS size, ARRAY(SELECT declaration_id FROM added) AS added
    """
)


async def _register(
    session: AsyncSession,
    declaration_id: UUID,
    content: DeclarationContent,
    keys: list[LinkKey],
    window: timedelta,
) -> set[UUID]:
    """Record what this declaration may share with others, link it into campaigns, and return
    the other declarations that joined a campaign with it just now, or that should learn that
    their campaign grew."""
    detected = content.detected_at
    await session.execute(
        _LINK,
        {
            "d": declaration_id,
            "finess": content.structure.finess,
            "at": detected,
            "keep": [f"{k.kind}:{k.key}" for k in keys],
            "kinds": [k.kind for k in keys],
            "keys": [k.key for k in keys],
            "labels": [k.label for k in keys],
        },
    )
    joined: set[UUID] = set()
    for link in keys:
        in_window = {"kind": link.kind, "key": link.key, "lower": detected - window, "upper": detected + window}
        campaign_id = await session.scalar(
            _CAMPAIGN, {"kind": link.kind, "key": link.key, "window": window, "at": detected}
        )
        if campaign_id is None:
            sharing, earliest = (await session.execute(_SHARING, in_window)).one()
            if sharing < 2:
                continue
            campaign_id = uuid5(_CAMPAIGNS, f"{link.kind}:{link.key}:{earliest}")
        size, added = (
            await session.execute(
                _JOIN,
                {"c": campaign_id, "d": declaration_id, "label": link.label, "now": datetime.now(UTC), **in_window},
            )
        ).one()
        if not added:
            continue
        joined.update(added)
        if grew_past_a_step(size - len(added), size):
            # Members learn the campaign's size again only as it grows by steps (2, 3, 5, 10, 20,
            # 50, …): a mass campaign of n declarations republishes O(n log n) events, not O(n²).
            everyone = await session.scalars(
                sa.text("SELECT declaration_id FROM campaign_members WHERE campaign_id = :c"), {"c": campaign_id}
            )
            joined.update(everyone)
    joined.discard(declaration_id)
    return joined


async def _campaigns_of(session: AsyncSession, declaration_ids: list[UUID]) -> dict[UUID, list[CampaignLink]]:
    """The campaigns each declaration is a member of, with their sizes."""
    rows = await session.execute(
        sa.text(
            "SELECT m.declaration_id, c.id, c.kind, c.key, c.label, c.size AS n"
            " FROM campaign_members m JOIN campaigns c ON c.id = m.campaign_id WHERE m.declaration_id = ANY(:ids)"
            " ORDER BY m.declaration_id, c.kind, c.key, c.first_detected_at"
        ),
        {"ids": declaration_ids},
    )
    campaigns: dict[UUID, list[CampaignLink]] = {}
    for r in rows:
        link = CampaignLink(id=r.id, kind=r.kind, key=r.key, label=r.label, declarations=r.n)
        campaigns.setdefault(r.declaration_id, []).append(link)
    return campaigns


async def _structure_incidents(session: AsyncSession, detections: list[tuple[str, datetime]]) -> list[int]:
    """For each (FINESS, detection), the structure's incidents in the year up to it, itself included."""
    rows = await session.execute(
        sa.text(
            "SELECT w.i, count(s.declaration_id)"
            " FROM unnest(CAST(:finess AS text[]), CAST(:at AS timestamptz[])) WITH ORDINALITY AS w(finess, at, i)"
            " LEFT JOIN structure_incidents s"
            "   ON s.finess = w.finess AND s.detected_at BETWEEN w.at - CAST(:recurrence AS interval) AND w.at"
            " GROUP BY w.i ORDER BY w.i"
        ),
        {"finess": [f for f, _ in detections], "at": [at for _, at in detections], "recurrence": RECURRENCE},
    )
    return [max(int(count), 1) for _, count in rows]


Revision = tuple[UUID, SubmittedData, list[Observed]]


async def assemble(session: AsyncSession, revisions: list[Revision], now: datetime) -> list[EnrichedData]:
    """Everything enrichment concludes about each revision, from the store as it is now: three
    queries for the whole list, however long."""
    if not revisions:
        return []
    matches = await find_matches(session, [[o.observable for o in observed] for _, _, observed in revisions])
    campaigns = await _campaigns_of(session, [declaration_id for declaration_id, _, _ in revisions])
    recurrences = await _structure_incidents(
        session, [(s.declaration.structure.finess, s.declaration.detected_at) for _, s, _ in revisions]
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
    severity = assess(
        content,
        Context(
            shared_provider=content.provider.name if provider_hit and content.provider else None,
            campaign_declarations=max((c.declarations for c in campaigns), default=0),
            ransomware_cves=tuple(sorted({m.value for m in matches if m.kev and m.kev.known_ransomware_use})),
        ),
    )
    return EnrichedData(
        **submitted.model_dump(exclude={"declaration"}),
        declaration=content,
        departement=Place(code=location.departement.code, name=location.departement.name),
        region=Place(code=region.code, name=region.name),
        ars=Place(code=region.ars_code, name=region.ars_name),
        enriched_at=now,
        classification=classify(facts_of(content, {o.observable.type for o in observed}), severity),
        severity=severity,
        indicators=[
            ObservedIndicator(type=o.observable.type, value=o.observable.value, origin=o.origin) for o in observed
        ],
        matches=matches,
        campaigns=campaigns,
        parent_incident=parent,
        structure_incidents_12_months=structure_incidents,
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
_KEEP = insert(_ENRICHMENTS)
_KEEP = _KEEP.on_conflict_do_update(
    index_elements=["declaration_id", "revision"],
    set_={"result": _KEEP.excluded.result, "enriched_at": _KEEP.excluded.enriched_at},
)


async def _keep(session: AsyncSession, enriched: list[tuple[UUID, EnrichedData]]) -> None:
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
    if rows:
        await session.execute(_KEEP, list(rows.values()))


async def enrich(session: AsyncSession, events: list[DeclarationSubmitted], *, window: timedelta = WINDOW) -> None:
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
        joined |= await _register(session, event.declaration_id, content, keys, window)
        revisions.append((event.declaration_id, event.data, observed))
    enriched = list(zip([r[0] for r in revisions], await assemble(session, revisions, now), strict=True))
    await _keep(session, enriched)
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
    await stage(session, published)
    # The campaign a member of a mass campaign joins may hold thousands of others: they learn
    # of it a slice at a time, so that memory holds a slice, not the campaign.
    others = sorted(joined - {event.declaration_id for event in events})
    for start in range(0, len(others), _REFRESH_SLICE):
        await _refresh(session, others[start : start + _REFRESH_SLICE], now)


async def _refresh(session: AsyncSession, others: list[UUID], now: datetime) -> None:
    """Enrich again the latest revision of each of ``others`` (their campaigns changed), and
    publish it: same revision, so nobody is notified twice."""
    rows = await session.execute(
        sa.text(
            "SELECT DISTINCT ON (declaration_id) declaration_id, result FROM enrichments"
            " WHERE declaration_id = ANY(:ids) ORDER BY declaration_id, revision DESC"
        ),
        {"ids": others},
    )
    revisions: list[Revision] = []
    # Linked before its own enrichment was kept, a declaration is not there: it will see the
    # campaign when it is enriched.
    for other, result in rows:
        before = EnrichedData.model_validate(result)
        submitted = SubmittedData.model_validate(before.model_dump(include=set(SubmittedData.model_fields)))
        revisions.append(
            (other, submitted, observed_indicators(before.declaration.indicators, free_text(before.declaration)))
        )
    refreshed = list(zip([r[0] for r in revisions], await assemble(session, revisions, now), strict=True))
    await _keep(session, refreshed)
    await add_events(session, [_event(other, data, now) for other, data in refreshed])
