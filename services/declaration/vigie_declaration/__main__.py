"""Run the declaration service: ``vigie-declaration`` (or ``python -m vigie_declaration``)."""

from vigie_kit.service import serve

from .bootstrap import create_app
from .config import DeclarationSettings


def main() -> None:
    settings = DeclarationSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
