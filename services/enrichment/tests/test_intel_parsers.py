"""Reading MISP feeds, STIX bundles and the KEV catalog, and refusing what is malformed."""

import json
from pathlib import Path

import pytest

from vigie_contracts.declaration import IndicatorType
from vigie_enrichment.adapters.feeds import InvalidIntel, parse_kev, parse_misp_feed, parse_stix_bundle

SAMPLES = Path(__file__).resolve().parents[1] / "vigie_enrichment" / "samples"


def test_the_sample_misp_feed_gives_its_indicators_with_actor_and_family() -> None:
    batch = parse_misp_feed(SAMPLES / "misp-feed")
    by_value = {i.value: i for i in batch.indicators}
    c2 = by_value["185.234.218.52"]
    assert (c2.type, c2.malware, c2.threat_actor) == (IndicatorType.ipv4, "LockBit", "LockBit affiliate (exemple)")
    assert "tlp:amber" in c2.tags
    assert by_value["91.215.85.142"].type is IndicatorType.ipv4  # ip-dst|port
    assert by_value["0c1d2e3f405162738495a6b7c8d9e0f1"].type is IndicatorType.md5  # from an object's filename|md5
    assert "10.12.0.4" not in by_value
    assert batch.skipped == {"not an indicator (ipv4)": 1, "MISP attribute type comment": 1}


def test_the_sample_stix_bundle_links_indicators_to_what_they_indicate() -> None:
    batch = parse_stix_bundle(SAMPLES / "stix-bundle.json")
    by_value = {i.value: i for i in batch.indicators}
    assert by_value["ameli-verification-compte.xyz"].threat_actor == "Campagne « Remboursement Ameli » (exemple)"
    assert by_value["185.234.218.52"].malware == "LockBit"
    assert batch.skipped == {"pattern type yara": 1}


def test_the_kev_catalog_says_which_cves_ransomware_groups_use() -> None:
    batch = parse_kev(SAMPLES / "kev.json")
    known = {v.cve: v.known_ransomware_use for v in batch.vulnerabilities}
    assert known["CVE-2018-13379"] is True
    assert known["CVE-2024-3400"] is False


def write(tmp_path: Path, name: str, content: object) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not JSON"),
        ([], "the bundle should be a dict"),
        ({"type": "report", "objects": []}, "a STIX bundle says 'bundle'"),
        ({"type": "bundle", "objects": [{"type": "indicator"}]}, "id should be a str"),
        (
            {"type": "bundle", "objects": [{"type": "indicator", "id": "indicator--1", "pattern": "ipv4 is 1.2.3.4"}]},
            "not a STIX comparison",
        ),
        (
            {
                "type": "bundle",
                "objects": [
                    {
                        "type": "indicator",
                        "id": "indicator--1",
                        "pattern": "[ipv4-addr:value = '8.8.8.8']",
                        "valid_from": "yesterday",
                    }
                ],
            },
            "not a timestamp",
        ),
    ],
)
def test_a_malformed_stix_bundle_is_refused_with_the_reason(tmp_path: Path, content: object, reason: str) -> None:
    with pytest.raises(InvalidIntel, match=reason):
        parse_stix_bundle(write(tmp_path, "bundle.json", content))


def test_a_malformed_kev_catalog_is_refused_with_the_entry(tmp_path: Path) -> None:
    entry = {
        "cveID": "CVE-2021-44228",
        "vendorProject": "Apache",
        "product": "Log4j2",
        "vulnerabilityName": "x",
        "dateAdded": "2021-12-10",
    }
    with pytest.raises(InvalidIntel, match=r"vulnerabilities\[1\]: cveID 'LOG4SHELL' is not a CVE id"):
        parse_kev(write(tmp_path, "kev.json", {"vulnerabilities": [entry, {**entry, "cveID": "log4shell"}]}))
    with pytest.raises(InvalidIntel, match="dateAdded '10/12/2021' is not a date"):
        parse_kev(write(tmp_path, "kev.json", {"vulnerabilities": [{**entry, "dateAdded": "10/12/2021"}]}))
    with pytest.raises(InvalidIntel, match="listed twice"):
        parse_kev(write(tmp_path, "kev.json", {"vulnerabilities": [entry, entry]}))


def test_a_malformed_misp_feed_is_refused_with_the_file(tmp_path: Path) -> None:
    write(tmp_path, "manifest.json", {"abc": {"info": "x"}})
    with pytest.raises(InvalidIntel, match=r"abc\.json: no such file"):
        parse_misp_feed(tmp_path)
    write(tmp_path, "abc.json", {"Event": {"uuid": "abd", "Attribute": []}})
    with pytest.raises(InvalidIntel, match="the manifest lists 'abc'"):
        parse_misp_feed(tmp_path)
    write(tmp_path, "abc.json", {"Event": {"uuid": "abc", "Attribute": [{"type": "ip-dst"}]}})
    with pytest.raises(InvalidIntel, match=r"Attribute\[0\]: value should be a str"):
        parse_misp_feed(tmp_path)
