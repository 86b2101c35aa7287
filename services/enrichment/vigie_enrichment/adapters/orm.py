"""Tables of the enrichment service."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from vigie_kit.tables import service_schema


class Enrichment(SQLModel, table=True):
    """What enrichment concluded for one revision of a declaration."""

    __tablename__ = "enrichments"

    declaration_id: UUID = Field(primary_key=True)
    revision: int = Field(primary_key=True)
    reference: str
    finess: str = Field(index=True)
    departement_code: str
    region_code: str
    result: dict[str, Any] = Field(sa_column=sa.Column(postgresql.JSONB, nullable=False))
    enriched_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


def _timestamp(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=nullable))


class Indicator(SQLModel, table=True):
    """An indicator of compromise, as a source of threat intelligence gave it."""

    __tablename__ = "ti_indicators"
    __table_args__ = (
        sa.Index("ti_indicators_lookup", "type", "value"),
        sa.Index("ti_indicators_by_source", "source"),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), primary_key=True))
    source: str
    type: str
    value: str
    reference: str
    tags: list[str] = Field(sa_column=sa.Column(postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"))
    threat_actor: str | None = None
    malware: str | None = None
    description: str | None = None
    first_seen: datetime | None = _timestamp(nullable=True)


class Vulnerability(SQLModel, table=True):
    """A known exploited vulnerability (CISA KEV), as a source gave it."""

    __tablename__ = "ti_vulnerabilities"
    __table_args__ = (sa.Index("ti_vulnerabilities_by_cve", "cve"),)

    source: str = Field(primary_key=True)
    cve: str = Field(primary_key=True)
    vendor: str
    product: str
    name: str
    date_added: date
    known_ransomware_use: bool
    description: str


class IntelLoad(SQLModel, table=True):
    """The last load of each source: what it held, and what was skipped and why."""

    __tablename__ = "ti_loads"

    source: str = Field(primary_key=True)
    kind: str
    digest: str
    indicators: int
    vulnerabilities: int
    skipped: dict[str, Any] = Field(sa_column=sa.Column(postgresql.JSONB, nullable=False))
    loaded_at: datetime = _timestamp()


class StructureIncident(SQLModel, table=True):
    """One declaration of a structure, for the incidents it declared within a year."""

    __tablename__ = "structure_incidents"
    __table_args__ = (sa.Index("structure_incidents_by_finess", "finess", "detected_at"),)

    declaration_id: UUID = Field(primary_key=True)
    finess: str
    detected_at: datetime = _timestamp()


class DeclarationLink(SQLModel, table=True):
    """A key a declaration may share with others (an indicator, a provider)."""

    __tablename__ = "declaration_links"
    __table_args__ = (
        sa.Index("declaration_links_by_key", "kind", "key", "detected_at"),
        sa.Index("declaration_links_not_joined", "kind", "key", "detected_at", postgresql_where=sa.text("NOT joined")),
    )

    declaration_id: UUID = Field(primary_key=True)
    kind: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    label: str
    detected_at: datetime = _timestamp()
    joined: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False, server_default="false"))


class Campaign(SQLModel, table=True):
    """Declarations sharing a key within the campaign window."""

    __tablename__ = "campaigns"
    __table_args__ = (sa.Index("campaigns_by_key", "kind", "key"),)

    id: UUID = Field(primary_key=True)
    kind: str
    key: str
    label: str
    first_detected_at: datetime = _timestamp()
    last_detected_at: datetime = _timestamp()
    created_at: datetime = _timestamp()
    size: int = Field(sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))


class CampaignMember(SQLModel, table=True):
    __tablename__ = "campaign_members"
    __table_args__ = (sa.Index("campaign_members_by_declaration", "declaration_id"),)

    campaign_id: UUID = Field(
        sa_column=sa.Column(postgresql.UUID(as_uuid=True), sa.ForeignKey("campaigns.id"), primary_key=True)
    )
    declaration_id: UUID = Field(primary_key=True)
    joined_at: datetime = _timestamp()


# What the migrations must build, and what Alembic compares them with (test_migrations).
SCHEMA = service_schema(
    Enrichment,
    Indicator,
    Vulnerability,
    IntelLoad,
    StructureIncident,
    DeclarationLink,
    Campaign,
    CampaignMember,
)
