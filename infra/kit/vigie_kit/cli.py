"""What every service's command line shares: ``vigie-<service>`` alone serves, a command
after it runs that command; both speak to the terminal at once."""

import argparse
from typing import Any


def say(*parts: object) -> None:
    print(*parts, flush=True)  # noqa: T201 - a command-line tool speaks to the terminal


def command_parser(prog: str, description: str | None) -> tuple[argparse.ArgumentParser, Any]:
    """The service's parser, its module docstring for help, and where its commands go: none
    given means serve (``args.command`` is None)."""
    root = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    return root, root.add_subparsers(dest="command")
