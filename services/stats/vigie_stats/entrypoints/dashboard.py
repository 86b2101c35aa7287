"""The observatory's dashboard, in French: one page, drawn on the server as HTML and SVG, with
no script and nothing fetched from elsewhere, so it loads at once and works off the internet.

Headline figures, incidents per month, by category, by structure type, and a map of the regions
(a tile map: one square per region, placed as the regions lie, the five overseas ones beside)
shaded by count.
"""

import html
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse

from vigie_contracts.labels import CATEGORIES, MONTHS, STRUCTURE_TYPES
from vigie_contracts.territory import REGIONS
from vigie_kit.db import unit_of_work
from vigie_kit.http import SessionsDep

from ..domain.dimensions import Dimension
from ..handlers import count_declarations, headline, today_in_france
from ..views import UNIVERSE

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
OVERSEAS = ["01", "02", "03", "04", "06"]
TILE = 104
PALETTE = ["#eef4fb", "#cfe0f3", "#a4c4e8", "#6d9fd6", "#3f79bd", "#1f4f8f"]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "—"


def _shade(count: int, highest: int) -> str:
    if count == 0 or highest == 0:
        return PALETTE[0]
    return PALETTE[min(len(PALETTE) - 1, 1 + (len(PALETTE) - 2) * count // highest)]


def _ink(fill: str) -> str:
    return "#ffffff" if fill in PALETTE[4:] else "#13233a"


def _bars(title: str, slug: str, items: list[tuple[str, int]]) -> str:
    """Horizontal bars, longest first, each labelled with its count."""
    items = sorted(items, key=lambda item: (-item[1], item[0]))
    highest = max((n for _, n in items), default=0) or 1
    row, label_width, bar_width = 26, 250, 300
    rows = []
    for index, (label, count) in enumerate(items):
        y = index * row
        width = round(bar_width * count / highest)
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


def _months(year: int, counts: dict[str, int]) -> str:
    highest = max(counts.values(), default=0) or 1
    column, height, top = 100, 170, 22
    bars = []
    for index, name in enumerate(MONTHS):
        key = f"{year}-{index + 1:02d}"
        count = counts.get(key, 0)
        bar = round(height * count / highest)
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


def _tile(code: str, x: int, y: int, count: int, highest: int) -> str:
    region = REGIONS[code]
    fill = _shade(count, highest)
    words = _wrap(region.name, 14)
    label = "".join(
        f'<tspan x="{x + TILE / 2 - 3}" dy="{0 if i == 0 else 13}">{_e(w)}</tspan>' for i, w in enumerate(words)
    )
    return (
        f'<g data-region="{code}" data-count="{count}">'
        f"<title>{_e(region.name)} : {count} déclaration{'s' if count > 1 else ''}</title>"
        f'<rect x="{x}" y="{y}" width="{TILE - 6}" height="{TILE - 6}" rx="8" fill="{fill}" stroke="#9db3cc"/>'
        f'<text x="{x + TILE / 2}" y="{y + 20}" text-anchor="middle" class="tile-name" fill="{_ink(fill)}">{label}</text>'
        f'<text x="{x + TILE / 2 - 3}" y="{y + TILE - 18}" text-anchor="middle" class="tile-count" '
        f'fill="{_ink(fill)}">{count}</text></g>'
    )


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


def _map(counts: dict[str, int]) -> str:
    highest = max(counts.values(), default=0)
    tiles = [_tile(code, col * TILE, row * TILE, counts.get(code, 0), highest) for code, (col, row) in TILES.items()]
    top = 6 * TILE + 30
    tiles.append(f'<text x="0" y="{top - 10}" class="label">Outre-mer</text>')
    tiles += [_tile(code, index * TILE, top, counts.get(code, 0), highest) for index, code in enumerate(OVERSEAS)]
    legend = "".join(
        f'<rect x="{6 * TILE - 40 + i * 22}" y="{top + 10}" width="20" height="14" fill="{color}" stroke="#9db3cc"/>'
        for i, color in enumerate(PALETTE)
    )
    legend += (
        f'<text x="{6 * TILE - 40}" y="{top + 40}" class="label">0</text>'
        f'<text x="{6 * TILE - 40 + 6 * 22}" y="{top + 40}" text-anchor="end" class="label">{highest}</text>'
    )
    return (
        '<figure class="panel map" data-testid="map"><figcaption>Déclarations par région</figcaption>'
        f'<svg role="img" aria-label="Carte des régions" viewBox="-4 -4 {6 * TILE + 110} {top + TILE + 10}" width="100%">'
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
.bar{fill:#3f79bd}.label{font-size:12px;fill:#4a5b70}.value{font-size:12px;fill:#13233a;font-weight:600}
.tile-name{font-size:11px;font-weight:600}.tile-count{font-size:22px;font-weight:700}
nav a{color:#c6d3e3;margin-left:14px}footer{color:#4a5b70;font-size:12px;margin-top:18px}
"""


def render(year: int, facts: dict[str, Any]) -> str:
    h = facts["headline"]
    total = h.declarations
    cards = [
        ("declarations", f"{total}", "déclarations"),
        ("incidents", f"{h.incidents}", "incidents distincts (un incident chez un prestataire compte une fois)"),
        ("malicious", _percent(h.malicious, total), f"d'origine malveillante ({h.malicious})"),
        ("degraded", f"{h.degraded_mode}", f"en mode dégradé ({_percent(h.degraded_mode, total)})"),
        ("endangered", f"{h.patients_endangered}", "avec des patients mis en danger (potentiel ou avéré)"),
        (
            "support",
            f"{h.support_requested}",
            f"avec un accompagnement demandé au CERT Santé ({_percent(h.support_requested, total)})",
        ),
    ]
    card_html = "".join(
        f'<div class="card" data-testid="{slug}"><div class="figure">{_e(figure)}</div>'
        f'<div class="caption">{_e(caption)}</div></div>'
        for slug, figure, caption in cards
    )
    categories = [(CATEGORIES[k], n) for k, n in facts["category"].items() if n]
    types = [(STRUCTURE_TYPES[k], n) for k, n in facts["structure_type"].items()]
    regions = [(REGIONS[k].name, n) for k, n in facts["region"].items()]
    years = "".join(f'<a href="?year={y}">{y}</a>' for y in range(year - 2, year + 1))
    stamp = datetime.now(UTC).astimezone().strftime("%d/%m/%Y %H:%M")
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Observatoire des incidents — {year}</title><style>{STYLE}</style></head>
<body><header><h1>Observatoire des incidents de sécurité des systèmes d'information de santé</h1>
<p>Incidents détectés en {year} · déclarations reçues par Vigie <nav style="display:inline">{years}</nav></p></header>
<main><section class="cards" aria-label="Chiffres clés">{card_html}</section>
<section class="grid">{_months(year, facts["month"])}{_bars("Par catégorie d'incident", "categories", categories)}
{_bars("Par type de structure", "structure-types", types)}{_map(facts["region"])}
{_bars("Par région", "regions", regions)}</section>
<footer>Données au {stamp}. Exports : <a href="/v1/stats?group_by=region,category&amp;from={year}-01-01&amp;to={year}-12-31&amp;format=csv">CSV</a>,
<a href="/v1/stats?group_by=region,category&amp;from={year}-01-01&amp;to={year}-12-31&amp;public=true">JSON publiable</a>
(effectifs inférieurs à 5 masqués).</footer></main></body></html>"""


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/tableau-de-bord")


@router.get("/tableau-de-bord", response_class=HTMLResponse, summary="The observatory's dashboard (French)")
async def dashboard(
    sessions: SessionsDep,
    year: Annotated[int | None, Query(ge=2001, le=2099, description="default: this year")] = None,
) -> HTMLResponse:
    year = year or today_in_france().year
    start, end = date(year, 1, 1), date(year, 12, 31)
    facts: dict[str, Any] = {}
    async with unit_of_work(sessions) as session:
        facts["headline"] = await headline(session, start, end)
        for dimension in (Dimension.month, Dimension.category, Dimension.structure_type, Dimension.region):
            counts = await count_declarations(session, [dimension], start, end)
            found = {key[0]: n for key, n in counts.groups}
            universe = UNIVERSE.get(dimension, list(found))
            facts[dimension.value] = {k: found.get(k, 0) for k in universe}
    return HTMLResponse(render(year, facts), headers={"Cache-Control": "no-cache"})
