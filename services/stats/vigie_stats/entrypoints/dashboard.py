"""The observatory's dashboard, in French: one page, drawn on the server as HTML and SVG, with
no script and nothing fetched from elsewhere, so it loads at once and works off the internet.

Headline figures, incidents per month, by category, by structure type, a map of the regions
(a tile map: one square per region, placed as the regions lie, the overseas ones beside) shaded by
count, what the incidents hit (data, care), who declared (legal status, cybersecurity regime, how
often each structure declared) and how far the repercussions reached.

Whoever is not signed in sees a published year's figures (small counts read "<5", and others
"masqué" where needed); ARS and CERT Santé staff sign in (``/connexion``) to see theirs exact:
an ARS its own region, CERT Santé all of France.
"""

import html
from contextlib import suppress
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from vigie_contracts.labels import (
    CATEGORIES,
    LEGAL_STATUSES,
    MONTHS,
    REGIMES,
    STRUCTURE_TYPES,
    TERRITORIAL_EXTENTS,
)
from vigie_contracts.territory import REGIONS
from vigie_kit.db import unit_of_work
from vigie_kit.http import SessionsDep

from ..adapters.figures import count_declarations, count_structures, headline, published_years
from ..domain.access import Viewer
from ..domain.dimensions import NOT_STATED, UNIVERSE, Dimension
from ..domain.disclosure import MASKED, Shown
from ..domain.publication import PER_STRUCTURE, NotPublishedThatWay, Publication, cell, month_period, total, year_period
from ..handlers import published, today_in_france
from .access import ViewerDep
from .views import published_structures

router = APIRouter(tags=["dashboard"])

# (column, row) of each region on the tile map, as the regions lie on the map of France.
TILES: dict[str, tuple[int, int]] = {
    "32": (2, 0),
    "53": (0, 1), "28": (1, 1), "11": (2, 1), "44": (3, 1),
    "52": (1, 2), "24": (2, 2), "27": (3, 2),
    "75": (1, 3), "84": (2, 3),
    "76": (2, 4), "93": (3, 4),
    "94": (4, 5),
}  # fmt: skip
OVERSEAS = ["01", "02", "03", "04", "06", "975"]  # Saint-Pierre-et-Miquelon: its ATS
TILE = 104
LEGEND = 6 * TILE + 10  # right of the overseas row
PALETTE = ["#eef4fb", "#cfe0f3", "#a4c4e8", "#6d9fd6", "#3f79bd", "#1f4f8f"]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _percent(part: Shown, whole: Shown) -> str:
    if not (isinstance(part, int) and isinstance(whole, int)) or not whole:
        return "—"
    return f"{round(100 * part / whole)} %"


def _size(shown: Shown) -> int:
    """How much of a bar a figure draws: a published count, or nothing for a hidden one."""
    return shown if isinstance(shown, int) else 0


def _shade(count: int, highest: int) -> str:
    if count == 0 or highest == 0:
        return PALETTE[0]
    return PALETTE[min(len(PALETTE) - 1, 1 + (len(PALETTE) - 2) * count // highest)]


def _ink(fill: str) -> str:
    return "#ffffff" if fill in PALETTE[4:] else "#13233a"


def _bars(title: str, slug: str, items: list[tuple[str, Shown]], *, ranked: bool = True) -> str:
    """Horizontal bars, each labelled with its count (or its mark): longest first when ``ranked``,
    else in the order given (a distribution reads in the order of its values)."""
    if ranked:
        items = sorted(items, key=lambda item: (-_size(item[1]), item[0]))
    highest = max((_size(n) for _, n in items), default=0) or 1
    row, label_width, bar_width = 26, 250, 300
    rows = []
    for index, (label, count) in enumerate(items):
        y = index * row
        width = round(bar_width * _size(count) / highest)
        rows.append(
            f'<g data-label="{_e(label)}" data-count="{count}">'
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end" class="label">{_e(label)}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{max(width, 1)}" height="{row - 8}" rx="3" class="bar"/>'
            f'<text x="{label_width + width + 6}" y="{y + 17}" class="value">{count}</text></g>'
        )
    height = max(len(items), 1) * row
    return (
        f'<figure class="panel" data-testid="{slug}"><figcaption>{_e(title)}</figcaption>'
        f'<svg role="img" aria-label="{_e(title)}" viewBox="0 0 {label_width + bar_width + 50} {height}" '
        f'width="100%">{"".join(rows)}</svg></figure>'
    )


def _months(year: int, counts: dict[str, Shown]) -> str:
    highest = max((_size(n) for n in counts.values()), default=0) or 1
    column, height, top = 100, 170, 22
    bars = []
    for index, name in enumerate(MONTHS):
        key = month_period(year, index + 1)
        count = counts.get(key, 0)
        bar = round(height * _size(count) / highest)
        x = index * column
        bars.append(
            f'<g data-month="{key}" data-count="{count}">'
            f'<rect x="{x + 8}" y="{top + height - bar}" width="{column - 16}" height="{max(bar, 1)}" rx="3" class="bar"/>'
            f'<text x="{x + column / 2}" y="{top + height - bar - 5}" text-anchor="middle" class="value">{count}</text>'
            f'<text x="{x + column / 2}" y="{top + height + 16}" text-anchor="middle" class="label">{name}</text></g>'
        )
    return (
        '<figure class="panel wide" data-testid="months"><figcaption>Incidents par mois de détection</figcaption>'
        f'<svg role="img" aria-label="Incidents par mois" viewBox="0 0 {12 * column} {top + height + 24}" width="100%" style="max-height:260px">'
        f"{''.join(bars)}</svg></figure>"
    )


def _tile(code: str, x: int, y: int, count: Shown | None, highest: int) -> str:
    """A region's square; ``None`` for a region outside the viewer's, drawn blank."""
    region = REGIONS[code]
    fill = "#ffffff" if count is None else _shade(_size(count), highest)
    words = _wrap(region.name, 14)
    label = "".join(
        f'<tspan x="{x + TILE / 2 - 3}" dy="{0 if i == 0 else 13}">{_e(w)}</tspan>' for i, w in enumerate(words)
    )
    return (
        f'<g data-region="{code}" data-count="{"" if count is None else count}">'
        f"<title>{_e(region.name)} : {_e(_declarations(count))}</title>"
        f'<rect x="{x}" y="{y}" width="{TILE - 6}" height="{TILE - 6}" rx="8" fill="{fill}" stroke="#9db3cc"/>'
        f'<text x="{x + TILE / 2}" y="{y + 20}" text-anchor="middle" class="tile-name" fill="{_ink(fill)}">{label}</text>'
        f'<text x="{x + TILE / 2 - 3}" y="{y + TILE - 18}" text-anchor="middle" class="tile-count" '
        f'fill="{_ink(fill)}">{"" if count is None else _e(count)}</text></g>'
    )


def _declarations(count: Shown | None) -> str:
    if count is None:
        return "hors de votre région"
    if isinstance(count, str):
        return f"{count} (effectif non publié)" if count == MASKED else f"{count} déclarations"
    return f"{count} déclaration{'s' if count > 1 else ''}"


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters, broken at spaces or after hyphens."""
    pieces = [piece for word in text.split(" ") for piece in _after_hyphens(word)]
    lines: list[str] = []
    for piece in pieces:
        glue = "" if lines and lines[-1].endswith("-") else " "
        if lines and len(lines[-1]) + len(glue) + len(piece) <= width:
            lines[-1] += glue + piece
        else:
            lines.append(piece)
    return lines[:3]


def _after_hyphens(word: str) -> list[str]:
    parts = word.split("-")
    return [part + "-" for part in parts[:-1]] + [parts[-1]]


def _map(counts: dict[str, Shown]) -> str:
    highest = max((_size(n) for n in counts.values()), default=0)
    tiles = [_tile(code, col * TILE, row * TILE, counts.get(code), highest) for code, (col, row) in TILES.items()]
    top = 6 * TILE + 30
    tiles.append(f'<text x="0" y="{top - 10}" class="label">Outre-mer</text>')
    tiles += [_tile(code, index * TILE, top, counts.get(code), highest) for index, code in enumerate(OVERSEAS)]
    legend = "".join(
        f'<rect x="{LEGEND + i * 22}" y="{top + 10}" width="20" height="14" fill="{color}" stroke="#9db3cc"/>'
        for i, color in enumerate(PALETTE)
    )
    legend += (
        f'<text x="{LEGEND}" y="{top + 40}" class="label">0</text>'
        f'<text x="{LEGEND + 6 * 22}" y="{top + 40}" text-anchor="end" class="label">{highest}</text>'
    )
    return (
        '<figure class="panel map" data-testid="map"><figcaption>Déclarations par région</figcaption>'
        f'<svg role="img" aria-label="Carte des régions" viewBox="-4 -4 {LEGEND + 6 * 22 + 10} {top + TILE + 10}" width="100%">'
        f"{''.join(tiles)}{legend}</svg></figure>"
    )


STYLE = """
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:#13233a;background:#f5f7fa}
header{background:#13233a;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px;font-weight:600}header p{margin:4px 0 0;color:#c6d3e3}
main{max-width:1280px;margin:0 auto;padding:20px 32px 40px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:14px;margin-bottom:20px}
.card{background:#fff;border-radius:10px;padding:14px 16px;box-shadow:0 1px 2px rgba(19,35,58,.08)}
.card .figure{font-size:30px;font-weight:700;color:#1f4f8f}.card .caption{color:#4a5b70;font-size:13px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
.panel{background:#fff;border-radius:10px;margin:0;padding:14px 18px 10px;box-shadow:0 1px 2px rgba(19,35,58,.08)}
.panel.wide{grid-column:1/-1}figcaption{font-weight:600;margin-bottom:8px}
.panel .note{color:#4a5a70;font-size:.9em;margin:6px 0 0}
.bar{fill:#3f79bd}.label{font-size:12px;fill:#4a5b70}.value{font-size:12px;fill:#13233a;font-weight:600}
.tile-name{font-size:11px;font-weight:600}.tile-count{font-size:22px;font-weight:700}
nav a{color:#c6d3e3;margin-left:14px}footer{color:#4a5b70;font-size:12px;margin-top:18px}
.who{float:right;color:#c6d3e3;font-size:13px}.who form{display:inline}.who button{background:none;border:0;
color:#fff;text-decoration:underline;cursor:pointer;font:inherit;padding:0}.who a{color:#fff}
.notice{background:#fff;border-radius:10px;padding:16px 18px;box-shadow:0 1px 2px rgba(19,35,58,.08)}
form.signin label{display:block;font-weight:600;margin:12px 0 6px}form.signin input{width:100%;max-width:560px;
padding:8px;font:inherit;border:1px solid #9db3cc;border-radius:6px}form.signin button{margin-top:14px;padding:8px 18px;
font:inherit;background:#1f4f8f;color:#fff;border:0;border-radius:6px;cursor:pointer}.error{color:#a4161a;font-weight:600}
"""


def layout(title: str, heading: str, subtitle: str, main: str, who: str = "") -> str:
    """A page of the observatory: its header, and what it shows."""
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{_e(title)}</title><style>{STYLE}</style></head>
<body><header>{who}<h1>{_e(heading)}</h1><p>{subtitle}</p></header>
<main>{main}</main></body></html>"""


HEADING = "Observatoire des incidents de sécurité des systèmes d'information de santé"


def _who(viewer: Viewer) -> str:
    if not viewer.signed_in:
        return '<div class="who">Chiffres publiés · <a href="/connexion">Se connecter (ARS, CERT Santé)</a></div>'
    return (
        f'<div class="who" data-testid="signed-in">Connecté : {_e(viewer.label)} · '
        '<form method="post" action="/deconnexion"><button type="submit">Se déconnecter</button></form></div>'
    )


# The dimensions drawn as bars of their values, with the French of each value.
LABELLED: dict[Dimension, tuple[str, str, dict[str, str]]] = {
    Dimension.category: ("Par catégorie d'incident", "categories", CATEGORIES),
    Dimension.structure_type: ("Par type de structure", "structure-types", STRUCTURE_TYPES),
    Dimension.legal_status: ("Par statut juridique", "legal-statuses", {**LEGAL_STATUSES, NOT_STATED: "non renseigné"}),
    Dimension.regime: ("Par régime de cybersécurité", "regimes", {**REGIMES, NOT_STATED: "non renseigné"}),
    Dimension.territorial_extent: (
        "Par retentissement, selon la structure",
        "territorial-extents",
        {**TERRITORIAL_EXTENTS, NOT_STATED: "non renseigné"},
    ),
}
# What an incident hit: each a yes-or-no dimension, counted on its "yes".
HITS: dict[Dimension, str] = {
    Dimension.data_unavailable: "disponibilité des données",
    Dimension.data_integrity: "intégrité des données",
    Dimension.data_disclosure: "confidentialité des données",
    Dimension.care_interrupted: "soins interrompus",
}
TIMES = {"1": "1 déclaration", "2": "2 déclarations", "3": "3 déclarations", "4": "4 déclarations", "5+": "5 ou plus"}


def _structures(found: dict[str, Shown]) -> str:
    """How often each structure declared, in full, so that "more than 2" reads either way."""
    bars = _bars(
        "Structures selon leur nombre de déclarations",
        "declarations-per-structure",
        [(TIMES[label], found[label]) for label in PER_STRUCTURE],
        ranked=False,
    )
    note = (
        f'<p class="note" data-testid="structures">{_e(found["structures"])} structures ont déclaré ;'
        f" {_e(found['more_than_2'])} en ont déclaré 3 ou plus (« plus de 2 ») et"
        f" {_e(found['more_than_4'])} en ont déclaré 5 ou plus (« plus de 4 »).</p>"
    )
    return bars.replace("</figure>", f"{note}</figure>")


def render(year: int, facts: dict[str, Any], viewer: Viewer, years: list[int]) -> str:
    h = facts["headline"]
    total_count = h["declarations"]
    cards = [
        ("declarations", total_count, "déclarations"),
        ("incidents", h["incidents"], "incidents distincts (un incident chez un prestataire compte une fois)"),
        ("malicious", _percent(h["malicious"], total_count), f"d'origine malveillante ({h['malicious']})"),
        ("degraded", h["degraded_mode"], f"en mode dégradé ({_percent(h['degraded_mode'], total_count)})"),
        ("endangered", h["patients_endangered"], "avec des patients mis en danger (potentiel ou avéré)"),
        (
            "support",
            h["support_requested"],
            f"avec un accompagnement demandé au CERT Santé ({_percent(h['support_requested'], total_count)})",
        ),
    ]
    card_html = "".join(
        f'<div class="card" data-testid="{slug}"><div class="figure">{_e(figure)}</div>'
        f'<div class="caption">{_e(caption)}</div></div>'
        for slug, figure, caption in cards
    )
    regions = [(REGIONS[k].name, n) for k, n in facts["region"].items()]
    nav = "".join(f'<a href="?year={y}">{y}</a>' for y in years)
    stamp = datetime.now(UTC).astimezone().strftime("%d/%m/%Y %H:%M")
    if viewer.signed_in:
        scope = f"chiffres exacts, {_e(viewer.label)}" if viewer.region else "chiffres exacts, France entière"
        exports = (
            f'<a href="/v1/stats?group_by=region,category&amp;from={year}-01-01&amp;to={year}-12-31&amp;format=csv">CSV'
            " (exact)</a>"
        )
        note = f"Données au {stamp}, {scope}. Exports : {exports}."
    else:
        scope = "chiffres publiés (effectifs inférieurs à 5 et ceux qui permettraient de les retrouver masqués)"
        exports = (
            f'<a href="/v1/stats?group_by=region,category&amp;from={year}-01-01&amp;to={year}-12-31&amp;public=true">'
            'JSON publiable</a>, <a href="/v1/stats?group_by=region,category&amp;from='
            f'{year}-01-01&amp;to={year}-12-31&amp;public=true&amp;format=csv">CSV publiable</a>'
        )
        note = f"Chiffres de {year} tels que publiés par le CERT Santé, {scope}. Exports : {exports}."

    def labelled(dimension: Dimension) -> str:
        title, slug, names = LABELLED[dimension]
        counts = facts[dimension.value]
        # Categories nobody declared are left out; every other value is shown, zero or not. An
        # extent reads from the structure outwards; the others, most declared first.
        items = [(names[k], n) for k, n in counts.items() if n or dimension is not Dimension.category]
        return _bars(title, slug, items, ranked=dimension is not Dimension.territorial_extent)

    panels = [
        _months(year, facts["month"]),
        labelled(Dimension.category),
        labelled(Dimension.structure_type),
        _map(facts["region"]),
        _bars("Par région", "regions", regions),
    ]
    # Counted since the national form's fields: absent from a year published before them.
    if "hits" in facts:
        panels.append(_bars("Ce que l'incident a atteint", "hits", [(HITS[d], n) for d, n in facts["hits"].items()]))
    panels += [
        labelled(d)
        for d in (Dimension.legal_status, Dimension.regime, Dimension.territorial_extent)
        if d.value in facts
    ]
    if "structures" in facts:
        panels.append(_structures(facts["structures"]))
    main = (
        f'<section class="cards" aria-label="Chiffres clés">{card_html}</section>'
        f'<section class="grid">{"".join(panels)}</section><footer>{note}</footer>'
    )
    subtitle = f'Incidents détectés en {year} · {scope} <nav style="display:inline">{nav}</nav>'
    return layout(f"Observatoire des incidents — {year}", HEADING, subtitle, main, _who(viewer))


def no_publication(viewer: Viewer) -> str:
    main = (
        '<div class="notice" data-testid="nothing-published"><p>Aucune statistique n\'est encore publiée : les'
        " chiffres d'une année sont publiés par le CERT Santé une fois l'année écoulée.</p>"
        '<p>Agents des ARS et du CERT Santé : <a href="/connexion">connectez-vous</a> pour voir les chiffres'
        " exacts de votre périmètre.</p></div>"
    )
    return layout("Observatoire des incidents", HEADING, "Chiffres publiés", main, _who(viewer))


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/tableau-de-bord")


_PRIVATE = {"Cache-Control": "private, no-store", "Vary": "Cookie"}


@router.get("/tableau-de-bord", response_class=HTMLResponse, summary="The observatory's dashboard (French)")
async def dashboard(
    sessions: SessionsDep,
    viewer: ViewerDep,
    year: Annotated[
        int | None, Query(ge=2001, le=2099, description="default: this year, or the latest published")
    ] = None,
) -> HTMLResponse:
    async with unit_of_work(sessions) as session:
        years = await published_years(session)
        if viewer.signed_in:
            year = year or today_in_france().year
            facts = await _exact_facts(session, year, viewer.region)
            shown_years = sorted({*range(year - 2, year + 1), *years})
        else:
            publication = await published(session, year or years[0]) if year or years else None
            if publication is None:
                return HTMLResponse(no_publication(viewer), headers=_PRIVATE)
            year = publication.year
            facts = _published_facts(publication)
            shown_years = sorted(years)
    return HTMLResponse(render(year, facts, viewer, shown_years), headers=_PRIVATE)


async def _exact_facts(session: Any, year: int, region: str | None) -> dict[str, Any]:
    start, end = date(year, 1, 1), date(year, 12, 31)
    found = await headline(session, start, end, region)
    facts: dict[str, Any] = {
        "headline": {
            "declarations": found.declarations,
            "incidents": found.incidents,
            "malicious": found.malicious,
            "degraded_mode": found.degraded_mode,
            "patients_endangered": found.patients_endangered,
            "support_requested": found.support_requested,
        }
    }
    for dimension in (Dimension.month, Dimension.region, *LABELLED, *HITS):
        counts = await count_declarations(session, [dimension], start, end, region)
        found_counts = {key[0]: n for key, n in counts.groups}
        if dimension is Dimension.month:
            universe: list[Any] = [month_period(year, m) for m in range(1, 13)]
        elif dimension is Dimension.region and region is not None:
            universe = [region]  # the other regions are not this viewer's: drawn blank
        else:
            universe = UNIVERSE[dimension]
        facts[dimension.value] = {k: found_counts.get(k, 0) for k in universe}
    facts["hits"] = {dimension: facts.pop(dimension.value)[True] for dimension in HITS}
    declared = await count_structures(session, start, end, region)
    facts["structures"] = {
        **declared.per_structure,
        "structures": declared.structures,
        "more_than_2": declared.more_than_2,
        "more_than_4": declared.more_than_4,
    }
    return facts


def _published_facts(publication: Publication) -> dict[str, Any]:
    y = year_period(publication.year)
    shown = publication.shown
    potential = shown(cell(y, Dimension.patient_safety, "potential"))
    proven = shown(cell(y, Dimension.patient_safety, "proven"))
    facts: dict[str, Any] = {
        "headline": {
            "declarations": shown(total(y)),
            "incidents": shown((y, ("incidents",), ())),
            "malicious": shown(cell(y, Dimension.origin, "malicious")),
            "degraded_mode": shown(cell(y, Dimension.degraded_mode, True)),
            # A sum of two published counts; one hidden, and the sum would tell it.
            "patients_endangered": potential + proven
            if isinstance(potential, int) and isinstance(proven, int)
            else MASKED,
            "support_requested": shown(cell(y, Dimension.support_requested, True)),
        },
        "month": {
            month_period(publication.year, m): shown(total(month_period(publication.year, m))) for m in range(1, 13)
        },
    }
    for dimension in (Dimension.region, *LABELLED):
        try:
            facts[dimension.value] = {k: shown(cell(y, dimension, k)) for k in UNIVERSE[dimension]}
        except NotPublishedThatWay:
            continue  # a dimension counted since this year was published
    with suppress(NotPublishedThatWay):
        facts["hits"] = {dimension: shown(cell(y, dimension, True)) for dimension in HITS}
    per = published_structures(publication)
    facts["structures"] = {
        **per["declarations_per_structure"],
        **{k: per[k] for k in ("structures", "more_than_2", "more_than_4")},
    }
    return facts
