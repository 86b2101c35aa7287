"""What a new credential may be: its principal's spelling, its scope for its kind, its mail
domains. Decided here, without I/O; ``handlers.create_credential`` stores what passes."""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from vigie_contracts.finess import InvalidFiness, parse_finess
from vigie_contracts.territory import DEPARTEMENTS, REGIONS

from .access import ANY_DEPARTEMENT, CredentialKind

PREFIX = {
    CredentialKind.partner: "vigp",
    CredentialKind.ars: "viga",
    CredentialKind.national: "vign",
}
# What a secret looks like: anything else is refused before a hash is computed or a row read.
TOKEN = re.compile(r"^vig[pan]_[A-Za-z0-9_-]{43}$")
_MAIL_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_PRINCIPAL = re.compile(r"^(partner|ars|national):[a-z0-9][a-z0-9._-]{0,79}$")


class InvalidCredential(ValueError):
    pass


def slug(name: str) -> str:
    """``"Éditeur de démonstration"`` → ``"editeur-de-demonstration"``: a reading aid in a
    generated principal, never its identity (two names may fold into one slug)."""
    spelled = name.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    ascii_name = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-") or "unnamed"


def check_principal(kind: CredentialKind, wanted: str) -> None:
    """A principal named by the operator: the credential's kind, a colon, a readable name."""
    if not _PRINCIPAL.match(wanted):
        raise InvalidCredential(
            "--principal is the kind, a colon and 1 to 80 lower-case letters, digits, '.', '_' or '-'"
            " (partner:editeur-a)"
        )
    if not wanted.startswith(f"{kind}:"):
        raise InvalidCredential(f"--principal of a {kind} credential starts with '{kind}:'")


@dataclass(frozen=True)
class Scope:
    """A new credential's name and scope, as they will be stored."""

    name: str
    finess: list[str]
    departements: list[str]
    region_code: str | None
    rate_per_minute: int | None
    mail_domains: list[str]


def credential_scope(
    kind: CredentialKind,
    name: str,
    finess: Sequence[str],
    departements: Sequence[str],
    region_code: str | None,
    rate_per_minute: int | None,
    mail_domains: Sequence[str],
) -> Scope:
    """The operator's options for a new credential, checked and put in their stored form, or
    ``InvalidCredential`` naming the option that is wrong and why."""
    if not name.strip():
        raise InvalidCredential("a credential has a name")
    try:
        allowed_finess = sorted({parse_finess(number).number for number in finess})
    except InvalidFiness as error:
        raise InvalidCredential(f"--finess: {error}") from None
    allowed_departements = sorted({code.upper() if code != ANY_DEPARTEMENT else code for code in departements})
    unknown = [code for code in allowed_departements if code != ANY_DEPARTEMENT and code not in DEPARTEMENTS]
    if unknown:
        raise InvalidCredential(f"--departement: no département {', '.join(unknown)}")
    if rate_per_minute is not None and rate_per_minute < 1:
        raise InvalidCredential("--rate is at least 1 request per minute")
    domains = sorted({domain.strip().lower().rstrip(".") for domain in mail_domains})
    if bad := [domain for domain in domains if not _MAIL_DOMAIN.match(domain)]:
        raise InvalidCredential(f"--mail-domain: {', '.join(bad)} is not a domain name (chu-x.fr)")
    if domains and kind is not CredentialKind.partner:
        raise InvalidCredential("--mail-domain is for partner credentials: only partners are acknowledged")
    _check_scope(kind, allowed_finess, allowed_departements, region_code)
    return Scope(name.strip(), allowed_finess, allowed_departements, region_code, rate_per_minute, domains)


def _check_scope(kind: CredentialKind, finess: list[str], departements: list[str], region_code: str | None) -> None:
    """What each kind's scope is made of: a partner's structures or départements, an ARS's
    region, nothing for a national credential (it reads everything)."""
    if kind is CredentialKind.partner:
        if not finess and not departements:
            raise InvalidCredential(
                "a partner declares for FINESS numbers or départements: give --finess or --departement"
            )
        if region_code is not None:
            raise InvalidCredential("--region is for ARS credentials")
    elif kind is CredentialKind.ars:
        if region_code not in REGIONS:
            raise InvalidCredential(f"an ARS credential names its region: --region one of {', '.join(REGIONS)}")
        if finess or departements:
            raise InvalidCredential("--finess and --departement are for partner credentials")
    elif finess or departements or region_code is not None:
        raise InvalidCredential("a national credential reads everything: no --finess, --departement or --region")
