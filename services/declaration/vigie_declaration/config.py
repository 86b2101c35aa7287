"""Settings of the declaration service (``VIGIE_*`` environment variables)."""

from vigie_kit.settings import ServiceSettings


class DeclarationSettings(ServiceSettings):
    service_name: str = "declaration"
    database_url: str = "postgresql+asyncpg://vigie_declaration@127.0.0.1:15432/vigie_declaration"
    http_port: int = 8100
    # A declaration with 500 indicators of long URLs stays well under this.
    max_body_bytes: int = 1_048_576
    # Requests a minute per credential unless the credential says otherwise.
    rate_per_minute: int = 600
