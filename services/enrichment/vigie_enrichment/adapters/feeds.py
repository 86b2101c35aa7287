"""Threat intelligence in the formats analysts actually receive, read into one shape.

- a MISP feed: a folder with ``manifest.json`` and one ``<event uuid>.json`` per event;
- a STIX 2.1 bundle: indicators with STIX patterns, and what they indicate (malware, actors);
- CISA's Known Exploited Vulnerabilities catalog (JSON).

A file that is not what it claims to be is refused whole, with the place and the reason; an
entry that is well-formed but no indicator (a private address, an attribute type that says
nothing of an attacker) is skipped and counted.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from vigie_contracts.declaration import IndicatorType

from ..domain.indicators import normalize


class InvalidIntel(ValueError):
    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


@dataclass(frozen=True)
class IntelIndicator:
    type: IndicatorType
    value: str
    reference: str
    tags: tuple[str, ...] = ()
    threat_actor: str | None = None
    malware: str | None = None
    description: str | None = None
    first_seen: datetime | None = None


@dataclass(frozen=True)
class KnownExploited:
    cve: str
    vendor: str
    product: str
    name: str
    date_added: date
    known_ransomware_use: bool
    description: str


@dataclass
class IntelBatch:
    kind: str
    indicators: list[IntelIndicator] = field(default_factory=list)
    vulnerabilities: list[KnownExploited] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, type_: IndicatorType, value: str, **details: Any) -> None:
        observable = normalize(type_, value)
        if observable is None:
            self.skipped[f"not an indicator ({type_})"] += 1
            return
        self.indicators.append(IntelIndicator(observable.type, observable.value, **details))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidIntel(str(path), "no such file") from None
    except UnicodeDecodeError as error:
        raise InvalidIntel(str(path), f"not UTF-8 (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise InvalidIntel(str(path), f"not JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None


def _require(value: Any, kind: type, where: str, what: str) -> Any:
    if not isinstance(value, kind):
        raise InvalidIntel(where, f"{what} should be a {kind.__name__}, not {type(value).__name__}")
    return value


# --- MISP ------------------------------------------------------------------------------------

_MISP_TYPES: dict[str, IndicatorType] = {
    "ip-dst": IndicatorType.ipv4,
    "ip-src": IndicatorType.ipv4,
    "domain": IndicatorType.domain,
    "hostname": IndicatorType.domain,
    "url": IndicatorType.url,
    "md5": IndicatorType.md5,
    "sha1": IndicatorType.sha1,
    "sha256": IndicatorType.sha256,
    "email": IndicatorType.email,
    "email-src": IndicatorType.email,
    "email-dst": IndicatorType.email,
    "vulnerability": IndicatorType.cve,
}
_GALAXY_TAG = re.compile(r'^misp-galaxy:(?P<galaxy>[a-z0-9-]+)="(?P<value>[^"]+)"$')
_ACTOR_GALAXIES = {"threat-actor", "mitre-intrusion-set", "microsoft-activity-group"}
_MALWARE_GALAXIES = {"ransomware", "malpedia", "mitre-malware", "tool"}


def _misp_values(type_name: str, value: str) -> list[tuple[IndicatorType, str]]:
    """One MISP attribute as indicators: composite types (``ip-dst|port``, ``filename|sha256``,
    ``domain|ip``) give their indicator parts."""
    if "|" in type_name:
        left_type, right_type = type_name.split("|", 1)
        left, _, right = value.partition("|")
        return _misp_values(left_type, left) + _misp_values(right_type, right)
    if type_name == "ip":
        type_name = "ip-dst"
    mapped = _MISP_TYPES.get(type_name)
    return [(mapped, value)] if mapped is not None else []


def _misp_names(tags: list[str], galaxies: Any) -> tuple[str | None, str | None]:
    actor = malware = None
    for tag in tags:
        if match := _GALAXY_TAG.match(tag):
            if match["galaxy"] in _ACTOR_GALAXIES:
                actor = actor or match["value"]
            elif match["galaxy"] in _MALWARE_GALAXIES:
                malware = malware or match["value"]
    for galaxy in galaxies if isinstance(galaxies, list) else []:
        kind = galaxy.get("type", "") if isinstance(galaxy, dict) else ""
        for cluster in galaxy.get("GalaxyCluster", []) if isinstance(galaxy, dict) else []:
            value = cluster.get("value") if isinstance(cluster, dict) else None
            if not isinstance(value, str):
                continue
            if kind in _ACTOR_GALAXIES:
                actor = actor or value
            elif kind in _MALWARE_GALAXIES:
                malware = malware or value
    return actor, malware


def _tag_names(tags: Any, where: str) -> list[str]:
    names = []
    for index, tag in enumerate(_require(tags or [], list, where, "Tag")):
        name = _require(tag, dict, f"{where}.Tag[{index}]", "a tag").get("name")
        names.append(_require(name, str, f"{where}.Tag[{index}].name", "a tag name"))
    return names


def parse_misp_feed(folder: Path) -> IntelBatch:
    manifest = _require(_read_json(folder / "manifest.json"), dict, "manifest.json", "the manifest")
    batch = IntelBatch(kind="misp")
    for uuid in manifest:
        where = f"{uuid}.json"
        document = _require(_read_json(folder / where), dict, where, "an event file")
        event = _require(document.get("Event"), dict, where, "Event")
        if event.get("uuid") != uuid:
            raise InvalidIntel(where, f"Event.uuid is {event.get('uuid')!r}, the manifest lists {uuid!r}")
        info = event.get("info")
        event_tags = _tag_names(event.get("Tag"), f"{where}: Event")
        actor, malware = _misp_names(event_tags, event.get("Galaxy"))
        attributes = list(_require(event.get("Attribute") or [], list, where, "Event.Attribute"))
        for index, obj in enumerate(_require(event.get("Object") or [], list, where, "Event.Object")):
            attributes += _require(
                _require(obj, dict, f"{where}: Object[{index}]", "an object").get("Attribute") or [],
                list,
                f"{where}: Object[{index}]",
                "Attribute",
            )
        for index, item in enumerate(attributes):
            at = f"{where}: Attribute[{index}]"
            attribute = _require(item, dict, at, "an attribute")
            type_name = _require(attribute.get("type"), str, at, "type")
            value = _require(attribute.get("value"), str, at, "value")
            tags = tuple(dict.fromkeys([*event_tags, *_tag_names(attribute.get("Tag"), at)]))
            first_seen = None
            if isinstance(attribute.get("timestamp"), str) and attribute["timestamp"].isdigit():
                first_seen = datetime.fromtimestamp(int(attribute["timestamp"]), UTC)
            parts = _misp_values(type_name, value)
            if not parts:
                batch.skipped[f"MISP attribute type {type_name}"] += 1
            for indicator_type, part in parts:
                batch.add(
                    indicator_type,
                    part,
                    reference=uuid,
                    tags=tags,
                    threat_actor=actor,
                    malware=malware,
                    description=info if isinstance(info, str) else None,
                    first_seen=first_seen,
                )
    return batch


# --- STIX 2.1 --------------------------------------------------------------------------------

_COMPARISON = re.compile(r"\[\s*(?P<object>[a-z0-9-]+):(?P<path>[^\s=]+)\s*=\s*'(?P<value>(?:[^'\\]|\\.)*)'\s*\]")
_STIX_PATHS: dict[tuple[str, str], IndicatorType] = {
    ("ipv4-addr", "value"): IndicatorType.ipv4,
    ("ipv6-addr", "value"): IndicatorType.ipv6,
    ("domain-name", "value"): IndicatorType.domain,
    ("url", "value"): IndicatorType.url,
    ("email-addr", "value"): IndicatorType.email,
    ("file", "hashes.'SHA-256'"): IndicatorType.sha256,
    ("file", "hashes.SHA256"): IndicatorType.sha256,
    ("file", "hashes.'SHA-1'"): IndicatorType.sha1,
    ("file", "hashes.SHA1"): IndicatorType.sha1,
    ("file", "hashes.MD5"): IndicatorType.md5,
    ("file", "hashes.'MD5'"): IndicatorType.md5,
}


def parse_stix_bundle(path: Path) -> IntelBatch:  # noqa: PLR0912 - one check a branch
    where = path.name
    bundle = _require(_read_json(path), dict, where, "the bundle")
    if bundle.get("type") != "bundle":
        raise InvalidIntel(where, f"type is {bundle.get('type')!r}, a STIX bundle says 'bundle'")
    objects = _require(bundle.get("objects"), list, where, "objects")
    by_id: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(objects):
        at = f"{where}: objects[{index}]"
        obj = _require(item, dict, at, "a STIX object")
        _require(obj.get("type"), str, at, "type")
        by_id[_require(obj.get("id"), str, at, "id")] = obj

    indicates: dict[str, dict[str, str]] = {}
    for obj in by_id.values():
        if obj["type"] == "relationship" and obj.get("relationship_type") == "indicates":
            target = by_id.get(str(obj.get("target_ref")))
            if target is not None and isinstance(target.get("name"), str):
                role = "malware" if target["type"] == "malware" else "threat_actor"
                indicates.setdefault(str(obj.get("source_ref")), {})[role] = target["name"]

    batch = IntelBatch(kind="stix")
    for obj in by_id.values():
        if obj["type"] == "vulnerability" and isinstance(obj.get("name"), str):
            batch.add(
                IndicatorType.cve,
                obj["name"],
                reference=obj["id"],
                description=obj.get("description"),
            )
        if obj["type"] != "indicator":
            continue
        at = f"{where}: {obj['id']}"
        if obj.get("pattern_type", "stix") != "stix":
            batch.skipped[f"pattern type {obj.get('pattern_type')}"] += 1
            continue
        pattern = _require(obj.get("pattern"), str, at, "pattern")
        comparisons = list(_COMPARISON.finditer(pattern))
        if not comparisons:
            raise InvalidIntel(at, f"pattern {pattern[:80]!r} is not a STIX comparison this reader knows")
        valid_from = obj.get("valid_from")
        first_seen = None
        if isinstance(valid_from, str):
            try:
                first_seen = datetime.fromisoformat(valid_from.replace("Z", "+00:00"))
            except ValueError:
                raise InvalidIntel(at, f"valid_from {valid_from!r} is not a timestamp") from None
        labels = [*obj.get("labels", []), *obj.get("indicator_types", [])]
        names = indicates.get(obj["id"], {})
        for comparison in comparisons:
            indicator_type = _STIX_PATHS.get((comparison["object"], comparison["path"]))
            if indicator_type is None:
                batch.skipped[f"STIX path {comparison['object']}:{comparison['path']}"] += 1
                continue
            batch.add(
                indicator_type,
                comparison["value"].replace("\\'", "'").replace("\\\\", "\\"),
                reference=obj["id"],
                tags=tuple(str(label) for label in labels),
                threat_actor=names.get("threat_actor"),
                malware=names.get("malware"),
                description=obj.get("name") or obj.get("description"),
                first_seen=first_seen,
            )
    return batch


# --- CISA KEV --------------------------------------------------------------------------------


def parse_kev(path: Path) -> IntelBatch:
    where = path.name
    catalog = _require(_read_json(path), dict, where, "the catalog")
    entries = _require(catalog.get("vulnerabilities"), list, where, "vulnerabilities")
    batch = IntelBatch(kind="kev")
    for index, item in enumerate(entries):
        at = f"{where}: vulnerabilities[{index}]"
        entry = _require(item, dict, at, "an entry")
        cve = str(_require(entry.get("cveID"), str, at, "cveID")).upper()
        if not re.fullmatch(r"CVE-\d{4}-\d{4,7}", cve):
            raise InvalidIntel(at, f"cveID {cve!r} is not a CVE id")
        try:
            added = date.fromisoformat(_require(entry.get("dateAdded"), str, at, "dateAdded"))
        except ValueError:
            raise InvalidIntel(at, f"dateAdded {entry.get('dateAdded')!r} is not a date") from None
        ransomware = entry.get("knownRansomwareCampaignUse", "Unknown")
        if ransomware not in ("Known", "Unknown"):
            raise InvalidIntel(at, f"knownRansomwareCampaignUse is {ransomware!r}, not Known or Unknown")
        batch.vulnerabilities.append(
            KnownExploited(
                cve=cve,
                vendor=str(_require(entry.get("vendorProject"), str, at, "vendorProject")),
                product=str(_require(entry.get("product"), str, at, "product")),
                name=str(_require(entry.get("vulnerabilityName"), str, at, "vulnerabilityName")),
                date_added=added,
                known_ransomware_use=ransomware == "Known",
                description=str(entry.get("shortDescription", "")),
            )
        )
    if len({v.cve for v in batch.vulnerabilities}) != len(batch.vulnerabilities):
        raise InvalidIntel(where, "a CVE is listed twice")
    return batch
