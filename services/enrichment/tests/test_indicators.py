"""Indicators from the declared list and the free text: refanged, normalised, deduplicated, and
only those that can point at an attacker."""

import pytest

from vigie_contracts.declaration import Indicator, IndicatorType
from vigie_enrichment.domain.indicators import Origin, extract_from_text, normalize, observed_indicators, refang

T = IndicatorType


def found(text: str) -> set[tuple[str, str]]:
    return {(o.type.value, o.value) for o in extract_from_text(text)}


def test_defanged_indicators_are_read_back() -> None:
    assert refang("hxxps://evil[.]com/a and 1.2.3[.]4 and a[@]b(.)fr") == "https://evil.com/a and 1.2.3.4 and a@b.fr"
    assert found("Téléchargement depuis hxxp://malware-drop[.]ru/x.exe par 45.153.160[.]140") == {
        ("url", "http://malware-drop.ru/x.exe"),
        ("ipv4", "45.153.160.140"),
    }


@pytest.mark.parametrize(
    "text",
    [
        "serveur interne 10.0.0.5, passerelle 192.168.1.1, boucle 127.0.0.1, lien 169.254.3.3",
        "exemples 192.0.2.10 198.51.100.7 203.0.113.45 2001:db8::1 fe80::1",
        "www.example.com, intranet.local, poste.test, machine.localhost",
        "http://10.1.2.3/admin et rssi@chu.example.org",
    ],
)
def test_private_reserved_and_documentation_values_are_not_indicators(text: str) -> None:
    assert found(text) == set()


def test_file_names_are_not_domains_unless_written_defanged() -> None:
    assert found("pièce jointe facture.zip, lisez-moi README.md, script install.sh, rapport.pdf") == set()
    assert found("domaine de rebond evil[.]zip") == {("domain", "evil.zip")}


def test_every_kind_is_found_in_text_and_normalised() -> None:
    text = (
        "Mail de Support@Ameli-Securite.XYZ ; https://Login.Evil-Portal.COM:8443/path?x=1 ; "
        "CVE-2018-13379 et cve-2024-3400 ; sha256 3F5A2B1C9D8E7F60112233445566778899AABBCCDDEEFF00112233445566AA01 ; "
        "md5 44d88612fea8a8f36de82e1278abb02f ; IPv6 2a01:4f8:c17:abcd::1 ; domaine secure-update.net."
    )
    assert found(text) == {
        ("email", "support@ameli-securite.xyz"),
        ("url", "https://login.evil-portal.com:8443/path?x=1"),
        ("cve", "CVE-2018-13379"),
        ("cve", "CVE-2024-3400"),
        ("sha256", "3f5a2b1c9d8e7f60112233445566778899aabbccddeeff00112233445566aa01"),
        ("md5", "44d88612fea8a8f36de82e1278abb02f"),
        ("ipv6", "2a01:4f8:c17:abcd::1"),
        ("domain", "secure-update.net"),
    }


def test_a_url_or_address_is_not_counted_again_as_its_domain() -> None:
    assert found("voir https://evil-portal.com/x") == {("url", "https://evil-portal.com/x")}


@pytest.mark.parametrize(
    ("type_", "value", "expected"),
    [
        (T.ipv4, "045.153.160.140", None),
        (T.ipv4, "::ffff:45.153.160.140", ("ipv4", "45.153.160.140")),
        (T.ipv6, "2A01:04F8:0C17:ABCD:0000:0000:0000:0001", ("ipv6", "2a01:4f8:c17:abcd::1")),
        (T.domain, "EVIL.com.", ("domain", "evil.com")),
        (T.domain, "not a domain", None),
        (T.domain, "évil.fr", ("domain", "évil.fr".encode("idna").decode())),
        (T.md5, "xyz", None),
        (T.sha1, "A" * 40, ("sha1", "a" * 40)),
        (T.cve, "cve-2023-4966", ("cve", "CVE-2023-4966")),
        (T.cve, "CVE-23-1", None),
        (T.url, "hxxp://evil[.]com", ("url", "http://evil.com/")),
        (T.email, "x@10.0.0.1", None),
    ],
)
def test_declared_values_are_normalised_or_refused(
    type_: IndicatorType, value: str, expected: tuple[str, str] | None
) -> None:
    observable = normalize(type_, value)
    assert (None if observable is None else (observable.type.value, observable.value)) == expected


def test_declared_indicators_come_first_and_each_value_once() -> None:
    observed = observed_indicators(
        [Indicator(type=T.domain, value="Evil.com"), Indicator(type=T.ipv4, value="10.0.0.1")],
        ["connexion vers evil[.]com puis 185.234.218.52", "et encore 185.234.218.52"],
    )
    assert [(o.observable.value, o.origin) for o in observed] == [
        ("evil.com", Origin.declared),
        ("185.234.218.52", Origin.text),
    ]
