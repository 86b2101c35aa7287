"""The recipients directory: the 18 ARS and the ATS of Saint-Pierre-et-Miquelon, CERT Santé, and
the security officer of the ministries in charge of health (the HFDS, its FSSI unit), each with an
alert-desk e-mail and/or a signed webhook.

Every declaration and every revision goes to its agency, to CERT Santé and to the HFDS, malicious
or not, grave or not (art. D1111-16-3 of the Code de la santé publique, instruction
SHFDS/FSSI/2023/78; see docs/rules.md). A directory that leaves any of them without a channel the
service can use is refused at start-up: a silent gap would mean an authority nobody tells.
"""

import ipaddress
import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from vigie_contracts.events import Channel, Recipient, RecipientKind
from vigie_contracts.territory import REGIONS

Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class InvalidDirectory(ValueError):
    pass


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Webhook(BaseModel):
    """An agency's endpoint. It is https, to a public address, and carries no credential in its
    URL (the signature authenticates each notification): a directory entry must not make Vigie
    post health incidents in clear, or into its own network (a metadata service, a database
    console). ``local`` marks the one exception, a receiver on this machine that someone set up on
    purpose (the local stack's stand-ins); the addresses a public name resolves to are checked
    again at each connection (``adapters.webhook``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl
    secret: SecretStr
    local: bool = False

    @field_validator("secret")
    @classmethod
    def _strong_enough(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value()) < 32:
            raise ValueError("a signing secret has at least 32 characters")
        return secret

    @model_validator(mode="after")
    def _safe_url(self) -> "Webhook":
        url = self.url
        if url.username or url.password:
            raise ValueError("a webhook URL carries no user or password (user:pass@): the signature authenticates")
        if self.local:
            return self
        if url.scheme != "https":
            raise ValueError("a webhook URL is https (http only for an entry marked local, a receiver on this machine)")
        host = (url.host or "").strip("[]").lower().rstrip(".")
        if host == "localhost" or host.endswith(".localhost") or not public_host(host):
            raise ValueError(
                f"a webhook goes to a public address, not {host} (private, loopback or link-local):"
                " mark the entry local only for a receiver on this machine"
            )
        return self


def public_host(host: str) -> bool:
    """Whether ``host``, an address, is one of the internet's (a name is checked when it is
    resolved, at each connection)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    name: str
    webhook: Webhook | None = None
    email: Email | None = None

    @model_validator(mode="after")
    def _has_a_channel(self) -> "Entry":
        if self.webhook is None and self.email is None:
            raise ValueError(f"{self.code} has no channel: give it a webhook, an email, or both")
        return self

    def channels(self, *, email_enabled: bool) -> tuple[Channel, ...]:
        found = []
        if self.webhook is not None:
            found.append(Channel.webhook)
        if self.email is not None and email_enabled:
            found.append(Channel.email)
        return tuple(found)


class Directory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cert_sante: Entry
    ars: list[Entry]
    ministry: Entry

    @model_validator(mode="after")
    def _covers_every_region(self) -> "Directory":
        codes = [entry.code for entry in self.ars]
        expected = {region.ars_code for region in REGIONS.values()}
        missing = sorted(expected - set(codes))
        unknown = sorted(set(codes) - expected)
        duplicated = sorted({code for code in codes if codes.count(code) > 1})
        problems = []
        if missing:
            problems.append(f"no entry for {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown ARS {', '.join(unknown)}")
        if duplicated:
            problems.append(f"several entries for {', '.join(duplicated)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def check_reachable(self, *, email_enabled: bool) -> None:
        """Refuse a directory whose ARS or CERT Santé could not be told with this service's
        channels (an e-mail-only entry while no SMTP server is configured, say)."""
        stranded = [e.code for e in self.entries if not e.channels(email_enabled=email_enabled)]
        if stranded:
            why = "" if email_enabled else " (e-mail is off: no SMTP server is configured)"
            raise InvalidDirectory(f"no usable channel for {', '.join(stranded)}{why}")

    @property
    def entries(self) -> list[Entry]:
        return [self.cert_sante, *self.ars, self.ministry]

    def recipients_for(self, ars_code: str) -> list[tuple[Recipient, Entry]]:
        """Who is told of a declaration of that agency's territory: the agency, CERT Santé and
        the ministries' security officer, whatever the incident."""
        ars = next((entry for entry in self.ars if entry.code == ars_code), None)
        if ars is None:
            raise LookupError(f"no ARS {ars_code} in the directory")
        return [
            (Recipient(kind=RecipientKind.ars, code=ars.code, name=ars.name), ars),
            (
                Recipient(kind=RecipientKind.cert_sante, code=self.cert_sante.code, name=self.cert_sante.name),
                self.cert_sante,
            ),
            (Recipient(kind=RecipientKind.ministry, code=self.ministry.code, name=self.ministry.name), self.ministry),
        ]

    def entry(self, code: str) -> Entry:
        for entry in self.entries:
            if entry.code == code:
                return entry
        raise LookupError(f"no recipient {code} in the directory")

    def replace(self, entry: Entry) -> "Directory":
        """The directory with ``entry`` in place of the one with its code."""
        if entry.code == self.cert_sante.code:
            return self.model_copy(update={"cert_sante": entry})
        if entry.code == self.ministry.code:
            return self.model_copy(update={"ministry": entry})
        if not any(e.code == entry.code for e in self.ars):
            raise LookupError(f"no recipient {entry.code} in the directory")
        return self.model_copy(update={"ars": [entry if e.code == entry.code else e for e in self.ars]})


def _problems(error: ValidationError) -> str:
    # Never the input values in this message: they include the signing secrets.
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or '(root)'}: " + e["msg"].removeprefix("Value error, ")
        for e in error.errors(include_input=False, include_url=False)
    )


def load_directory(path: Path) -> Directory:
    try:
        return Directory.model_validate(json.loads(path.read_text()))
    except FileNotFoundError:
        raise InvalidDirectory(f"recipients directory {path} does not exist") from None
    except json.JSONDecodeError as error:
        raise InvalidDirectory(f"recipients directory {path} is not JSON: {error}") from None
    except ValidationError as error:
        raise InvalidDirectory(f"recipients directory {path} is invalid: {_problems(error)}") from None


def save_directory(path: Path, directory: Directory) -> None:
    """Write the directory whole or not at all, readable by its owner only."""
    document = directory.model_dump(mode="json", exclude_none=True)
    for entry in [document["cert_sante"], *document["ars"], document["ministry"]]:
        if "webhook" in entry:
            entry["webhook"]["secret"] = directory.entry(entry["code"]).webhook.secret.get_secret_value()  # type: ignore[union-attr]
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, prefix=".recipients-") as staging:
        json.dump(document, staging, indent=2, ensure_ascii=False)
    os.chmod(staging.name, 0o600)
    os.replace(staging.name, path)
