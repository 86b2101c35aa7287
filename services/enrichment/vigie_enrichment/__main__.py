"""Run the enrichment service (``vigie-enrichment``), or load threat intelligence
(``vigie-enrichment intel …``)."""

import sys

from vigie_kit.service import serve

from .bootstrap import create_app
from .config import EnrichmentSettings


def serve_forever() -> None:
    settings = EnrichmentSettings()
    serve(create_app(settings), settings)


def main() -> None:
    from .entrypoints.cli import main as cli  # noqa: PLC0415

    sys.exit(cli())


if __name__ == "__main__":
    main()
