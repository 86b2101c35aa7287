"""How a declaration reads in the taxonomies CSIRTs exchange.

The mapping is the table ``RULES`` below, reviewed here in one place: each rule says which facts
it looks for and which tags those facts imply. RSIT and NIS2 tags are MISP machine tags
(namespaces ``rsit`` and ``nis2`` of the MISP taxonomies); ATT&CK techniques are only given where
the facts imply them (a ransomware encrypts data: T1486), never guessed.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from vigie_contracts.declaration import Category, DeclarationContent, IndicatorType, Origin, Scope
from vigie_contracts.events import AttackTechnique, Classification, Severity


def rsit(predicate: str, value: str) -> str:
    return f'rsit:{predicate}="{value}"'


def nis2(predicate: str, value: str) -> str:
    return f'nis2:{predicate}="{value}"'


ATTACK: dict[str, str] = {
    "T1041": "Exfiltration Over C2 Channel",
    "T1078": "Valid Accounts",
    "T1114": "Email Collection",
    "T1133": "External Remote Services",
    "T1190": "Exploit Public-Facing Application",
    "T1199": "Trusted Relationship",
    "T1204": "User Execution",
    "T1486": "Data Encrypted for Impact",
    "T1498": "Network Denial of Service",
    "T1565": "Data Manipulation",
    "T1566": "Phishing",
}


@dataclass(frozen=True)
class Facts:
    category: Category
    origin: Origin
    scope: frozenset[Scope]
    impacts: frozenset[str]  # the names of the impacts that are true, "patient_safety" included
    indicator_types: frozenset[IndicatorType]


@dataclass(frozen=True)
class Rule:
    """If every condition given holds, the tags apply. ``scope`` and ``impacts`` hold when any
    of theirs does."""

    categories: frozenset[Category] = frozenset()
    origins: frozenset[Origin] = frozenset()
    scope: frozenset[Scope] = frozenset()
    impacts: frozenset[str] = frozenset()
    indicators: frozenset[IndicatorType] = frozenset()
    rsit: tuple[str, ...] = ()
    attack: tuple[str, ...] = ()
    nis2: tuple[str, ...] = ()

    def holds(self, facts: Facts) -> bool:
        return (
            (not self.categories or facts.category in self.categories)
            and (not self.origins or facts.origin in self.origins)
            and (not self.scope or bool(self.scope & facts.scope))
            and (not self.impacts or bool(self.impacts & facts.impacts))
            and (not self.indicators or bool(self.indicators & facts.indicator_types))
        )


def when(
    *categories: Category,
    origins: Iterable[Origin] = (),
    scope: Iterable[Scope] = (),
    impacts: Iterable[str] = (),
    indicators: Iterable[IndicatorType] = (),
    rsit: tuple[str, ...] = (),
    attack: tuple[str, ...] = (),
    nis2: tuple[str, ...] = (),
) -> Rule:
    return Rule(
        frozenset(categories),
        frozenset(origins),
        frozenset(scope),
        frozenset(impacts),
        frozenset(indicators),
        rsit,
        attack,
        nis2,
    )


MALICIOUS = (Origin.malicious,)

RULES: tuple[Rule, ...] = (
    # What happened, by category
    when(
        Category.ransomware,
        rsit=(
            rsit("malicious-code", "infected-system"),
            rsit("information-content-security", "unauthorised-information-modification"),
        ),
        attack=("T1486",),
    ),
    when(Category.phishing, rsit=(rsit("fraud", "phishing"),), attack=("T1566",)),
    when(Category.account_compromise, rsit=(rsit("intrusions", "unprivileged-account-compromise"),), attack=("T1078",)),
    when(
        Category.account_compromise,
        Category.intrusion,
        scope=(Scope.directory,),
        rsit=(rsit("intrusions", "privileged-account-compromise"),),
    ),
    when(Category.account_compromise, scope=(Scope.messaging,), attack=("T1114",)),
    when(Category.malware, rsit=(rsit("malicious-code", "infected-system"),)),
    when(Category.malware, scope=(Scope.workstations,), attack=("T1204",)),
    when(Category.denial_of_service, rsit=(rsit("availability", "ddos"),), attack=("T1498",)),
    when(Category.intrusion, rsit=(rsit("intrusions", "application-compromise"),)),
    when(
        Category.data_theft,
        rsit=(rsit("information-content-security", "unauthorised-information-access"),),
        attack=("T1041",),
    ),
    when(Category.vulnerability_exploitation, rsit=(rsit("intrusions", "application-compromise"),), attack=("T1190",)),
    when(
        Category.vulnerability_exploitation,
        indicators=(IndicatorType.cve,),
        rsit=(rsit("intrusion-attempts", "ids-alert"),),
    ),
    when(Category.technical_failure, rsit=(rsit("availability", "outage"),)),
    when(Category.human_error, rsit=(rsit("availability", "misconfiguration"),)),
    when(Category.provider_incident, rsit=(rsit("availability", "outage"),)),
    when(Category.provider_incident, origins=MALICIOUS, attack=("T1199",)),
    when(Category.equipment_theft, rsit=(rsit("information-content-security", "data-loss"),)),
    # How it got in
    when(
        Category.intrusion,
        Category.account_compromise,
        Category.vulnerability_exploitation,
        Category.ransomware,
        origins=MALICIOUS,
        scope=(Scope.vpn,),
        attack=("T1133",),
    ),
    when(origins=MALICIOUS, indicators=(IndicatorType.cve,), scope=(Scope.vpn, Scope.servers), attack=("T1190",)),
    # What it did to the data
    when(impacts=("data_disclosure",), rsit=(rsit("information-content-security", "unauthorised-information-access"),)),
    when(
        origins=MALICIOUS,
        impacts=("data_integrity",),
        rsit=(rsit("information-content-security", "unauthorised-information-modification"),),
        attack=("T1565",),
    ),
    # NIS2: the sector, always; the root cause, when it is known
    when(nis2=(nis2("impact-sectors-impacted", "health"), nis2("impact-subsectors-impacted", "health-subsector"))),
    when(origins=MALICIOUS, nis2=(nis2("nature-root-cause", "malicious-actions"),)),
    when(Category.human_error, origins=(Origin.accidental,), nis2=(nis2("nature-root-cause", "human-errors"),)),
    when(
        Category.technical_failure,
        Category.equipment_theft,
        Category.other,
        origins=(Origin.accidental,),
        nis2=(nis2("nature-root-cause", "system-failures"),),
    ),
    when(
        Category.provider_incident,
        origins=(Origin.accidental, Origin.unknown),
        nis2=(nis2("nature-root-cause", "third-party-failures"),),
    ),
)


def facts_of(content: DeclarationContent, indicator_types: Iterable[IndicatorType]) -> Facts:
    impacts = content.impacts
    names = ("degraded_mode", "care_interrupted", "data_unavailable", "data_integrity", "data_disclosure")
    flags = {name for name in names if getattr(impacts, name)}
    if impacts.patient_safety != "none":
        flags.add("patient_safety")
    return Facts(
        category=content.category,
        origin=content.origin,
        scope=frozenset(content.scope),
        impacts=frozenset(flags),
        indicator_types=frozenset(indicator_types),
    )


def impact_severity(severity: Severity) -> str:
    """NIS2's colour of the impact, from the health-code decision."""
    if severity.grave and severity.significatif:
        return "red"
    if severity.grave:
        return "yellow"
    if severity.reasons:
        return "green"
    return "white"


@dataclass
class _Tags:
    rsit: list[str] = field(default_factory=list)
    attack: list[str] = field(default_factory=list)
    nis2: list[str] = field(default_factory=list)


def classify(facts: Facts, severity: Severity | None = None) -> Classification:
    tags = _Tags()
    for rule in RULES:
        if rule.holds(facts):
            for target, found in (
                (tags.rsit, rule.rsit),
                (tags.attack, rule.attack),
                (tags.nis2, rule.nis2),
            ):
                target.extend(tag for tag in found if tag not in target)
    if not tags.rsit:
        tags.rsit.append(rsit("other", "other"))
    if severity is not None:
        tags.nis2.append(nis2("impact-severity", impact_severity(severity)))
    return Classification(
        rsit=tags.rsit,
        attack=[AttackTechnique(id=technique, name=ATTACK[technique]) for technique in tags.attack],
        nis2=tags.nis2,
    )
