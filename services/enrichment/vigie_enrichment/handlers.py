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

from .adapters import campaigns, enrichments
from .adapters.intel import find_matches
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
    await campaigns.keep_links(connection, declaration_id, content.structure.finess, detected, keys)
    joined: set[UUID] = set()
    for link in keys:
        lower, upper = detected - window, detected + window
        campaign_id = await campaigns.campaign_around(connection, link, window, detected)
        if campaign_id is None:
            sharing, earliest = await campaigns.sharing(connection, link, lower, upper)
            if sharing < 2:
                continue
            campaign_id = uuid5(_CAMPAIGNS, f"{link.kind}:{link.key}:{earliest}")
        added = await campaigns.join_campaign(
            connection, campaign_id, declaration_id, link, datetime.now(UTC), lower, upper
        )
        joined.update(added)
    joined.discard(declaration_id)
    return joined


Revision = tuple[UUID, SubmittedData, list[Observed]]


async def assemble(connection: asyncpg.Connection, revisions: list[Revision], now: datetime) -> list[EnrichedData]:
    """Everything enrichment concludes about each revision, from the store as it is now: three
    queries for the whole list, however long."""
    if not revisions:
        return []
    matches = await find_matches(connection, [[o.observable for o in observed] for _, _, observed in revisions])
    memberships = await campaigns.campaigns_of(connection, [declaration_id for declaration_id, _, _ in revisions])
    recurrences = await campaigns.structure_incidents(
        connection, [(s.declaration.structure.finess, s.declaration.detected_at) for _, s, _ in revisions], RECURRENCE
    )
    return [
        _conclude(submitted, observed, found, memberships.get(declaration_id, []), recurrence, now)
        for (declaration_id, submitted, observed), found, recurrence in zip(
            revisions, matches, recurrences, strict=True
        )
    ]


def _conclude(
    submitted: SubmittedData,
    observed: list[Observed],
    matches: list[ThreatMatch],
    memberships: list[CampaignLink],
    structure_incidents: int,
    now: datetime,
) -> EnrichedData:
    content = submitted.declaration
    location = locate(content.structure.finess)
    region = location.region
    parent = next((c for c in memberships if c.kind == LinkKind.provider), None)
    provider_hit = content.provider is not None and (
        content.category == "provider_incident" or Scope.provider_hosted in content.scope or parent is not None
    )
    ransomware_cves = tuple(sorted({m.value for m in matches if m.kev and m.kev.known_ransomware_use}))
    severity = assess(
        content,
        Context(
            shared_provider=content.provider.name if provider_hit and content.provider else None,
            campaign_declarations=max((c.declarations for c in memberships), default=0),
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
        campaigns=memberships,
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


async def _keep(connection: asyncpg.Connection, enriched: list[tuple[UUID, EnrichedData]]) -> None:
    rows = {  # one row a revision
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
    await enrichments.keep(connection, list(rows.values()))


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


async def _refresh(connection: asyncpg.Connection, others: list[UUID], now: datetime) -> None:
    """Enrich again the latest revision of each of ``others`` (their campaigns changed), and
    publish it: same revision, so nobody is notified twice."""
    rows = await enrichments.latest(connection, others)
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
