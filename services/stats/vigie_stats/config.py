"""Settings of the stats service (``VIGIE_*`` environment variables)."""

from vigie_kit.settings import ServiceSettings


class StatsSettings(ServiceSettings):
    service_name: str = "stats"
    database_url: str = "postgresql+asyncpg://vigie_stats@127.0.0.1:15432/vigie_stats"
    http_port: int = 8103
    # The dashboard's session cookie goes over TLS only. The local stack, served over plain HTTP
    # on loopback, turns this off; nothing else should.
    session_cookie_secure: bool = True
    # How long a dashboard session lasts after signing in.
    session_hours: float = 8.0
