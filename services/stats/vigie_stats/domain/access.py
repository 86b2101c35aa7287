"""Who sees which figures: deny by default.

- the public (no credential): the published figures, and nothing else;
- an ARS: the exact figures of its own region (and, like anyone, what is published);
- national (CERT Santé): every exact figure, and it publishes a year's figures.

A partner's credential opens nothing here: partners read their own declarations, not figures.
"""

from dataclasses import dataclass
from uuid import UUID

from vigie_contracts.events import CredentialKind
from vigie_contracts.territory import REGIONS


class Denied(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Viewer:
    kind: CredentialKind | None = None  # None: the public
    credential_id: UUID | None = None
    principal: str | None = None
    name: str = "public"
    region_code: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.kind is not None

    @property
    def region(self) -> str | None:
        """The one region whose exact figures this viewer sees, or None for all of them."""
        return self.region_code if self.kind is CredentialKind.ars else None

    @property
    def label(self) -> str:
        """Whose figures these are, in French, for the dashboard."""
        if self.kind is CredentialKind.ars and self.region_code in REGIONS:
            return REGIONS[self.region_code].ars_name
        if self.kind is CredentialKind.national:
            return "CERT Santé (national)"
        return "public"

    def check_exact(self) -> None:
        if not self.signed_in:
            raise Denied(
                401,
                "exact figures are for ARS and CERT Santé credentials (Authorization: Bearer <secret>);"
                " without one, ask for the published figures (public=true)",
            )

    def check_publish(self) -> None:
        if self.kind is not CredentialKind.national:
            raise Denied(403, "a year's figures are published by CERT Santé (a national credential)")


PUBLIC = Viewer()
