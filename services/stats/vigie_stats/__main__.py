"""Run the stats service: ``vigie-stats`` (or ``python -m vigie_stats``)."""

from vigie_kit.service import serve

from .bootstrap import create_app
from .config import StatsSettings


def main() -> None:
    settings = StatsSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
