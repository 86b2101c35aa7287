"""Run the declaration service (``vigie-declaration``), or manage credentials
(``vigie-declaration credentials …``)."""

import sys

from vigie_kit.service import serve

from .bootstrap import create_app
from .config import DeclarationSettings


def serve_forever() -> None:
    settings = DeclarationSettings()
    serve(create_app(settings), settings)


def main() -> None:
    from .entrypoints.cli import main as cli  # noqa: PLC0415

    sys.exit(cli())


if __name__ == "__main__":
    main()
