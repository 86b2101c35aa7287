"""Use cases of the declaration service. Each runs inside one unit of work given by its caller:
a session in a transaction for an HTTP route, the driver's connection in one for the intake's
group commit and for an event subscription."""

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from vigie_contracts.declaration import ADMITTING, HELD, Category, DeclarationContent
from vigie_contracts.events import (
    CredentialChanged,
    CredentialData,
    DeclarationEnriched,
    DeclarationSubmitted,
    NotificationDispatched,
    Outcome,
    RecipientKind,
    RevisionKind,
    SubmittedData,
)
from vigie_contracts.finess import parse_finess
from vigie_contracts.territory import DEPARTEMENTS, Departement
from vigie_kit.access import secret_sha256
from vigie_kit.db import json_text
from vigie_kit.outbox import add_events, outbox_message
from vigie_kit.periods import period_bounds
from vigie_kit.telemetry import trace_headers

from .adapters import credentials, declarations
from .adapters.declarations import StatusFacts
from .adapters.orm import (
    AuditEntry,
    Credential,
    Declaration,
    DeclarationNotification,
    DeclarationRevision,
    IdempotencyKey,
    TimelineEntry,
)
from .domain.access import Acknowledgement, Caller, CredentialKind, Denied
from .domain.credentials import PREFIX, InvalidCredential, check_principal, credential_scope, slug
from .domain.declaration import DeclarationStatus, reference, status_of
from .domain.privacy import redact
from .domain.revision import RevisionCreate, apply_changes

PRODUCER = "declaration"


class UnknownDeclaration(LookupError):
    pass


class Conflict(Exception):
    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidRevision(Exception):
    """The revised declaration does not validate; errors are located under ``changes``."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class Accepted:
    declaration: Declaration
    revision: int
    redacted: int
    replayed: bool = False
    response: dict[str, Any] = field(default_factory=dict)
    acknowledgement: Acknowledgement | None = None


def _request_hash(payload: dict[str, Any]) -> bytes:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).digest()


async def _replay(session: AsyncSession, caller: Caller, key: str | None, request_hash: bytes) -> IdempotencyKey | None:
    if key is None:
        return None
    known = await declarations.remembered_key(session, caller.principal, key)
    if known is None:
        return None
    if known.request_hash != request_hash:
        raise Conflict(
            f"Idempotency-Key {key!r} was used for a different request; use a new key for new content",
            declaration_id=str(known.declaration_id),
        )
    return known


def _audit_row(
    caller: Caller,
    action: str,
    declaration_id: UUID | None,
    revision: int | None,
    now: datetime,
    **detail: Any,
) -> dict[str, Any]:
    return {
        "at": now,
        "principal": caller.principal,
        "credential_id": caller.credential_id,
        "action": action,
        "declaration_id": declaration_id,
        "revision": revision,
        "detail": detail,
    }


async def _audit(
    session: AsyncSession,
    caller: Caller,
    action: str,
    declaration_id: UUID | None,
    revision: int | None,
    now: datetime,
    **detail: Any,
) -> None:
    await declarations.add_audit(session, _audit_row(caller, action, declaration_id, revision, now, **detail))


async def record_denial(
    session: AsyncSession,
    caller: Caller,
    action: str,
    denied: Denied,
    declaration_id: UUID | None = None,
    **detail: Any,
) -> None:
    """Keep in the audit trail a read that was refused: who tried what, and the answer given
    (in a transaction of its own: the refused request's rolls back)."""
    await _audit(
        session, caller, f"{action} denied", declaration_id, None, datetime.now(UTC), status=denied.status, **detail
    )


def _entry(declaration_id: UUID, revision: int, what: str, at: datetime, **detail: Any) -> dict[str, Any]:
    return {"declaration_id": declaration_id, "revision": revision, "what": what, "at": at, "detail": detail}


def _submitted_event(
    declaration: Declaration,
    kind: RevisionKind,
    content: DeclarationContent,
    now: datetime,
    acknowledgement: Acknowledgement,
) -> DeclarationSubmitted:
    return DeclarationSubmitted(
        event_id=uuid4(),
        occurred_at=now,
        producer=PRODUCER,
        declaration_id=declaration.id,
        data=SubmittedData(
            reference=declaration.reference,
            revision=declaration.revision,
            kind=kind,
            submitted_at=now,
            declaration=content,
            acknowledge_to=acknowledgement.to,
        ),
    )


@dataclass(frozen=True)
class Submission:
    """A new declaration, checked and cleared of NIRs, ready to be written with others."""

    caller: Caller
    idempotency_key: str | None
    request_hash: bytes
    content: DeclarationContent
    redacted: int
    departement: Departement
    acknowledgement: Acknowledgement
    # The request's trace: its declaration's event continues it, whichever request's
    # transaction writes it.
    trace: dict[str, str]


def prepare_submission(caller: Caller, content: DeclarationContent, idempotency_key: str | None) -> Submission:
    """Everything about a new declaration that needs no database: the caller may declare for
    the structure (or ``Denied``), and patient numbers are masked before anything is stored."""
    departement = DEPARTEMENTS[parse_finess(content.structure.finess).departement]
    caller.check_declare(content.structure.finess, departement.code)
    payload = content.model_dump(mode="json")
    request_hash = _request_hash(payload)
    redaction = redact(payload)
    clean = DeclarationContent.model_validate(redaction.content, context=ADMITTING)
    acknowledgement = caller.acknowledgement(clean.declarant.email)
    return Submission(
        caller, idempotency_key, request_hash, clean, redaction.nir, departement, acknowledgement, trace_headers()
    )


async def submit_declarations(
    connection: asyncpg.Connection, submissions: Sequence[Submission], *, now: datetime | None = None
) -> list[Accepted | Conflict]:
    """Store new declarations, each with its first revision, timeline and audit entries and its
    ``declaration.submitted`` event, in the transaction of the driver's ``connection``: three
    statements for the whole list (the keys used before, the references, the rows). A request
    whose Idempotency-Key was used already gets the first answer again, or a ``Conflict`` if it
    is not the same request."""
    now = now or datetime.now(UTC)
    answers: list[Accepted | Conflict | None] = [None] * len(submissions)
    known = await declarations.known_keys(connection, sorted({k for k in map(_key_of, submissions) if k is not None}))
    first: dict[tuple[str, str], int] = {}  # the first of this list to use each key
    fresh: list[int] = []
    for index, submission in enumerate(submissions):
        key = _key_of(submission)
        if key is None:
            fresh.append(index)
        elif key in known:
            answers[index] = _again(known[key], submission)
        elif key not in first:
            first[key] = index
            fresh.append(index)
    serials = await declarations.next_serials(connection, len(fresh))
    # Written as rows: the ORM's unit of work (flush, identity map, generated ids read back) costs
    # more CPU, for objects nothing reads again.
    made, revisions, timeline, audit, events, remembered = [], [], [], [], [], []
    for index, serial in zip(fresh, serials, strict=True):
        submission = submissions[index]
        caller, clean = submission.caller, submission.content
        row: dict[str, Any] = {
            "id": uuid4(),
            "reference": reference(now.year, int(serial)),
            "revision": 1,
            "finess": clean.structure.finess,
            "departement_code": submission.departement.code,
            "region_code": submission.departement.region.code,
            "category": clean.category,
            "content": clean.model_dump(mode="json"),
            "status": DeclarationStatus.received,
            "declared_by": caller.principal,
            "credential_id": caller.credential_id,
            "redacted": submission.redacted,
            "received_at": now,
            "updated_at": now,
        }
        declaration = Declaration(**row)
        made.append(row)
        revisions.append(_revision_row(caller, declaration, RevisionKind.initial, None, {}, submission.redacted, now))
        timeline.append(_submitted_entry(declaration, RevisionKind.initial, submission.redacted, now))
        audit.append(_audit_row(caller, "create", declaration.id, 1, now, redacted=submission.redacted))
        event = _submitted_event(declaration, RevisionKind.initial, clean, now, submission.acknowledgement)
        events.append(outbox_message(event, trace=submission.trace))
        accepted = answers[index] = Accepted(
            declaration, 1, submission.redacted, acknowledgement=submission.acknowledgement
        )
        if submission.idempotency_key is not None:
            accepted.response = _accepted_body(accepted)
            remembered.append(_remembered_row(caller, submission.idempotency_key, submission.request_hash, accepted))
    await declarations.add_declarations(
        connection,
        declarations=made,
        revisions=revisions,
        timeline=timeline,
        audit=audit,
        events=events,
        remembered=remembered,
    )
    # The same key twice in one list (a partner sending again before its first answer): the
    # later requests are answered as the first one was.
    for index, submission in enumerate(submissions):
        key = _key_of(submission)
        if answers[index] is None and key is not None:
            earlier = answers[first[key]]
            assert isinstance(earlier, Accepted)
            answers[index] = _again(_remembered_key(submissions[first[key]], earlier), submission)
    done = [answer for answer in answers if answer is not None]
    assert len(done) == len(submissions), "every submission has its answer"
    return done


def _key_of(submission: Submission) -> tuple[str, str] | None:
    if submission.idempotency_key is None:
        return None
    return (submission.caller.principal, submission.idempotency_key)


def _remembered_key(submission: Submission, accepted: Accepted) -> tuple[IdempotencyKey, Declaration]:
    row = _remembered_row(submission.caller, submission.idempotency_key, submission.request_hash, accepted)
    return IdempotencyKey(**row), accepted.declaration


def _again(known: tuple[IdempotencyKey, Declaration], submission: Submission) -> Accepted | Conflict:
    """The first answer to a request sent again with the same Idempotency-Key."""
    remembered, declaration = known
    if remembered.request_hash != submission.request_hash:
        return Conflict(
            f"Idempotency-Key {remembered.key!r} was used for a different request; use a new key for new content",
            declaration_id=str(remembered.declaration_id),
        )
    redacted = remembered.response.get("redactions", {}).get("nir", 0)
    return Accepted(declaration, 1, redacted, True, remembered.response)


def _revision_row(
    caller: Caller,
    declaration: Declaration,
    kind: RevisionKind,
    based_on: int | None,
    changes: dict[str, Any],
    redacted: int,
    now: datetime,
) -> dict[str, Any]:
    """The revision the declaration is now at."""
    return {
        "declaration_id": declaration.id,
        "revision": declaration.revision,
        "kind": kind,
        "based_on": based_on,
        "content": declaration.content,
        "changes": changes,
        "submitted_at": now,
        "principal": caller.principal,
        "credential_id": caller.credential_id,
        "redacted": redacted,
    }


def _submitted_entry(declaration: Declaration, kind: RevisionKind, redacted: int, now: datetime) -> dict[str, Any]:
    return _entry(declaration.id, declaration.revision, "submitted", now, kind=kind, redacted=redacted)


def _remembered_row(caller: Caller, key: str | None, request_hash: bytes, accepted: Accepted) -> dict[str, Any]:
    """The answer to give again to the same request with the same Idempotency-Key."""
    return {
        "principal": caller.principal,
        "key": key,
        "request_hash": request_hash,
        "declaration_id": accepted.declaration.id,
        "status_code": 202,
        "response": accepted.response,
        "created_at": accepted.declaration.updated_at,
    }


def _accepted_body(accepted: Accepted) -> dict[str, Any]:
    declaration, acknowledgement = accepted.declaration, accepted.acknowledgement
    return {
        "id": str(declaration.id),
        "reference": declaration.reference,
        "revision": accepted.revision,
        "status": declaration.status,
        "received_at": declaration.received_at.isoformat(),
        "redactions": {"nir": accepted.redacted},
        "acknowledgement": {"to": acknowledgement.to, "reason": acknowledgement.reason} if acknowledgement else None,
    }


async def revise_declaration(
    session: AsyncSession,
    caller: Caller,
    declaration_id: UUID,
    request: RevisionCreate,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Accepted:
    """Record a new revision of a declaration and publish it as an event of the same declaration.

    Guarded against concurrent writers: the row is locked, and a revision based on anything but
    the current revision is refused, so no change is silently overwritten."""
    now = now or datetime.now(UTC)
    declaration = await declarations.declaration(session, declaration_id, to_change=True)
    if declaration is None:
        raise Denied(404, f"no declaration {declaration_id}")
    caller.check_revise(declaration.declared_by, declaration.finess, declaration.departement_code, declaration.id)
    request_hash = _request_hash({"declaration": str(declaration_id), **request.model_dump(mode="json")})
    known = await _replay(session, caller, idempotency_key, request_hash)
    if known is not None:
        return Accepted(declaration, int(known.response["revision"]), 0, True, known.response)
    if request.based_on != declaration.revision:
        raise Conflict(
            f"declaration {declaration.reference} is at revision {declaration.revision}; "
            f"these changes were written against revision {request.based_on}: read it again",
            current_revision=declaration.revision,
        )
    # The changes are kept as they were sent, cleared of NIRs like the declaration they make.
    sent = redact(request.changes)
    try:
        # What changes is admitted by today's rules; the structure's numbers it already holds are
        # kept as they were accepted.
        structure = declaration.content["structure"]
        held = {structure["finess"], structure.get("finess_ej")} - {None}
        clean = DeclarationContent.model_validate(
            apply_changes(declaration.content, sent.content), context={**ADMITTING, HELD: held}
        )
    except ValidationError as error:
        raise InvalidRevision(error) from None

    declaration.revision += 1
    declaration.content = clean.model_dump(mode="json")
    declaration.category = clean.category
    declaration.status = DeclarationStatus.received
    declaration.updated_at = now
    declaration.redacted += sent.nir
    await declarations.add_revision(
        session,
        _revision_row(caller, declaration, request.kind, request.based_on, sent.content, sent.nir, now),
        _submitted_entry(declaration, request.kind, sent.nir, now),
    )
    await _audit(session, caller, "revise", declaration.id, declaration.revision, now, kind=request.kind)
    acknowledgement = caller.acknowledgement(clean.declarant.email)
    await add_events(session, [_submitted_event(declaration, request.kind, clean, now, acknowledgement)])
    accepted = Accepted(declaration, declaration.revision, sent.nir, acknowledgement=acknowledgement)
    accepted.response = _accepted_body(accepted)
    if idempotency_key is not None:
        remembered = _remembered_row(caller, idempotency_key, request_hash, accepted)
        await declarations.remember_key(session, remembered)
    return accepted


async def _lock(connection: asyncpg.Connection, ids: set[UUID]) -> dict[UUID, StatusFacts]:
    """Lock the declarations a batch of downstream events is about, in one statement.

    Enrichment and delivery events are applied by two consumers at once; the row locks make each
    status decision see the other's committed facts, and taking them in id order keeps the two
    from deadlocking."""
    facts = await declarations.lock_for_status(connection, ids)
    missing = ids - facts.keys()
    if missing:
        raise UnknownDeclaration(f"no declaration {', '.join(sorted(map(str, missing)))}")
    return facts


async def _refresh_statuses(connection: asyncpg.Connection, facts: dict[UUID, StatusFacts]) -> list[dict[str, Any]]:
    """Decide again the status of each declaration from all its facts, and record the changes;
    returns the timeline entries of the declarations now notified."""
    rows = await declarations.outcomes_of(connection, [(f.id, f.revision) for f in facts.values()])
    deliveries: dict[UUID, list[tuple[RecipientKind, str, Outcome]]] = {}
    for declaration_id, kind, code, outcome in rows:
        deliveries.setdefault(declaration_id, []).append((RecipientKind(kind), code, Outcome(outcome)))
    changes, notified = [], []
    for f in facts.values():
        status = status_of(
            enriched=f.enriched_revision == f.revision, ars_code=f.ars_code, deliveries=deliveries.get(f.id, [])
        )
        if status != f.status:
            assert f.at is not None
            changes.append((f.id, status, f.at))
            if status is DeclarationStatus.notified:
                notified.append(_entry(f.id, f.revision, "notified", f.at))
    await declarations.set_statuses(connection, changes)
    return notified


async def record_enrichments(connection: asyncpg.Connection, events: Sequence[DeclarationEnriched]) -> None:
    """Keep what enrichment concluded on each declaration (the latest revision's conclusions win
    over an older revision's arriving late), then decide their statuses again."""
    facts = await _lock(connection, {event.declaration_id for event in events})
    timeline, conclusions = [], {}
    for event in events:
        data, f = event.data, facts[event.declaration_id]
        region, ars = data.region.model_dump(), data.ars.model_dump()
        timeline.append(_entry(f.id, data.revision, "enriched", event.occurred_at, region=region, ars=ars))
        f.at = event.occurred_at
        if f.enriched_revision is not None and data.revision < f.enriched_revision:
            continue
        f.enriched_revision, f.ars_code = data.revision, data.ars.code
        conclusions[f.id] = (
            f.id,
            data.revision,
            json_text(data.departement.model_dump()),
            json_text(region),
            json_text(ars),
            data.severity.model_dump_json() if data.severity else None,
            data.model_dump_json(include=_THREAT),
        )
    await declarations.conclude(connection, list(conclusions.values()))
    await _keep_campaign_sizes(connection, events)
    timeline += await _refresh_statuses(connection, facts)
    await declarations.add_timeline(connection, timeline)


_THREAT = {
    "classification",
    "indicators",
    "matches",
    "campaigns",
    "parent_incident",
    "structure_incidents_12_months",
    "declarant_view",
}


async def _keep_campaign_sizes(connection: asyncpg.Connection, events: Sequence[DeclarationEnriched]) -> None:
    """The largest size each campaign has been told with: every member shows it, whereas each
    member's own enrichment says the size the campaign had when it joined."""
    sizes: dict[UUID, tuple[int, datetime]] = {}
    for event in events:
        data = event.data
        for link in [*data.campaigns, *([data.parent_incident] if data.parent_incident else [])]:
            if link.declarations > sizes.get(link.id, (0, event.occurred_at))[0]:
                sizes[link.id] = (link.declarations, event.occurred_at)
    rows = [
        {"id": campaign, "declarations": size, "updated_at": at}
        # In id order: two batches growing the same campaigns lock their rows in the same order.
        for campaign, (size, at) in sorted(sizes.items())
    ]
    await declarations.keep_campaign_sizes(connection, rows)


async def record_dispatches(connection: asyncpg.Connection, events: Sequence[NotificationDispatched]) -> None:
    """Keep the latest outcome of each delivery, then decide the declarations' statuses again."""
    facts = await _lock(connection, {event.declaration_id for event in events})
    latest: dict[UUID, dict[str, Any]] = {}  # one row per delivery: one statement cannot change a row twice
    timeline = []
    for event in events:
        for told in event.data.deliveries:
            known = latest.get(told.delivery_id)
            if known is None or known["attempt"] <= told.attempt:
                latest[told.delivery_id] = {
                    "delivery_id": told.delivery_id,
                    "declaration_id": event.declaration_id,
                    "revision": event.data.revision,
                    "recipient_kind": told.recipient.kind,
                    "recipient_code": told.recipient.code,
                    "recipient_name": told.recipient.name,
                    "channel": told.channel,
                    "outcome": told.outcome,
                    "attempt": told.attempt,
                    "at": told.at,
                    "error": told.error,
                }
            timeline.append(
                _entry(
                    event.declaration_id,
                    event.data.revision,
                    f"notification {told.outcome}",
                    told.at,
                    recipient=told.recipient.code,
                    channel=told.channel,
                    attempt=told.attempt,
                    error=told.error,
                )
            )
        facts[event.declaration_id].at = event.occurred_at
    await declarations.keep_latest_outcomes(connection, list(latest.values()))
    timeline += await _refresh_statuses(connection, facts)
    await declarations.add_timeline(connection, timeline)


@dataclass
class DeclarationRecord:
    declaration: Declaration
    revisions: list[DeclarationRevision]
    notifications: list[DeclarationNotification]
    timeline: list[TimelineEntry]
    # The latest size of each campaign the declaration belongs to, by campaign id.
    campaign_sizes: dict[UUID, int] = field(default_factory=dict)


async def read_declaration(
    session: AsyncSession, caller: Caller, declaration_id: UUID, *, now: datetime | None = None
) -> DeclarationRecord:
    declaration = await declarations.declaration(session, declaration_id)
    if declaration is None:
        # The same answer as out of scope for a partner, so that it learns nothing either way.
        raise Denied(404, f"no declaration {declaration_id}")
    caller.check_read(declaration.declared_by, declaration.region_code, declaration.id)
    await _audit(session, caller, "read", declaration.id, declaration.revision, now or datetime.now(UTC))
    return DeclarationRecord(
        declaration,
        await declarations.revisions_of(session, declaration_id),
        await declarations.notifications_of(session, declaration_id),
        await declarations.timeline_of(session, declaration_id),
        await _campaign_sizes(session, declaration.threat),
    )


async def _campaign_sizes(session: AsyncSession, threat: dict[str, Any] | None) -> dict[UUID, int]:
    threat = threat or {}
    ids = {UUID(link["id"]) for link in [*threat.get("campaigns", []), threat.get("parent_incident")] if link}
    return await declarations.campaign_sizes(session, ids)


@dataclass(frozen=True)
class ListFilters:
    region: str | None = None
    start: date | None = None
    end: date | None = None
    category: Category | None = None
    status: DeclarationStatus | None = None
    finess: str | None = None


async def list_declarations(
    session: AsyncSession,
    caller: Caller,
    filters: ListFilters,
    *,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> tuple[list[Declaration], bool]:
    """A page of the declarations the caller may read, newest first, in a stable order, after
    the (received_at, id) of the previous page's last; and whether more follow."""
    declared_by, region = None, filters.region
    if caller.kind is CredentialKind.partner:
        declared_by = caller.principal
    elif caller.kind is CredentialKind.ars:
        if filters.region is not None and filters.region != caller.region_code:
            raise Denied(403, f"region {filters.region} is outside your region ({caller.region_code})")
        region = caller.region_code
    lower, upper = period_bounds(filters.start, filters.end)
    wanted = declarations.Page(
        declared_by=declared_by,
        region=region,
        received_from=lower,
        received_before=upper,
        category=filters.category,
        status=filters.status,
        finess=filters.finess,
        after=after,
    )
    rows = await declarations.page_of_declarations(session, wanted, limit + 1)
    page, more = rows[:limit], len(rows) > limit
    await _audit(
        session,
        caller,
        "list",
        None,
        None,
        datetime.now(UTC),
        filters={k: str(v) for k, v in filters.__dict__.items() if v is not None},
        count=len(page),
    )
    return page, more


async def audit_trail(session: AsyncSession, caller: Caller, declaration_id: UUID) -> list[AuditEntry]:
    caller.check_audit()
    if await declarations.declaration(session, declaration_id) is None:
        raise Denied(404, f"no declaration {declaration_id}")
    return await declarations.audit_entries(session, declaration_id)


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
    scope = credential_scope(kind, name, finess, departements, region_code, rate_per_minute, mail_domains)
    now = datetime.now(UTC)
    acting_for = await _principal_for(session, kind, scope.name, principal, join, now)
    secret = f"{PREFIX[kind]}_{secrets.token_urlsafe(32)}"
    credential = Credential(
        id=uuid4(),
        principal=acting_for,
        kind=kind,
        name=scope.name,
        token_hash=secret_sha256(secret),
        token_hint=secret[:9] + "…",
        finess=scope.finess,
        departements=scope.departements,
        region_code=scope.region_code,
        rate_per_minute=scope.rate_per_minute,
        mail_domains=scope.mail_domains,
        created_at=now,
    )
    credentials.add_credential(session, credential)
    await _announce(session, credential)
    return credential, secret


async def _principal_for(
    session: AsyncSession, kind: CredentialKind, name: str, wanted: str | None, join: bool, now: datetime
) -> str:
    """The principal a new credential acts for: a new one, named ``wanted`` or generated (its
    name's slug and random digits: unique whatever the name), or, with ``join``, the existing
    principal ``wanted``. Nobody joins an organisation without saying so."""
    if wanted is None:
        if join:
            raise InvalidCredential("--join names the principal to join: give --principal too")
        generated = f"{kind}:{slug(name)}-{secrets.token_hex(3)}"
        while await credentials.principal_exists(session, generated):
            generated = f"{kind}:{slug(name)}-{secrets.token_hex(3)}"
        await credentials.add_principal(session, generated, kind, name, now)
        return generated
    check_principal(kind, wanted)
    existing = await credentials.principal_name(session, wanted)
    if existing is None:
        if join:
            raise InvalidCredential(f"no principal {wanted} to join")
        await credentials.add_principal(session, wanted, kind, name, now)
    elif not join:
        raise InvalidCredential(
            f"principal {wanted} exists ({existing}): its credentials read and revise what it declared."
            " Add --join to give it this credential, or choose another --principal"
        )
    return wanted


async def _announce(session: AsyncSession, credential: Credential) -> None:
    """Tell the services that check credentials of their own (the stats service) that a
    credential reading figures was created or revoked, in the transaction that does it. A
    partner's is nobody else's business."""
    if credential.kind == CredentialKind.partner:
        return
    event = CredentialChanged(
        event_id=uuid4(),
        occurred_at=datetime.now(UTC),
        producer=PRODUCER,
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
    return await credentials.all_credentials(session)


async def revoke_credential(session: AsyncSession, credential_id: UUID) -> Credential | None:
    credential = await credentials.credential_to_change(session, credential_id)
    if credential is not None and credential.revoked_at is None:
        credential.revoked_at = datetime.now(UTC)
        await _announce(session, credential)
    return credential
