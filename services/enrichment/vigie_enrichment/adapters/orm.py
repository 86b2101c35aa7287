"""Tables of the enrichment service."""

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel


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
