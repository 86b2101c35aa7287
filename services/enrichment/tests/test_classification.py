"""Taxonomy tags and severity, with reasons, for the situations the observatory sees."""

from datetime import UTC, datetime
from typing import Any

from vigie_contracts.declaration import DeclarationContent, IndicatorType
from vigie_enrichment.domain.campaigns import LinkKind, link_keys, provider_key
from vigie_enrichment.domain.indicators import observed_indicators
from vigie_enrichment.domain.severity import Context, assess
from vigie_enrichment.domain.taxonomy import RULES, classify, facts_of, impact_severity


def content(**changes: Any) -> DeclarationContent:
    data: dict[str, Any] = {
        "structure": {"finess": "130783236", "name": "CHU", "type": "health_facility", "essential_operator": True},
        "declarant": {"name": "A", "role": "RSSI", "email": "a@b.fr"},
        "detected_at": datetime(2026, 11, 1, tzinfo=UTC).isoformat(),
        "origin": "malicious",
        "category": "ransomware",
        "description": "x",
        "status": "ongoing",
    }
    data.update(changes)
    return DeclarationContent.model_validate(data)


def test_a_ransomware_through_the_vpn_with_a_known_cve() -> None:
    declaration = content(scope=["vpn", "servers"], impacts={"degraded_mode": True, "patient_safety": "potential"})
    classification = classify(facts_of(declaration, {IndicatorType.cve, IndicatorType.ipv4}))
    assert classification.rsit == [
        'rsit:malicious-code="infected-system"',
        'rsit:information-content-security="unauthorised-information-modification"',
    ]
    assert [t.id for t in classification.attack] == ["T1486", "T1133", "T1190"]
    assert classification.attack[0].name == "Data Encrypted for Impact"
    assert classification.nis2 == [
        'nis2:impact-sectors-impacted="health"',
        'nis2:impact-subsectors-impacted="health-subsector"',
        'nis2:nature-root-cause="malicious-actions"',
    ]


def test_phishing_accidental_and_unknown_cases() -> None:
    phishing = classify(
        facts_of(
            content(category="phishing", structure={"finess": "130783236", "name": "EHPAD", "type": "medico_social"}),
            set(),
        )
    )
    assert phishing.rsit == ['rsit:fraud="phishing"']
    assert [t.id for t in phishing.attack] == ["T1566"]
    failure = classify(facts_of(content(category="technical_failure", origin="accidental"), set()))
    assert failure.rsit == ['rsit:availability="outage"']
    assert failure.attack == []
    assert 'nis2:nature-root-cause="system-failures"' in failure.nis2
    outage = classify(facts_of(content(category="provider_incident", origin="unknown"), set()))
    assert 'nis2:nature-root-cause="third-party-failures"' in outage.nis2
    other = classify(facts_of(content(category="other", origin="unknown"), set()))
    assert other.rsit == ['rsit:other="other"']


def test_every_rule_names_only_known_techniques_and_well_formed_tags() -> None:
    for rule in RULES:
        assert all(tag.startswith("rsit:") and tag.count('"') == 2 for tag in rule.rsit)
        assert all(tag.startswith("nis2:") and tag.count('"') == 2 for tag in rule.nis2)
        classify(facts_of(content(), set()))  # the table is consistent with the ATT&CK names
    assert all(
        t.name
        for t in classify(
            facts_of(
                content(category="account_compromise", scope=["messaging", "vpn", "directory"]), {IndicatorType.cve}
            )
        ).attack
    )


def test_the_nis2_colour_follows_the_health_code_decision() -> None:
    assert impact_severity(assess(content(impacts={"degraded_mode": True}))) == "yellow"
    assert impact_severity(assess(content(structure={"finess": "130783236", "name": "x", "type": "other"}))) == "white"
    significant = assess(
        content(impacts={"degraded_mode": True, "territorial_extent": "regional"}), Context(shared_provider="X")
    )
    assert impact_severity(significant) == "red"


def test_what_links_declarations_and_what_does_not() -> None:
    observed = observed_indicators(
        [], ["hxxps://ameli-remboursement[.]top/x CVE-2018-13379 login.microsoftonline.com support@outlook.com"]
    )
    keys = {(k.kind, k.key) for k in link_keys(observed, "BioCloud Hébergement SAS")}
    assert keys == {
        (LinkKind.indicator, "url:https://ameli-remboursement.top/x"),
        (LinkKind.indicator, "domain:ameli-remboursement.top"),
        (LinkKind.cve, "CVE-2018-13379"),
        (LinkKind.provider, "biocloud hebergement"),
    }
    assert provider_key("BIOCLOUD  HÉBERGEMENT") == provider_key("BioCloud Hébergement SAS")


def test_a_domain_named_twice_is_one_link() -> None:
    observed = observed_indicators([], ["ameli-remboursement[.]top et hxxps://ameli-remboursement[.]top/x"])
    links = link_keys(observed, None)
    assert [(k.kind, k.key, k.label) for k in links] == [
        (LinkKind.indicator, "domain:ameli-remboursement.top", "Domaine partagé ameli-remboursement.top"),
        (
            LinkKind.indicator,
            "url:https://ameli-remboursement.top/x",
            "Indicateur partagé https://ameli-remboursement.top/x",
        ),
    ]
