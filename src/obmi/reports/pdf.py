"""Fact sheet ("steekkaart") as an A4 PDF: Typst typesets it, vl-convert draws the charts (the
same Vega-Lite specs as the web pages, `obmi.reports.charts`).

Everything is self-contained: the Typst compiler ships in the `typst` wheel, the charts renderer
in `vl-convert-python`, and the font (Inter, SIL OFL 1.1) in `obmi/reports/fonts/`. System fonts
are ignored, so a sheet renders the same on every machine.

Data never passes through Typst markup: the document is a fixed template that reads one JSON
value from `sys.inputs`, so an area called `#set page(...)` or `'s-Gravenwezel` is only text.
"""

from __future__ import annotations

import json
import re
import threading
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date
from sqlalchemy import Connection

from obmi.publish.labels import level_label
from obmi.publish.signs import SIGNS, shown_status
from obmi.query.areas import AreaRef, areas_of_level, feature_collection, list_levels
from obmi.query.visibility import CatalogueView
from obmi.reports import charts
from obmi.reports.factsheet import FactSheet, KeyFigure, build_factsheet, change_words, locator_within, merged_sources

FONT_DIR = Path(__file__).parent / "fonts"
LANGS = ("nl", "en")
# Tagged, archivable and accessible: Typst checks both profiles (alt texts, title, language,
# embedded fonts) and refuses to write a PDF that would break them.
PDF_STANDARDS = ["a-2a", "ua-1"]
PX = 0.85  # points per chart pixel: 9 px chart labels print at ~7.7 pt, next to 8.5 pt body text

# The 6–8 figures a council reads first; codes that a sheet lacks are skipped.
KEY_FIGURES = ("pop_total", "share_0_17", "share_65plus", "ageing_index", "share_non_belgian",
               "inc_mean_per_inhabitant", "land_total_area", "land_built_share")
# Charted against the reference areas: rates and means only (comparing counts of a municipality
# with a province's says nothing), one per theme where possible.
COMPARISON_FIGURES = ("share_65plus", "share_non_belgian", "inc_mean_per_inhabitant", "land_built_share")
MAX_KEY_FIGURES = 8
MAX_COMPARISONS = 4

WIJKEN_ATTRIBUTION = ("Wijken voor omgevingsanalyse. © gemeentebesturen, verzameld door Data & Analyse "
                      "van de Vlaamse provincies")

LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "kicker": "Steekkaart", "references": "Vergeleken met", "key_figures": "Kerncijfers",
        "comparison": "Vergelijking met de referentiegebieden", "indicator": "Indicator", "period": "Periode",
        "value": "Waarde", "change": "Verschil", "trend": "Evolutie",
        "suppressed": "onderdrukt (kleine aantallen)", "hidden": "onderdrukt (door de bron)",
        "sources": "Bronnen en toelichting", "source": "Bron", "licence": "Licentie", "map": "Kaart",
        "signs": "Tekens", "page": "pagina", "of": "van", "generated": "Aangemaakt op",
        "change_note": "Verschil: ten opzichte van de vorige periode met een gepubliceerde waarde; "
                       "bij percentages in procentpunten.",
        "suppression_note": "Waarden die op kleine aantallen steunen, worden niet gepubliceerd om de "
                            "privacy te beschermen.",
        "map_source": "gebiedsgrenzen: Statbel en Provincies in Cijfers (Modellicentie Gratis Hergebruik v1.0)",
        "map_alt": "Kaart: ligging van {name} in {context}",
        "spark_alt": "Evolutie van {name}, {first}–{last}",
        "by": "door",
        "no_data": "Voor dit gebied zijn (nog) geen cijfers gepubliceerd.",
    },
    "en": {
        "kicker": "Fact sheet", "references": "Compared with", "key_figures": "Key figures",
        "comparison": "Comparison with the reference areas", "indicator": "Indicator", "period": "Period",
        "value": "Value", "change": "Change", "trend": "Trend",
        "suppressed": "suppressed (small numbers)", "hidden": "suppressed (by the source)",
        "sources": "Sources and notes", "source": "Source", "licence": "Licence", "map": "Map",
        "signs": "Signs", "page": "page", "of": "of", "generated": "Generated on",
        "change_note": "Change: against the previous period with a published value; percentages in "
                       "percentage points.",
        "suppression_note": "Values based on small numbers are not published, to protect privacy.",
        "map_source": "boundaries: Statbel and Provincies in Cijfers (Modellicentie Gratis Hergebruik v1.0)",
        "map_alt": "Map: location of {name} in {context}",
        "spark_alt": "Trend of {name}, {first}–{last}",
        "by": "by",
        "no_data": "No figures have been published for this area (yet).",
    },
}
THEMES = {
    "demografie": ("Demografie", "Population"), "vergrijzing": ("Vergrijzing", "Ageing"),
    "diversiteit": ("Diversiteit", "Diversity"), "inkomen": ("Inkomen", "Income"),
    "ruimte": ("Ruimte en bodemgebruik", "Land use"), "energie": ("Energie", "Energy"),
    "overige": ("Overige", "Other"),
}
UNITS_EN = {"personen": "persons", "aangiften": "tax returns", "per 100": "per 100"}
# The kinds of a cell without a number, in legend order: the sign and word of its status
# (obmi.publish.signs, as on the web pages); a suppressed cell says whether OBMi's disclosure
# control withheld it ("suppressed": small numbers) or the source did ("hidden", Swing -99997).
SIGN_KINDS = ("suppressed", "hidden", "not_applicable", "missing", "empty")


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "gebied"


# --- rendering engines (shared per process) ------------------------------------------------

_lock = threading.Lock()
_compiler = None
_fonts_registered = False


def _typst_compiler():
    global _compiler
    if _compiler is None:
        import typst
        _compiler = typst.Compiler(font_paths=[str(FONT_DIR)], ignore_system_fonts=True)
    return _compiler


def _vl():
    global _fonts_registered
    import vl_convert
    if not _fonts_registered:
        vl_convert.register_font_directory(str(FONT_DIR))
        _fonts_registered = True
    return vl_convert


_SVG_SIZE = re.compile(r'<svg[^>]*?\bwidth="([\d.]+)"[^>]*?\bheight="([\d.]+)"')


_vega_templates: dict[str, dict] = {}
_DATA_NAME = "obmi_values"


def _vega_spec(spec: Mapping[str, Any]) -> dict | None:
    """The Vega spec of a Vega-Lite spec whose only data is inline `values`, compiled once per
    shape (specs that differ in their values only — the sparklines — share the compiled spec,
    which saves most of the time per chart)."""
    data = spec.get("data")
    if not (isinstance(data, dict) and set(data) == {"values"} and isinstance(data["values"], list)):
        return None
    key = json.dumps({k: v for k, v in spec.items() if k != "data"}, sort_keys=True)
    template = _vega_templates.get(key)
    if template is None:
        template = _vl().vegalite_to_vega({**spec, "data": {"name": _DATA_NAME}},
                                          vl_version=charts.VEGA_LITE_VERSION)
        if sum(1 for d in template.get("data", []) if d.get("name") == _DATA_NAME) != 1:
            return None
        if len(_vega_templates) > 256:
            _vega_templates.clear()
        _vega_templates[key] = template
    vega = dict(template)
    vega["data"] = [{**d, "values": data["values"]} if d.get("name") == _DATA_NAME else d
                    for d in template["data"]]
    return vega


def render_svg(spec: Mapping[str, Any], lang: str = "nl") -> tuple[str, float, float]:
    """(svg, width pt, height pt) of a Vega-Lite spec, with no network access for data."""
    vl = _vl()
    locale = "nl-NL" if lang == "nl" else "en-GB"
    vega = _vega_spec(spec)
    if vega is not None:
        svg = vl.vega_to_svg(vega, allowed_base_urls=[], format_locale=locale)
    else:
        svg = vl.vegalite_to_svg(dict(spec), vl_version=charts.VEGA_LITE_VERSION, allowed_base_urls=[],
                                 format_locale=locale)
    m = _SVG_SIZE.search(svg)
    width, height = (float(m.group(1)), float(m.group(2))) if m else (100.0, 50.0)
    return svg, width * PX, height * PX


# --- text helpers --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Fmt:
    lang: str
    level_names: Mapping[str, str]

    @property
    def t(self) -> dict[str, str]:
        return LABELS[self.lang]

    def number(self, value: float, decimals: int) -> str:
        return charts.format_number(value, decimals, self.lang)

    def unit(self, unit: str) -> str:
        if self.lang == "en":
            return UNITS_EN.get(unit, unit)
        return unit

    def name(self, ind) -> str:
        return (ind.name_en or ind.name_nl) if self.lang == "en" else ind.name_nl

    def level(self, ref: AreaRef) -> str:
        if ref.level in self.level_names:
            return self.level_names[ref.level]
        return level_label(ref.level, self.lang, ref.level_name)

    def theme(self, code: str) -> str:
        names = THEMES.get(code)
        if names:
            return names[1] if self.lang == "en" else names[0]
        return code.replace("_", " ").capitalize()

    def value(self, value: float | None, status: str | None, decimals: int,
              disclosure: str | None = None) -> tuple[str, str]:
        """(text, kind): the number and 'value', or the sign of the status and its kind (one of
        SIGN_KINDS). `status` None: no observation at all, unknown (as the query layer says)."""
        shown = shown_status(value, status)
        if shown is None:
            return self.number(value, decimals), "value"  # type: ignore[arg-type]
        kind = "hidden" if shown == "suppressed" and not disclosure else shown
        return SIGNS[shown].symbol(self.lang), kind

    def sign_text(self, kind: str) -> str:
        """The legend's word for a kind of cell without a number."""
        if kind in ("suppressed", "hidden"):
            return self.t[kind]
        return SIGNS[kind].label(self.lang)

    def change(self, figure: KeyFigure, scale: _Scale | None = None, *, points: bool = True) -> tuple[str, str]:
        scale = scale or _Scale(1.0, figure.indicator.decimals, "")
        return change_words(figure, self.lang, factor=scale.factor, decimals=scale.decimals, points=points)

    def date(self, when: datetime) -> str:
        return format_date(when, format="long", locale=charts.LOCALES[self.lang])


@dataclass(frozen=True)
class _Scale:
    """Very large amounts (a municipality's total income) print in millions."""
    factor: float
    decimals: int
    prefix: str  # "mln " / "million "


def _scale(fig: KeyFigure, lang: str) -> _Scale:
    """Millions when a value of the row has 9 digits or more, with enough decimals to keep
    three significant digits of the subject's value."""
    values = [fig.value] + [p.value for _, p in fig.references if p is not None]
    biggest = max((abs(v) for v in values if v is not None), default=0.0)
    if biggest < 1e8:
        return _Scale(1.0, fig.indicator.decimals, "")
    own = abs(fig.value or 0.0) / 1e6
    decimals = 1 if own >= 10 or own == 0 else 2 if own >= 1 else 3
    return _Scale(1e6, decimals, "mln " if lang == "nl" else "million ")


def _licences(sheet: FactSheet) -> list[str]:
    return sorted({f.indicator.licence for s in sheet.sections for f in s.figures if f.indicator.licence})


def _pick_key_figures(sheet: FactSheet, codes: Sequence[str]) -> list[KeyFigure]:
    by_code = {f.indicator.code: f for s in sheet.sections for f in s.figures}
    chosen = [by_code[c] for c in codes if c in by_code][:MAX_KEY_FIGURES]
    if len(chosen) < 6:  # another catalogue: the first figures of each theme
        for section in sheet.sections:
            for fig in section.figures[:2]:
                if fig not in chosen and len(chosen) < MAX_KEY_FIGURES:
                    chosen.append(fig)
    return chosen


# --- the document --------------------------------------------------------------------------

def _document_data(sheet: FactSheet, fmt: _Fmt, site_name: str, map_geojson: dict | None,
                   key_codes: Sequence[str], comparison_codes: Sequence[str] = COMPARISON_FIGURES) -> dict[str, Any]:
    t = fmt.t
    subject = sheet.area
    refs = sheet.references
    used: set[str] = set()

    def cell(value, status, decimals, factor=1.0, disclosure=None):
        text, kind = fmt.value(value / factor if value is not None else None, status, decimals, disclosure)
        if kind != "value":
            used.add(kind)
        return {"text": text, "kind": kind}

    def own(fig: KeyFigure, scale: _Scale) -> dict:
        """The area's own cell of a figure (its observation says who withheld a suppressed value)."""
        point = next((p for p in reversed(fig.series) if p.period == fig.period), None)
        return cell(fig.value, fig.status, scale.decimals, scale.factor, point.disclosure if point else None)

    def ref_cell(p, decimals, factor=1.0):
        return cell(p.value if p else None, p.status if p else None, decimals, factor, p.disclosure if p else None)

    def signs_of(kinds) -> list[dict]:
        return [{"kind": k, "sign": SIGNS["suppressed" if k == "hidden" else k].symbol(fmt.lang),
                 "text": fmt.sign_text(k)} for k in SIGN_KINDS if k in kinds]

    key = []
    for fig in _pick_key_figures(sheet, key_codes):
        ind = fig.indicator
        main = own(fig, _Scale(1.0, ind.decimals, ""))
        change, note = fmt.change(fig)
        key.append({
            "name": fmt.name(ind),
            "value": main["text"], "kind": main["kind"],
            # euro amounts read "€ 17.477", not "17.477 EUR"
            "unit": fmt.unit(ind.unit) if main["kind"] == "value" and ind.unit != "EUR" else "",
            "prefix": "€" if ind.unit == "EUR" and main["kind"] == "value" else "",
            "period": fig.period or "",
            "change": change, "change_note": note,
            "status": fmt.sign_text(main["kind"]) if main["kind"] != "value" else "",
            "refs": [] if ind.aggregation == "sum" else [
                {"name": ref.name, **ref_cell(p, ind.decimals)} for ref, p in fig.references],
        })

    comparisons = []
    by_code = {f.indicator.code: f for sec in sheet.sections for f in sec.figures}
    preferred = [by_code[c] for c in comparison_codes if c in by_code]
    candidates = [f for f in preferred + [f for f in _pick_key_figures(sheet, key_codes) if f not in preferred]
                  if f.indicator.aggregation != "sum"
                  and (f.value is not None or any(p and p.value is not None for _, p in f.references))]
    for fig in candidates[:MAX_COMPARISONS] if refs else []:
        spec = charts.comparison_bar_spec(fig, lang=fmt.lang, subject_name=subject.name, width=130)
        svg, w, h = render_svg(spec, fmt.lang)
        values = "; ".join(f"{r['area']} {r['label']}" for r in spec["data"]["values"])
        comparisons.append({"svg": svg, "w": w, "h": h, "alt": f"{spec['description']}: {values}"})

    sections = []
    for section in sheet.sections:
        rows = []
        kinds: set[str] = set()
        for fig in section.figures:
            ind = fig.indicator
            sc = _scale(fig, fmt.lang)
            main = own(fig, sc)
            change, note = fmt.change(fig, sc, points=False)
            ref_cells = [ref_cell(p, sc.decimals, sc.factor) for _ref, p in fig.references]
            kinds |= {c["kind"] for c in [main, *ref_cells]}
            spark = None
            published = [p for p in fig.series if p.value is not None]
            if len(published) >= 2:
                spec = charts.sparkline_spec(fig.series, unit=fmt.unit(ind.unit), decimals=ind.decimals,
                                             lang=fmt.lang, width=78, height=16)
                svg, w, h = render_svg(spec, fmt.lang)
                periods = [p.period for p in fig.series]
                spark = {"svg": svg, "w": w, "h": h,
                         "alt": t["spark_alt"].format(name=fmt.name(ind), first=periods[0], last=periods[-1])}
            rows.append({"name": fmt.name(ind), "unit": sc.prefix + fmt.unit(ind.unit), "period": fig.period or "",
                         "value": main, "change": change, "change_note": note, "refs": ref_cells,
                         "spark": spark})
        sections.append({"title": fmt.theme(section.theme), "rows": rows, "signs": signs_of(kinds)})

    map_data = None
    if map_geojson and map_geojson.get("features"):
        spec = charts.choropleth_spec(map_geojson, subject.code, title=None, lang=fmt.lang, width=210, height=180)
        svg, w, h = render_svg(spec, fmt.lang)
        context = ", ".join(r.name for r in refs[:1]) or fmt.level(subject)
        map_data = {"svg": svg, "w": w, "h": h, "alt": t["map_alt"].format(name=subject.name, context=context)}

    levels = {subject.level} | {r.level for r in refs}
    attribution = []
    if map_data:
        attribution.append(f"{t['map']}: {t['map_source']}.")
    if "ggw7" in levels:
        attribution.append(WIJKEN_ATTRIBUTION + ".")
    notes = [t["change_note"]] if sheet.sections else []
    if "suppressed" in used:
        notes.append(t["suppression_note"])
    signs = signs_of(used)
    generated = fmt.date(sheet.generated)
    return {
        "lang": fmt.lang, "site": site_name, "labels": t,
        "title": f"{t['kicker']} {subject.name} — {fmt.level(subject).lower()}",
        "area": {"name": subject.name, "code": subject.code, "level": fmt.level(subject)},
        "references": [{"name": r.name, "level": fmt.level(r).lower()} for r in refs],
        "compact": len(refs) > 3,
        "key": key, "comparisons": comparisons, "sections": sections, "map": map_data,
        "sources": [f"{t['source']}: {s}." for s in merged_sources(sheet, fmt.lang)],
        "licences": [f"{t['licence']}: {lic}." for lic in _licences(sheet)],
        "attribution": attribution, "notes": notes, "signs": signs,
        "generated": f"{t['generated']} {generated} {t['by']} {site_name}",
        "footer": f"{site_name} · {t['kicker']} {subject.name} · {generated}",
    }


# The house style every OBMi document shares: the data, the colours, the font, the A4 page with
# its footer (the fact sheets and the plan reports start from it).
HOUSE_STYLE = r"""
#let d = json(bytes(sys.inputs.data))
#let L = d.labels
#let accent = rgb("#0072B2")
#let ink = rgb("#1F2933")
#let muted = rgb("#52606D")
#let faint = rgb("#7B8794")
#let rule = rgb("#D9DEE4")
#let tint = rgb("#F0F4F8")

#set document(title: d.title, author: d.site)
#set text(font: "Inter", size: 8.5pt, lang: d.lang, fill: ink, number-width: "tabular", hyphenate: false)
#set par(leading: 0.5em, spacing: 0.9em)
#set page(
  paper: "a4",
  margin: (left: 16mm, right: 16mm, top: 15mm, bottom: 17mm),
  footer: context {
    set text(size: 7pt, fill: faint)
    line(length: 100%, stroke: 0.4pt + rule)
    v(-4pt)
    grid(columns: (1fr, auto), d.footer,
      [#L.page #counter(page).display() #L.of #counter(page).final().first()])
  },
)
"""

TEMPLATE = HOUSE_STYLE + r"""
#show heading.where(level: 1): set text(size: 26pt, weight: "bold", fill: ink)
#show heading.where(level: 1): set block(above: 2pt, below: 6pt)
#show heading.where(level: 2): set text(size: 11.5pt, weight: "bold", fill: accent)
#show heading.where(level: 2): set block(above: 16pt, below: 7pt)

#let svg-image(img) = image(bytes(img.svg), format: "svg", width: img.w * 1pt, height: img.h * 1pt, alt: img.alt)
#let kind-text(c) = if c.kind == "value" { c.text } else { text(fill: faint, c.text) }

// ---- title block ---------------------------------------------------------------------------
#grid(
  columns: if d.map != none { (1fr, 64mm) } else { (1fr,) },
  column-gutter: 8mm,
  [
    #block(above: 0pt, below: 0pt, rect(width: 18mm, height: 2.2pt, fill: accent, stroke: none))
    #v(8pt)
    #text(size: 8pt, weight: "bold", fill: accent, tracking: 0.08em, upper(L.kicker))
    #v(4pt)
    #heading(level: 1, outlined: false, d.area.name)
    #text(size: 11pt, fill: muted, d.area.level)
    // "compared with" only when something is compared: a sheet without figures compares nothing
    #if d.references.len() > 0 and d.sections.len() > 0 [
      #v(8pt)
      #text(size: 8pt, fill: muted, weight: "bold", L.references) \
      #for r in d.references [
        #text(size: 9pt, r.name) #text(size: 8pt, fill: faint, "(" + r.level + ")") \
      ]
    ]
  ],
  ..if d.map != none { (align(right + top, image(bytes(d.map.svg), format: "svg", width: 64mm, alt: d.map.alt)),) },
)

// ---- key figures ---------------------------------------------------------------------------
#if d.key.len() > 0 [
  #heading(level: 2, L.key_figures)
  #let tile(k) = {
    set par(spacing: 0pt)
    block(height: 2.6em, below: 3pt, text(size: 7.5pt, fill: muted, k.name))
    if k.kind == "value" {
      text(size: 15pt, weight: "bold", (if k.prefix != "" { k.prefix + " " } else { "" }) + k.value)
      if k.unit != "" { h(2pt); text(size: 8pt, fill: muted, k.unit) }
    } else {
      text(size: 15pt, weight: "bold", fill: faint, k.value)
    }
    v(5pt)
    text(size: 7pt, fill: muted, k.period
      + if k.change != "" { " · " + k.change + " " + k.change_note } else { "" }
      + if k.status != "" { " · " + k.status } else { "" })
    if k.refs.len() > 0 {
      v(4pt)
      set text(size: 7pt, fill: muted)
      grid(columns: (1fr, auto), row-gutter: 2.5pt,
        ..k.refs.map(r => (r.name, kind-text(r))).flatten())
    }
  }
  #grid(
    columns: (1fr, 1fr, 1fr, 1fr),
    column-gutter: 5pt, row-gutter: 5pt,
    fill: tint,
    inset: (x: 7pt, y: 7pt),
    stroke: (left: 2pt + accent),
    ..d.key.map(tile),
  )
]

// ---- comparison charts ---------------------------------------------------------------------
#if d.comparisons.len() > 0 [
  #heading(level: 2, L.comparison)
  #grid(columns: (1fr, 1fr), column-gutter: 8mm, row-gutter: 8pt,
    ..d.comparisons.map(c => align(left + bottom, svg-image(c))))
]

// ---- one table per theme -------------------------------------------------------------------
// more than three reference areas: the tables get landscape pages rather than cramped columns
#let nrefs = d.references.len()
#let ref-w = if nrefs <= 2 { 22mm } else { 19mm }
#set page(flipped: true) if d.compact and d.sections.len() > 0
#for s in d.sections [
  #heading(level: 2, s.title)
  #{
    let head(body, al: right) = align(al, text(size: 7pt, weight: "bold", fill: muted, body))
    table(
      columns: (1fr, 12mm, 21mm, if nrefs <= 2 { 17mm } else { 15mm }) + range(nrefs).map(_ => ref-w)
        + (if nrefs <= 2 { 26mm } else { 22mm },),
      align: (x, y) => (if x == 0 { left } else if x == 1 { center } else if x == nrefs + 4 { center } else { right }) + top,
      stroke: (x, y) => if y == 0 { (bottom: 0.7pt + ink) } else { (bottom: 0.4pt + rule) },
      inset: (x: 3.5pt, y: 4pt),
      table.header(
        head(L.indicator, al: left), head(L.period, al: center), head(L.value), head(L.change),
        ..d.references.map(r => head(r.name)),
        head(L.trend, al: center),
      ),
      ..s.rows.map(r => (
        [#r.name #if r.unit != "" [#linebreak() #text(size: 6.5pt, fill: faint, r.unit)]],
        text(fill: muted, r.period),
        if r.value.kind == "value" { text(weight: "bold", r.value.text) } else { kind-text(r.value) },
        [#r.change #if r.change_note != "" [#linebreak() #text(size: 6.5pt, fill: faint, r.change_note)]],
        ..r.refs.map(c => kind-text(c)),
        if r.spark != none { svg-image(r.spark) } else { [] },
      )).flatten(),
    )
    if s.signs.len() > 0 {
      v(-4pt)
      text(size: 7pt, fill: muted, s.signs.map(x => x.sign + " " + x.text).join("    "))
    }
  }
]

#if d.sections.len() == 0 [
  #v(12pt)
  #text(size: 10pt, fill: muted, L.no_data)
]

// ---- sources -------------------------------------------------------------------------------
#heading(level: 2, L.sources)
#{
  set text(size: 7.5pt, fill: muted)
  set par(spacing: 0.6em)
  for line in d.sources + d.licences + d.attribution + d.notes { par(line) }
  if d.signs.len() > 0 {
    par(L.signs + ": " + d.signs.map(x => x.sign + " " + x.text).join("; ") + ".")
  }
  v(4pt)
  par(d.generated + ".")
}
"""


def render_factsheet_pdf(sheet: FactSheet, *, lang: str = "nl", site_name: str = "OBMi",
                         map_geojson: dict | None = None, key_figures: Sequence[str] | None = None,
                         level_names: Mapping[str, str] | None = None) -> bytes:
    """The fact sheet as an A4 PDF (Dutch by default, `lang="en"` for English). `map_geojson`
    (WGS84, e.g. `surroundings_geojson`) adds a locator map; `key_figures` are the indicator codes
    to put up front; `level_names` overrides level names (code → name in `lang`)."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    fmt = _Fmt(lang, dict(level_names or {}))
    data = _document_data(sheet, fmt, site_name, map_geojson, key_figures or KEY_FIGURES)
    return compile_document(TEMPLATE, data, generated=sheet.generated)


def compile_document(template: str, data: Mapping[str, Any], *, generated: datetime, isolated: bool = False) -> bytes:
    """A tagged, accessible PDF (PDF/A-2a, PDF/UA-1) of a fixed Typst `template` that reads
    `data` (JSON) from `sys.inputs.data`: the engine of the fact sheets and the plan reports.

    Typst memoizes what it compiled for the life of the process and its Python binding cannot
    clear that (≈0.8 GB per distinct 400-page report): `isolated` compiles in a short-lived child
    process instead, for documents too big to keep in a long-running server's memory."""
    when = generated if generated.tzinfo else generated.replace(tzinfo=UTC)
    inputs = json.dumps(data, ensure_ascii=False)
    if isolated:
        return _compile_in_child(template, inputs, int(when.timestamp()))
    with _lock:
        return _compile(template, inputs, int(when.timestamp()))


def _compile_in_child(template: str, inputs: str, timestamp: int) -> bytes:
    import subprocess
    import sys
    job = json.dumps({"template": template, "inputs": inputs, "timestamp": timestamp}).encode("utf-8")
    done = subprocess.run([sys.executable, "-m", "obmi.reports.typst_child"], input=job, capture_output=True,
                          timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the PDF could not be compiled: {done.stderr.decode('utf-8', 'replace')[-2000:]}")
    return done.stdout


def _compile(template: str, inputs: str, timestamp: int) -> bytes:
    return _typst_compiler().compile(input=template.encode("utf-8"), format="pdf", sys_inputs={"data": inputs},
                                     timestamp=timestamp, pdf_standards=PDF_STANDARDS)


# --- maps and bulk export ------------------------------------------------------------------

def surroundings_geojson(conn: Connection, subject: AreaRef, *, cache: dict | None = None) -> dict | None:
    """GeoJSON of the subject's level within its surroundings (or None without geometry)."""
    within = locator_within(conn, subject)
    key = (subject.level, within)
    if cache is not None and key in cache:
        fc = cache[key]
    else:
        fc = feature_collection(conn, subject.level, within=within) if within else None
        if cache is not None:
            cache[key] = fc
    if not fc or not any(f["properties"]["code"] == subject.code for f in fc["features"]):
        return None
    return fc


def level_names(conn: Connection, lang: str) -> dict[str, str]:
    """Each level's display name with its boundary version ("Gemeente (indeling 2025)"), as the pages show it."""
    return {lvl.code: level_label(lvl.code, lang, lvl.name_nl, lvl.name_en) for lvl in list_levels(conn)}


def export_factsheets(conn: Connection, level: str, out_dir: Path, *, view: CatalogueView, default_threshold: int,
                      lang: str = "nl", within: tuple[str, str] | None = None, site_name: str = "OBMi",
                      with_map: bool = True) -> dict:
    """One PDF per area of `level` (optionally only those in `within`) in `out_dir`, named
    `<code>-<slug>.pdf`, over one connection. Returns counts and seconds."""
    started = time.perf_counter()
    # "niet te lokaliseren" pseudo-areas get no sheet
    areas = conn.execute(areas_of_level(conn, level, within=within, include_unknown=False)).all()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written, files, failed = 0, [], []
    names = level_names(conn, lang)
    maps: dict = {}
    for row in areas:
        try:
            sheet = build_factsheet(conn, level, row.code, view=view, default_threshold=default_threshold)
            geo = surroundings_geojson(conn, sheet.area, cache=maps) if with_map else None
            pdf = render_factsheet_pdf(sheet, lang=lang, site_name=site_name, map_geojson=geo, level_names=names)
        except Exception as exc:  # noqa: BLE001 — one bad area must not stop the batch
            failed.append({"code": row.code, "error": f"{type(exc).__name__}: {exc}"})
            continue
        path = out_dir / f"{row.code}-{slugify(row.name)}.pdf"
        path.write_bytes(pdf)
        files.append(path.name)
        written += 1
    seconds = time.perf_counter() - started
    return {"level": level, "lang": lang, "areas": len(areas), "written": written, "failed": failed,
            "files": files, "out_dir": str(out_dir), "seconds": round(seconds, 2),
            "seconds_per_sheet": round(seconds / written, 3) if written else None,
            "generated": datetime.now(UTC).isoformat(timespec="seconds")}
