"""Indicators of compromise: taken from the declared list and from the free text, refanged
(``hxxp``, ``[.]``), normalised and deduplicated. Private, reserved and documentation addresses
and names are not indicators: they point at nobody's attacker.
"""

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from urllib.parse import urlsplit, urlunsplit

from publicsuffixlist import PublicSuffixList

from vigie_contracts.declaration import Indicator, IndicatorType


class Origin(StrEnum):
    declared = "declared"  # in the declaration's list of indicators
    text = "text"  # found in its free text


@dataclass(frozen=True, order=True)
class Observable:
    type: IndicatorType
    value: str

    @property
    def key(self) -> str:
        return f"{self.type}:{self.value}"


@dataclass(frozen=True)
class Observed:
    observable: Observable
    origin: Origin


_REFANG = [
    (re.compile(r"\bhxxp(s?)\b", re.IGNORECASE), r"http\1"),
    (re.compile(r"\bfxp\b", re.IGNORECASE), "ftp"),
    (re.compile(r"\[\s*\.\s*\]|\(\s*\.\s*\)|\{\s*\.\s*\}|\[dot\]|\(dot\)", re.IGNORECASE), "."),
    (re.compile(r"\[\s*:\s*\]"), ":"),
    (re.compile(r"\[\s*@\s*\]|\(\s*@\s*\)|\[at\]|\(at\)", re.IGNORECASE), "@"),
    (re.compile(r"\[\s*/\s*\]"), "/"),
]

# Real top-level domains that are also file extensions: in free text, "rapport.zip" is a file.
_FILE_LIKE_TLDS = frozenset({"zip", "mov", "py", "sh", "md", "rs", "pl", "ps", "cs", "ai", "so", "sql", "bat"})
# Names reserved for documentation and tests (RFC 2606, RFC 6761), and names of everyday services
# too common to say anything about an attacker.
_NOT_INDICATORS = frozenset(
    {
        "example",
        "example.com",
        "example.org",
        "example.net",
        "test",
        "invalid",
        "localhost",
        "local",
    }
)


def refang(text: str) -> str:
    for pattern, replacement in _REFANG:
        text = pattern.sub(replacement, text)
    return text


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList(accept_unknown=False)


def _public_ip(value: str) -> str | None:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address) if address.is_global else None


def _domain(value: str) -> str | None:
    name = value.strip().rstrip(".").lower()
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if not 3 <= len(name) <= 253 or name in _NOT_INDICATORS:
        return None
    labels = name.split(".")
    if len(labels) < 2 or any(not re.fullmatch(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?", label) for label in labels):
        return None
    if labels[-1] in _NOT_INDICATORS or ".".join(labels[-2:]) in _NOT_INDICATORS:
        return None
    if _psl().privatesuffix(name) is None:
        return None
    return name


def _url(value: str) -> str | None:
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https", "ftp") or not parts.hostname:
        return None
    host = _public_ip(parts.hostname) or _domain(parts.hostname)
    if host is None:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None and parts.port not in (80, 443):
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


_HASH_LENGTHS = {IndicatorType.md5: 32, IndicatorType.sha1: 40, IndicatorType.sha256: 64}


def normalize(type_: IndicatorType, value: str) -> Observable | None:
    """The canonical form of an indicator, or None if it is not one (malformed, private, reserved)."""
    raw = refang(value.strip())
    normalized: str | None
    match type_:
        case IndicatorType.ipv4 | IndicatorType.ipv6:
            normalized = _public_ip(raw)
            if normalized is not None:
                type_ = IndicatorType.ipv6 if ":" in normalized else IndicatorType.ipv4
        case IndicatorType.domain:
            normalized = _domain(raw)
        case IndicatorType.url:
            normalized = _url(raw)
        case IndicatorType.md5 | IndicatorType.sha1 | IndicatorType.sha256:
            lowered = raw.lower()
            valid = len(lowered) == _HASH_LENGTHS[type_] and re.fullmatch(r"[0-9a-f]+", lowered)
            normalized = lowered if valid else None
        case IndicatorType.email:
            local, _, host = raw.rpartition("@")
            domain = _domain(host)
            valid = bool(local) and domain is not None and re.fullmatch(r"[A-Za-z0-9._%+-]+", local)
            normalized = f"{local.lower()}@{domain}" if valid else None
        case IndicatorType.cve:
            upper = raw.upper()
            normalized = upper if re.fullmatch(r"CVE-\d{4}-\d{4,7}", upper) else None
    return Observable(type_, normalized) if normalized is not None else None


_TEXT_PATTERNS: list[tuple[IndicatorType, re.Pattern[str]]] = [
    (IndicatorType.url, re.compile(r"\b(?:https?|ftp)://[^\s<>\"'()\[\]{}]+", re.IGNORECASE)),
    (IndicatorType.email, re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")),
    (IndicatorType.cve, re.compile(r"\bCVE-\d{4}-\d{4,7}\b", re.IGNORECASE)),
    (IndicatorType.sha256, re.compile(r"\b[0-9a-fA-F]{64}\b")),
    (IndicatorType.sha1, re.compile(r"\b[0-9a-fA-F]{40}\b")),
    (IndicatorType.md5, re.compile(r"\b[0-9a-fA-F]{32}\b")),
    (
        IndicatorType.ipv6,
        re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])"),
    ),
    (IndicatorType.ipv4, re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")),
    (
        IndicatorType.domain,
        re.compile(r"\b(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b"),
    ),
]


def extract_from_text(text: str) -> list[Observable]:
    """Indicators written in free text, defanged or not. A piece of text claimed by a URL or an
    e-mail address is not read again as a bare domain."""
    found: list[Observable] = []
    refanged = refang(text)
    claimed: list[tuple[int, int]] = []
    for type_, pattern in _TEXT_PATTERNS:
        for match in pattern.finditer(refanged):
            start, end = match.span()
            if any(start >= a and end <= b for a, b in claimed):
                continue
            candidate = match.group(0).rstrip(".,;:!?")
            if type_ is IndicatorType.domain and not _plausible_domain_in_text(candidate, text):
                continue
            observable = normalize(type_, candidate)
            if observable is not None:
                found.append(observable)
                claimed.append((start, end))
            elif type_ in (IndicatorType.url, IndicatorType.email):
                claimed.append((start, end))  # a private URL's host is not a public domain either
    return found


_DEFANGED_DOT = r"\s*(?:\[\s*\.\s*\]|\(\s*\.\s*\)|\{\s*\.\s*\}|\[dot\]|\(dot\))\s*"


def _plausible_domain_in_text(candidate: str, original: str) -> bool:
    """A name ending like a file ("rapport.zip", "lisezmoi.md") is read as a domain only if its
    writer defanged it ("evil[.]zip"), which nobody does to a file name."""
    labels = candidate.split(".")
    if labels[-1].lower() not in _FILE_LIKE_TLDS:
        return True
    written_defanged = _DEFANGED_DOT.join(re.escape(label) for label in labels)
    return re.search(written_defanged, original, re.IGNORECASE) is not None


def observed_indicators(declared: Iterable[Indicator], free_text: Iterable[str]) -> list[Observed]:
    """Every indicator of a declaration, once each, declared ones first."""
    seen: dict[Observable, Observed] = {}
    for indicator in declared:
        observable = normalize(indicator.type, indicator.value)
        if observable is not None and observable not in seen:
            seen[observable] = Observed(observable, Origin.declared)
    for text in free_text:
        for observable in extract_from_text(text):
            if observable not in seen:
                seen[observable] = Observed(observable, Origin.text)
    return list(seen.values())


def parent_domains(domain: str) -> list[str]:
    """``a.b.evil.com`` → ``["b.evil.com", "evil.com"]``: where a threat feed may list it."""
    registrable = _psl().privatesuffix(domain)
    if registrable is None:
        return []
    labels = domain.split(".")
    parents = [".".join(labels[i:]) for i in range(1, len(labels))]
    return [p for p in parents if len(p) >= len(registrable)]
