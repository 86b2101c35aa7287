"""``vigie-enrichment intel``: load threat intelligence into the enrichment database.

    vigie-enrichment intel load --misp path/to/feed          # a MISP feed folder (manifest.json)
    vigie-enrichment intel load --stix path/to/bundle.json   # a STIX 2.1 bundle
    vigie-enrichment intel load --kev known_exploited_vulnerabilities.json
    vigie-enrichment intel sources                           # what is loaded

Loading a source replaces what it said before, in one transaction: a reload of the same file
changes nothing, and a malformed file is refused with the reason and changes nothing either.
"""

import argparse
import asyncio
import json
from pathlib import Path

from vigie_kit.cli import command_parser, say
from vigie_kit.db import command_session

from ..adapters.feeds import InvalidIntel, parse_kev, parse_misp_feed, parse_stix_bundle
from ..adapters.intel import load, sources
from ..bootstrap import MIGRATIONS
from ..config import EnrichmentSettings

SAMPLES = Path(__file__).parents[1] / "samples"


def parser() -> argparse.ArgumentParser:
    root, commands = command_parser("vigie-enrichment", __doc__)
    intel = commands.add_parser("intel", help="threat intelligence")
    actions = intel.add_subparsers(dest="action", required=True)
    loading = actions.add_parser("load", help="load (or reload) one source")
    what = loading.add_mutually_exclusive_group(required=True)
    what.add_argument("--misp", type=Path, help="a MISP feed folder")
    what.add_argument("--stix", type=Path, help="a STIX 2.1 bundle")
    what.add_argument("--kev", type=Path, help="the CISA KEV catalog (JSON)")
    what.add_argument("--samples", action="store_true", help="the sample files shipped with Vigie")
    loading.add_argument("--source", help="the source's name (default: from the kind and the file name)")
    loading.add_argument("--json", action="store_true", help="print JSON (for scripts)")
    actions.add_parser("sources", help="list what is loaded")
    return root


def _batches(args: argparse.Namespace) -> list[tuple[str, object]]:
    if args.samples:
        return [
            ("misp:sample-feed", parse_misp_feed(SAMPLES / "misp-feed")),
            ("stix:sample-bundle", parse_stix_bundle(SAMPLES / "stix-bundle.json")),
            ("kev:cisa-sample", parse_kev(SAMPLES / "kev.json")),
        ]
    if args.misp is not None:
        return [(args.source or f"misp:{args.misp.resolve().name}", parse_misp_feed(args.misp))]
    if args.stix is not None:
        return [(args.source or f"stix:{args.stix.stem}", parse_stix_bundle(args.stix))]
    return [(args.source or "kev:cisa", parse_kev(args.kev))]


async def run(args: argparse.Namespace) -> int:
    if args.action == "load":
        try:
            batches = _batches(args)  # everything is read and checked before the database is touched
        except InvalidIntel as error:
            say(f"refused, nothing loaded: {error}")
            return 2
    async with command_session(EnrichmentSettings().database_url, MIGRATIONS) as session:
        if args.action == "sources":
            for row in await sources(session):
                say(
                    f"{row['source']:<28} {row['kind']:<5} {row['indicators']:>8} indicators"
                    f" {row['vulnerabilities']:>6} CVEs  loaded {row['loaded_at']:%Y-%m-%d %H:%M}"
                )
            return 0
        reports = [await load(session, source, batch) for source, batch in batches]  # type: ignore[arg-type]
    for report in reports:
        if args.json:
            say(json.dumps(report.__dict__))
        else:
            state = "unchanged" if report.unchanged else "loaded"
            skipped = sum(report.skipped.values())
            say(
                f"{report.source}: {state}, {report.indicators} indicators, {report.vulnerabilities} CVEs"
                + (
                    f", {skipped} entries skipped ({', '.join(f'{k}: {v}' for k, v in report.skipped.items())})"
                    if skipped
                    else ""
                )
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        from ..__main__ import serve_forever  # noqa: PLC0415

        serve_forever()
        return 0
    return asyncio.run(run(args))
