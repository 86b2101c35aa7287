"""Settings of the declaration service (``VIGIE_*`` environment variables)."""

from vigie_kit.settings import ServiceSettings


class DeclarationSettings(ServiceSettings):
    service_name: str = "declaration"
    database_url: str = "postgresql+asyncpg://vigie_declaration@127.0.0.1:15432/vigie_declaration"
    http_port: int = 8100
    # A declaration with 500 indicators of long URLs stays well under this.
    max_body_bytes: int = 1_048_576
    # A body still arriving after this is refused (408): a slow sender holds nothing for long.
    body_seconds: float = 10.0
    # Declarations and revisions handled at once; the next ones wait for a place, so many and so
    # long at most, and are answered 503 with Retry-After past that.
    intake_in_progress: int = 16
    intake_waiting: int = 16
    intake_wait_seconds: float = 1.0
    # Requests a minute per credential unless the credential says otherwise.
    rate_per_minute: int = 600
