"""The body Vigie POSTs to a recipient's webhook, version 1, and how it is signed.

Headers of every webhook request:

- ``Vigie-Event-Id``: the notification id, the same on every retry of one notification;
  receivers deduplicate on it.
- ``Vigie-Timestamp``: seconds since the epoch when this attempt was signed.
- ``Vigie-Signature``: ``v1=`` followed by the lowercase hex HMAC-SHA256, keyed by the
  recipient's secret, of the timestamp, a dot, and the raw body bytes.

A receiver checks it in a few lines (and rejects timestamps older than a few minutes)::

    expected = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(signature.removeprefix("v1="), expected)
"""

from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .declaration import DeclarationContent
from .events import Place, Recipient, Reference, RevisionKind, Severity

EVENT_ID_HEADER = "Vigie-Event-Id"
TIMESTAMP_HEADER = "Vigie-Timestamp"
SIGNATURE_HEADER = "Vigie-Signature"


class WebhookNotification(BaseModel):
    model_config = ConfigDict(frozen=True)

    notification_id: UUID
    declaration_id: UUID
    reference: Reference
    revision: Annotated[int, Field(ge=1)]
    kind: RevisionKind
    recipient: Recipient
    departement: Place
    region: Place
    submitted_at: AwareDatetime
    # Grave incidents are marked urgent; the decision and its reasons come with them.
    urgent: bool = False
    severity: Severity | None = None
    declaration: DeclarationContent
