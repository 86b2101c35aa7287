"""Write the AsyncAPI document of every service's channels into ``contracts/asyncapi.json``, or
check it is current. It is made from the services' own declarations (``entrypoints/events.py``),
the ones their brokers run with.

python -m vigie_stack.asyncapi          # write
python -m vigie_stack.asyncapi --check  # exit 1 if the code and the checked-in document disagree
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from vigie_declaration.entrypoints import events as declaration
from vigie_enrichment.entrypoints import events as enrichment
from vigie_kit.messaging import Channels, asyncapi_document
from vigie_notification.entrypoints import events as notification
from vigie_stats.entrypoints import events as stats

DOCUMENT = Path(__file__).resolve().parents[3] / "contracts" / "asyncapi.json"
SERVICES: dict[str, Channels] = {
    "declaration": declaration.CHANNELS,
    "enrichment": enrichment.CHANNELS,
    "notification": notification.CHANNELS,
    "stats": stats.CHANNELS,
}
DESCRIPTION = """\
Every topic of Vigie and every message on it. A channel named after a topic is where its one
producer publishes, each record one event, keyed by its declaration (or its credential); a
channel named after a consumer group is what that group takes, in batches (shown as arrays of
the topic's event); a channel ending in :dead-letters is where that group puts the records it
cannot apply. Every record carries the headers event_id, event_type, schema_version and the W3C
traceparent of the work that produced it. The JSON Schema of each event is also in
contracts/schemas/."""


def document() -> dict[str, Any]:
    return asyncapi_document(SERVICES, description=DESCRIPTION)


def render(content: dict[str, Any]) -> str:
    return json.dumps(content, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def is_current(path: Path = DOCUMENT) -> bool:
    return path.is_file() and path.read_text() == render(document())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the document is stale")
    args = parser.parse_args()
    if args.check:
        if not is_current():
            print(f"stale: {DOCUMENT.name}; run: make schemas", file=sys.stderr)  # noqa: T201
            return 1
        return 0
    DOCUMENT.write_text(render(document()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
