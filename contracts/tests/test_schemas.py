"""The checked-in JSON Schema is what the code says: a contract change without regenerating the
schema (``make schemas``) fails here."""

from pathlib import Path

from vigie_contracts.schema import SCHEMA_DIR, contract_schemas, stale_schemas, write_schemas


def test_checked_in_schemas_match_the_code() -> None:
    assert stale_schemas() == [], "run `make schemas` and commit contracts/schemas"


def test_a_changed_or_missing_schema_is_detected(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    assert stale_schemas(tmp_path) == []
    name = next(iter(contract_schemas()))
    (tmp_path / name).write_text("{}")
    (tmp_path / "retired.v0.json").write_text("{}")
    assert stale_schemas(tmp_path) == sorted([name, "retired.v0.json"])


def test_every_topic_and_the_partner_payload_have_a_schema() -> None:
    names = {path.name for path in SCHEMA_DIR.glob("*.json")}
    assert {
        "declaration.submitted.v1.json",
        "declaration.enriched.v1.json",
        "notification.dispatched.v2.json",
        "partner-declaration.v1.json",
        "webhook-notification.v1.json",
    } <= names
