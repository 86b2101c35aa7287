"""Who may do what: the three kinds of credentials and their scopes.

- partner: declares for an allow-list of FINESS numbers and/or départements (``*`` for all, the
  national web form), and reads, lists and revises only what it declared;
- ARS: reads and lists the declarations of its region;
- national (CERT Santé): reads and lists everything.

Outside its scope, a partner is told the declaration does not exist (404): it must not learn
that an id is in use. An ARS is told it is outside its region (403).
"""

from dataclasses import dataclass
from uuid import UUID

from vigie_contracts.events import CredentialKind

__all__ = ["ANY_DEPARTEMENT", "Acknowledgement", "Caller", "CredentialKind", "Denied"]

ANY_DEPARTEMENT = "*"


class Denied(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Acknowledgement:
    """To whom the acknowledgement of a declaration goes, or why nobody is sent one."""

    to: str | None
    reason: str | None


@dataclass(frozen=True)
class Caller:
    credential_id: UUID
    principal: str
    kind: CredentialKind
    finess: frozenset[str] = frozenset()
    departements: frozenset[str] = frozenset()
    region_code: str | None = None
    rate_per_minute: int | None = None
    mail_domains: frozenset[str] = frozenset()

    def acknowledgement(self, address: str) -> "Acknowledgement":
        """Whether the declarant at ``address`` is sent the acknowledgement: only in a mail
        domain registered with this credential, so that nobody makes Vigie mail whom it likes."""
        domain = address.rpartition("@")[2].lower().rstrip(".")
        if not self.mail_domains:
            return Acknowledgement(None, "this credential has no mail domain: no acknowledgement is sent")
        if domain not in self.mail_domains:
            registered = ", ".join(sorted(self.mail_domains))
            return Acknowledgement(None, f"{domain} is not a mail domain of this credential ({registered})")
        return Acknowledgement(address, None)

    def check_declare(self, finess: str, departement: str) -> None:
        if self.kind is not CredentialKind.partner:
            raise Denied(403, f"a {self.kind} credential reads declarations; partners declare them")
        if finess in self.finess or departement in self.departements or ANY_DEPARTEMENT in self.departements:
            return
        raise Denied(403, f"this credential may not declare for FINESS {finess} (département {departement})")

    def check_read(self, declared_by: str, region_code: str, declaration_id: UUID) -> None:
        if self.kind is CredentialKind.national:
            return
        if self.kind is CredentialKind.ars:
            if region_code != self.region_code:
                raise Denied(403, f"declaration {declaration_id} is outside your region")
            return
        if declared_by != self.principal:
            raise Denied(404, f"no declaration {declaration_id}")

    def check_revise(self, declared_by: str, finess: str, departement: str, declaration_id: UUID) -> None:
        if self.kind is not CredentialKind.partner:
            raise Denied(403, f"a {self.kind} credential reads declarations; partners revise them")
        self.check_read(declared_by, "", declaration_id)
        self.check_declare(finess, departement)

    def check_audit(self) -> None:
        if self.kind is not CredentialKind.national:
            raise Denied(403, "the audit trail is for CERT Santé (national credentials)")
