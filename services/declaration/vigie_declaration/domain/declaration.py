"""A declaration's reference and status, decided from what is known of it."""

from collections.abc import Iterable
from enum import StrEnum

from vigie_contracts.events import Outcome, RecipientKind


class DeclarationStatus(StrEnum):
    received = "received"
    enriched = "enriched"
    notified = "notified"


def reference(year: int, serial: int) -> str:
    """The reference people quote on the phone: ``VIG-2026-000042``."""
    return f"VIG-{year}-{serial:06d}"


def status_of(
    *,
    enriched: bool,
    ars_code: str | None,
    deliveries: Iterable[tuple[RecipientKind, str, Outcome]],
) -> DeclarationStatus:
    """``notified`` once its region's ARS, CERT Santé and the ministries' security officer (HFDS)
    have each received it on some channel.

    The facts may arrive in any order (enrichment and delivery events travel on different
    topics), so the status is recomputed from all of them rather than stepped forward.
    """
    delivered = {(kind, code) for kind, code, outcome in deliveries if outcome is Outcome.sent}
    ars_told = ars_code is not None and (RecipientKind.ars, ars_code) in delivered
    cert_told = any(kind is RecipientKind.cert_sante for kind, _ in delivered)
    ministry_told = any(kind is RecipientKind.ministry for kind, _ in delivered)
    if enriched and ars_told and cert_told and ministry_told:
        return DeclarationStatus.notified
    if enriched:
        return DeclarationStatus.enriched
    return DeclarationStatus.received
