"""The recipients directory: the 18 ARS and CERT Santé, with their channels.

A directory that leaves an ARS without any channel is refused at start-up: a silent gap would
mean a region whose declarations nobody receives.
"""

import json
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


class InvalidDirectory(ValueError):
    pass


class Webhook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl
    secret: SecretStr

    @field_validator("secret")
    @classmethod
    def _strong_enough(cls, secret: SecretStr) -> SecretStr:
        if len(secret.get_secret_value()) < 32:
            raise ValueError("a signing secret has at least 32 characters")
        return secret


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    name: str
    webhook: Webhook | None = None
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None

    @model_validator(mode="after")
    def _has_a_channel(self) -> "Entry":
        if self.webhook is None and self.email is None:
            raise ValueError(f"{self.code} has no channel: give it a webhook, an email, or both")
        return self

    @property
    def channels(self) -> tuple[Channel, ...]:
        # E-mail delivery arrives with the SMTP channel; the webhook is the channel in service.
        return (Channel.webhook,) if self.webhook is not None else ()


class Directory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cert_sante: Entry
    ars: list[Entry]

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

    def recipients_for(self, ars_code: str) -> list[tuple[Recipient, Entry]]:
        """Who is told of a declaration of that ARS's region: the ARS itself and CERT Santé."""
        ars = next((entry for entry in self.ars if entry.code == ars_code), None)
        if ars is None:
            raise LookupError(f"no ARS {ars_code} in the directory")
        return [
            (Recipient(kind=RecipientKind.ars, code=ars.code, name=ars.name), ars),
            (
                Recipient(
                    kind=RecipientKind.cert_sante,
                    code=self.cert_sante.code,
                    name=self.cert_sante.name,
                ),
                self.cert_sante,
            ),
        ]

    def entry(self, code: str) -> Entry:
        if code == self.cert_sante.code:
            return self.cert_sante
        for entry in self.ars:
            if entry.code == code:
                return entry
        raise LookupError(f"no recipient {code} in the directory")


def load_directory(path: Path) -> Directory:
    try:
        return Directory.model_validate(json.loads(path.read_text()))
    except FileNotFoundError:
        raise InvalidDirectory(f"recipients directory {path} does not exist") from None
    except json.JSONDecodeError as error:
        raise InvalidDirectory(f"recipients directory {path} is not JSON: {error}") from None
    except ValidationError as error:
        # Never the input values in this message: they include the signing secrets.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or '(root)'}: " + e["msg"].removeprefix("Value error, ")
            for e in error.errors(include_input=False, include_url=False)
        )
        raise InvalidDirectory(f"recipients directory {path} is invalid: {problems}") from None
