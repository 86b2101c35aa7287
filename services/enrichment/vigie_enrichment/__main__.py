"""Run the enrichment service: ``vigie-enrichment`` (or ``python -m vigie_enrichment``)."""

from vigie_kit.service import serve

from .bootstrap import create_app
from .config import EnrichmentSettings


def main() -> None:
    settings = EnrichmentSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
