"""HTTP API of the declaration service: partners post declarations and read their status.

The request body is read and validated here rather than by FastAPI's body parsing, so that every
way a body can be wrong (too large, not UTF-8, not JSON, not a declaration) gets its own precise
problem+json answer.
"""

import json
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, ValidationError

from vigie_contracts.declaration import DeclarationContent
from vigie_contracts.events import Channel, Outcome, Place, Recipient, RecipientKind
from vigie_kit.db import Sessions, unit_of_work
from vigie_kit.http import PROBLEM_JSON, Problem, validation_problem

from ..adapters.orm import Declaration, DeclarationNotification
from ..config import DeclarationSettings
from ..domain.declaration import DeclarationStatus
from ..handlers import find_declaration, submit_declaration

router = APIRouter(prefix="/v1/declarations", tags=["declarations"])


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.service.sessions
    return sessions


def _settings(request: Request) -> DeclarationSettings:
    settings: DeclarationSettings = request.app.state.service.settings
    return settings


SessionsDep = Annotated[Sessions, Depends(_sessions)]
SettingsDep = Annotated[DeclarationSettings, Depends(_settings)]


class DeclarationAccepted(BaseModel):
    id: UUID
    reference: str
    status: DeclarationStatus
    received_at: datetime


class NotificationPublic(BaseModel):
    revision: int
    recipient: Recipient
    channel: Channel
    outcome: Outcome
    attempt: int
    at: datetime
    error: str | None


class DeclarationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    reference: str
    status: DeclarationStatus
    revision: int
    received_at: datetime
    updated_at: datetime
    departement: Place | None
    region: Place | None
    ars: Place | None
    declaration: DeclarationContent
    notifications: list[NotificationPublic]

    @classmethod
    def of(
        cls, declaration: Declaration, notifications: list[DeclarationNotification]
    ) -> "DeclarationPublic":
        return cls(
            id=declaration.id,
            reference=declaration.reference,
            status=DeclarationStatus(declaration.status),
            revision=declaration.revision,
            received_at=declaration.received_at,
            updated_at=declaration.updated_at,
            departement=Place.model_validate(declaration.departement)
            if declaration.departement
            else None,
            region=Place.model_validate(declaration.region) if declaration.region else None,
            ars=Place.model_validate(declaration.ars) if declaration.ars else None,
            declaration=DeclarationContent.model_validate(declaration.content),
            notifications=[
                NotificationPublic(
                    revision=n.revision,
                    recipient=Recipient(
                        kind=RecipientKind(n.recipient_kind),
                        code=n.recipient_code,
                        name=n.recipient_name,
                    ),
                    channel=Channel(n.channel),
                    outcome=Outcome(n.outcome),
                    attempt=n.attempt,
                    at=n.at,
                    error=n.error,
                )
                for n in notifications
            ],
        )


_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_EXAMPLE: dict[str, Any] = {
    "structure": {
        "finess": "750712184",
        "name": "Hôpital Saint-Exemple",
        "type": "health_facility",
        "essential_operator": True,
    },
    "declarant": {"name": "Claire Martin", "role": "RSSI", "email": "rssi@hopital.example.fr"},
    "detected_at": "2026-11-20T08:30:00+01:00",
    "origin": "malicious",
    "category": "ransomware",
    "description": "Chiffrement des serveurs de fichiers, mode dégradé activé aux urgences.",
    "status": "ongoing",
    "scope": ["servers", "directory"],
    "impacts": {"degraded_mode": True, "patient_safety": "potential", "data_unavailable": True},
    "indicators": [{"type": "ipv4", "value": "203.0.113.45"}],
    "support_requested": True,
}


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, f"the body is {declared} bytes; the limit is {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Problem(413, f"the body exceeds the limit of {limit} bytes")
    return bytes(body)


def parse_declaration(body: bytes, content_type: str | None) -> DeclarationContent:
    """The declaration in ``body``, or a ``Problem`` saying exactly what is wrong with it."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise Problem(
            415, f"send the declaration as application/json, not {media_type or 'nothing'}"
        )
    if not body.strip():
        raise Problem(400, "the body is empty; a declaration is a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Problem(400, f"the body is not valid UTF-8 (byte {error.start})") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise Problem(
            400,
            f"the body is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
        ) from None
    except RecursionError:
        raise Problem(400, "the body is not valid JSON: nested too deeply") from None
    try:
        return DeclarationContent.model_validate_json(text)
    except ValidationError as error:
        raise validation_problem(error, "the declaration is invalid") from None


@router.post(
    "",
    status_code=202,
    response_model=DeclarationAccepted,
    summary="Declare an incident",
    description=(
        "Accepts a declaration (partner payload v1). Once answered `202`, the declaration is "
        "committed and will reach the regional health agency and CERT Santé."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/DeclarationContent"},
                    "example": _EXAMPLE,
                }
            },
        }
    },
    responses={
        400: {"description": "Malformed body (not UTF-8, not JSON)", **_PROBLEM},
        413: {"description": "Body too large", **_PROBLEM},
        415: {"description": "Not application/json", **_PROBLEM},
        422: {"description": "Invalid declaration, each bad field named", **_PROBLEM},
    },
)
async def declare(
    request: Request, response: Response, sessions: SessionsDep, settings: SettingsDep
) -> DeclarationAccepted:
    body = await _read_body(request, settings.max_body_bytes)
    content = parse_declaration(body, request.headers.get("content-type"))
    async with unit_of_work(sessions) as session:
        declaration = await submit_declaration(session, content)
    response.headers["Location"] = f"/v1/declarations/{declaration.id}"
    return DeclarationAccepted(
        id=declaration.id,
        reference=declaration.reference,
        status=DeclarationStatus(declaration.status),
        received_at=declaration.received_at,
    )


@router.get(
    "/{declaration_id}",
    response_model=DeclarationPublic,
    summary="Read a declaration and where it stands",
    responses={404: {"description": "No such declaration", **_PROBLEM}},
)
async def read(declaration_id: UUID, sessions: SessionsDep) -> DeclarationPublic:
    async with unit_of_work(sessions) as session:
        found = await find_declaration(session, declaration_id)
    if found is None:
        raise Problem(404, f"no declaration {declaration_id}")
    return DeclarationPublic.of(*found)
