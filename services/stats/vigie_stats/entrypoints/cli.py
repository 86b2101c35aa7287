"""``vigie-stats rebuild``: rebuild every aggregate by replaying the topics from the beginning.

    vigie-stats rebuild          # replay into a schema of its own and compare with the live tables
    vigie-stats rebuild --swap   # then put the rebuilt tables in place, the service running

Exit status 0 when the rebuilt aggregates are identical to the live ones (or were swapped in),
1 when they differ.
"""

import sys

from vigie_kit.cli import command_parser, say

from .rebuild import run


def main(argv: list[str] | None = None) -> int:
    root, commands = command_parser("vigie-stats", __doc__)
    rebuild = commands.add_parser("rebuild", help="replay the topics into fresh aggregates")
    rebuild.add_argument("--swap", action="store_true", help="put the rebuilt aggregates in place of the live ones")
    args = root.parse_args(argv)
    if args.command is None:
        from ..__main__ import serve_forever  # noqa: PLC0415

        serve_forever()
        return 0
    report = run(swap=args.swap)
    say(
        f"Replayed {report.events} events ({report.applied} applied, {report.undecodable} undecodable)"
        f" in {report.seconds:.2f}s: {report.events_per_second:.0f} events/s."
    )
    for table, count in report.differences.items():
        say(f"  {table}: {'identical' if count == 0 else f'{count} rows differ'}")
    if args.swap:
        say("The rebuilt aggregates are now the live ones (the replaced ones are kept in schema 'replaced').")
        return 0
    return 0 if report.identical else 1


if __name__ == "__main__":
    sys.exit(main())
