"""Run the stats service (``vigie-stats``), or rebuild its aggregates (``vigie-stats rebuild``)."""

import sys

from vigie_kit.service import serve

from .bootstrap import create_app
from .config import StatsSettings


def serve_forever() -> None:
    settings = StatsSettings()
    serve(create_app(settings), settings)


def main() -> None:
    from .entrypoints.cli import main as cli  # noqa: PLC0415

    sys.exit(cli())


if __name__ == "__main__":
    main()
