"""Generate the JSON Schema of every contract into ``contracts/schemas``, or check it is current.

python -m vigie_contracts.schema          # write
python -m vigie_contracts.schema --check  # exit 1 if code and checked-in schema disagree
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .declaration import DeclarationContent
from .events import EVENTS
from .webhook import WebhookNotification

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def contract_schemas() -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {
        "partner-declaration.v1.json": DeclarationContent.model_json_schema(mode="validation"),
        "webhook-notification.v1.json": WebhookNotification.model_json_schema(mode="serialization"),
    }
    for event in EVENTS:
        schemas[f"{event.topic.name}.json"] = event.model_json_schema(mode="serialization")
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def stale_schemas(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of the schema files that are missing, different, or no longer generated."""
    expected = {name: render(schema) for name, schema in contract_schemas().items()}
    stale = [
        name
        for name, text in expected.items()
        if not (directory / name).is_file() or (directory / name).read_text() != text
    ]
    stale += [p.name for p in directory.glob("*.json") if p.name not in expected]
    return sorted(stale)


def write_schemas(directory: Path = SCHEMA_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    expected = contract_schemas()
    for path in directory.glob("*.json"):
        if path.name not in expected:
            path.unlink()
    for name, schema in expected.items():
        (directory / name).write_text(render(schema))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the schemas are stale")
    args = parser.parse_args()
    if args.check:
        stale = stale_schemas()
        if stale:
            print("stale contract schemas:", ", ".join(stale), file=sys.stderr)  # noqa: T201
            print("run: uv run python -m vigie_contracts.schema", file=sys.stderr)  # noqa: T201
            return 1
        return 0
    write_schemas()
    return 0


if __name__ == "__main__":
    sys.exit(main())
