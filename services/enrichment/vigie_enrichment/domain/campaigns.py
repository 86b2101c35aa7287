"""What links declarations into a campaign: a shared indicator, a shared provider, a shared
exploited CVE, within a time window. Pure rules; the enrichment handler keeps the links."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from vigie_contracts.declaration import IndicatorType

from .indicators import Observed

# Declarations detected within this time of each other and sharing a key belong together.
WINDOW = timedelta(days=30)

# Names too common in any incident to link two of them: the services everyone uses and the
# public health administration's own sites.
EVERYDAY_DOMAINS = frozenset(
    {
        "microsoft.com", "microsoftonline.com", "office.com", "office365.com", "outlook.com", "live.com",
        "windows.net", "sharepoint.com", "onmicrosoft.com", "azure.com",
        "google.com", "gmail.com", "googleapis.com", "apple.com", "icloud.com", "amazon.com",
        "amazonaws.com", "cloudflare.com", "github.com", "linkedin.com", "facebook.com",
        "gouv.fr", "sante.fr", "ameli.fr", "esante.gouv.fr", "orange.fr", "free.fr", "sfr.fr",
        "laposte.net", "wanadoo.fr", "yahoo.com", "yahoo.fr", "hotmail.com", "hotmail.fr",
    }
)  # fmt: skip

_LEGAL_FORMS = re.compile(r"\b(sas|sasu|sa|sarl|eurl|gie|inc|ltd|gmbh|groupe|group)\b")


class LinkKind(StrEnum):
    indicator = "indicator"
    provider = "provider"
    cve = "cve"


@dataclass(frozen=True, order=True)
class LinkKey:
    kind: LinkKind
    key: str
    label: str


def provider_key(name: str) -> str:
    """``"Hébergeur Santé SAS"`` and ``"HEBERGEUR SANTE"`` are the same provider."""
    spelled = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = _LEGAL_FORMS.sub(" ", re.sub(r"[^a-z0-9]+", " ", spelled))
    return " ".join(words.split())


def _everyday(host: str) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in EVERYDAY_DOMAINS)


def _is_name(host: str) -> bool:
    return not host.replace(".", "").isdigit() and ":" not in host and not host.startswith("[")


def link_keys(observed: list[Observed], provider: str | None) -> list[LinkKey]:
    keys: set[LinkKey] = set()
    for item in observed:
        observable = item.observable
        if observable.type is IndicatorType.cve:
            keys.add(LinkKey(LinkKind.cve, observable.value, f"Exploitation de {observable.value}"))
            continue
        host = observable.value
        if observable.type is IndicatorType.email:
            host = observable.value.rpartition("@")[2]
        elif observable.type is IndicatorType.url:
            host = observable.value.split("/")[2].split(":")[0]
        if observable.type in (IndicatorType.domain, IndicatorType.email, IndicatorType.url):
            if _everyday(host):
                continue
            # Two lures on one domain are one campaign, whatever the page or the sender.
            if observable.type is not IndicatorType.domain and _is_name(host):
                keys.add(LinkKey(LinkKind.indicator, f"domain:{host}", f"Domaine partagé {host}"))
        keys.add(LinkKey(LinkKind.indicator, observable.key, f"Indicateur partagé {observable.value}"))
    if provider:
        key = provider_key(provider)
        if key:
            keys.add(LinkKey(LinkKind.provider, key, f"Incident chez le prestataire {provider.strip()}"))
    # One link a key: a domain named both on its own and as a URL's host is one key, labelled the
    # first way in order ("Domaine partagé …").
    unique: dict[tuple[LinkKind, str], LinkKey] = {}
    for link in sorted(keys):
        unique.setdefault((link.kind, link.key), link)
    return list(unique.values())
