"""A revision changes some fields of a declaration; the rest stays as it was."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vigie_contracts.events import RevisionKind

# Objects whose fields a revision may change one by one; everything else (lists included) is
# replaced as a whole when a revision names it.
_MERGED = ("structure", "declarant", "impacts", "provider", "cert_contact", "complaint", "personal_data")


class RevisionRefused(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def apply_changes(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The declaration's content after ``changes`` (JSON data in, JSON data out; the result is
    validated as a whole by the caller)."""
    structure = changes.get("structure")
    if isinstance(structure, dict) and "finess" in structure and structure["finess"] != current["structure"]["finess"]:
        raise RevisionRefused(
            "changes.structure.finess",
            "a declaration stays with its structure; declare anew for another",
        )
    revised = dict(current)
    for key, value in changes.items():
        if key in _MERGED and isinstance(value, dict) and isinstance(current.get(key), dict):
            revised[key] = {**current[key], **value}
        elif value is None:
            # An optional field withdrawn; a required one is then missing, and said so.
            revised.pop(key, None)
        else:
            revised[key] = value
    return revised


class RevisionCreate(BaseModel):
    """A new revision: what kind of report it is, the revision it was written against, and the
    fields that changed (objects are merged field by field, lists replaced)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "notification",
                    "based_on": 1,
                    "changes": {"status": "contained", "impacts": {"patient_safety": "none"}},
                }
            ]
        },
    )

    kind: RevisionKind = Field(description="early_warning, notification, final_report or update")
    based_on: int = Field(ge=1, le=1_000_000, description="the revision the changes were written against")
    changes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _a_revision_kind(cls, kind: RevisionKind) -> RevisionKind:
        if kind is RevisionKind.initial:
            raise ValueError(
                "'initial' is the first submission; a revision is early_warning, notification, final_report or update"
            )
        return kind
