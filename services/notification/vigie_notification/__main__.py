"""Run the notification service (``vigie-notification``), or manage its directory and its
dead-lettered deliveries (``vigie-notification directory|deliveries …``)."""

import sys

from vigie_kit.service import serve

from .bootstrap import create_app
from .config import NotificationSettings


def serve_forever() -> None:
    settings = NotificationSettings()
    serve(create_app(settings), settings)


def main() -> None:
    from .entrypoints.cli import main as cli  # noqa: PLC0415

    sys.exit(cli())


if __name__ == "__main__":
    main()
