"""Span attributes every service sets and ops search by, in the tracing UI or with
``vigie-stack trace``: ``vigie.declaration.reference=VIG-2026-000042``."""

DECLARATION_ID = "vigie.declaration.id"
DECLARATION_REFERENCE = "vigie.declaration.reference"
