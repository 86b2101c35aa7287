"""Settings of the enrichment service (``VIGIE_*`` environment variables)."""

from vigie_kit.settings import ServiceSettings


class EnrichmentSettings(ServiceSettings):
    service_name: str = "enrichment"
    database_url: str = "postgresql+asyncpg://vigie_enrichment@127.0.0.1:15432/vigie_enrichment"
    http_port: int = 8101
    # Declarations detected this close to each other and sharing a key form a campaign.
    campaign_window_days: int = 30
