"""An area report as an accessible A4 PDF (PDF/A-2a, PDF/UA-1), typeset by the fact sheets'
engine (obmi.reports.pdf: Typst, the Inter font, the house style).

As with the fact sheets, data never passes through Typst markup: the template reads one JSON
value in which every number is formatted already and every text is a list of styled runs
(obmi.reports.area_report_text), so an area called `#set page(...)` is only text."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from babel.dates import format_date

from obmi.publish.signs import SIGNS
from obmi.reports import charts
from obmi.reports.area_report_build import BlockView, Cell, ReportView, TableRow, unit_word
from obmi.reports.area_report_text import Paragraph, RenderedText
from obmi.reports.factsheet import change_words
from obmi.reports.pdf import HOUSE_STYLE, LANGS, SIGN_KINDS, compile_document

LABELS: dict[str, dict[str, str]] = {
    "nl": {"kicker": "Gebiedsrapport", "references": "Vergeleken met", "indicator": "Indicator", "period": "Periode",
           "change": "Verschil", "sources": "Bronnen en toelichting", "source": "Bron", "licence": "Licentie",
           "signs": "Tekens", "page": "pagina", "of": "van", "generated": "Aangemaakt op", "by": "door",
           "suppressed": "onderdrukt (kleine aantallen)", "hidden": "onderdrukt (door de bron)",
           "change_note": "Verschil: ten opzichte van de vorige periode met een gepubliceerde waarde.",
           "suppression_note": "Waarden die op kleine aantallen steunen, worden niet gepubliceerd om de privacy "
                               "te beschermen.",
           "map_source": "Kaarten: gebiedsgrenzen van Statbel en Provincies in Cijfers (Modellicentie Gratis "
                         "Hergebruik v1.0).",
           "wijken": "Wijken voor omgevingsanalyse. © gemeentebesturen, verzameld door Data & Analyse van de "
                     "Vlaamse provincies."},
    "en": {"kicker": "Area report", "references": "Compared with", "indicator": "Indicator", "period": "Period",
           "change": "Change", "sources": "Sources and notes", "source": "Source", "licence": "Licence",
           "signs": "Signs", "page": "page", "of": "of", "generated": "Generated on", "by": "by",
           "suppressed": "suppressed (small numbers)", "hidden": "suppressed (by the source)",
           "change_note": "Change: against the previous period with a published value.",
           "suppression_note": "Values based on small numbers are not published, to protect privacy.",
           "map_source": "Maps: boundaries from Statbel and Provincies in Cijfers (Modellicentie Gratis "
                         "Hergebruik v1.0).",
           "wijken": "Wijken voor omgevingsanalyse. © gemeentebesturen, verzameld door Data & Analyse van de "
                     "Vlaamse provincies."},
}

TEMPLATE = HOUSE_STYLE + r"""
#show heading.where(level: 1): set text(size: 24pt, weight: "bold", fill: ink)
#show heading.where(level: 1): set block(above: 2pt, below: 6pt)
#show heading.where(level: 2): set text(size: 12.5pt, weight: "bold", fill: accent)
#show heading.where(level: 2): set block(above: 18pt, below: 8pt)
#show heading.where(level: 3): set text(size: 9.5pt, weight: "bold", fill: ink)
#show heading.where(level: 3): set block(above: 12pt, below: 6pt)

#let kind-text(c) = if c.kind == "value" { c.text } else { text(fill: faint, c.text) }
#let run(r) = {
  let body = if r.em { emph(r.text) } else { r.text }
  if r.strong { body = strong(body) }
  if r.link != "" { link(r.link, body) } else { body }
}
#let paragraph(p) = {
  let body = p.runs.map(run).join()
  if p.kind == "heading" { block(above: 9pt, below: 4pt, text(weight: "bold", body)) }
  else if p.kind == "li" {
    let mark = if p.number != none { str(p.number) + "." } else { "•" }
    pad(left: 10pt, grid(columns: (9pt, 1fr), mark, body))
  }
  else { par(body) }
}
#let text-block(t) = { set text(size: 9pt); for p in t { paragraph(p) } }

#let data-table(t) = {
  let n = t.refs.len()
  let head(body, al: right) = align(al, text(size: 7pt, weight: "bold", fill: muted, body))
  table(
    columns: (1fr, 12mm, 21mm, 19mm) + range(n).map(_ => if n <= 3 { 21mm } else { 16mm }),
    align: (x, y) => (if x == 0 { left } else if x == 1 { center } else { right }) + top,
    stroke: (x, y) => if y == 0 { (bottom: 0.7pt + ink) } else { (bottom: 0.4pt + rule) },
    inset: (x: 3.5pt, y: 4pt),
    table.header(head(L.indicator, al: left), head(L.period, al: center), head(d.area.name), head(L.change),
      ..t.refs.map(r => head(r))),
    ..t.rows.map(r => (
      [#r.name #if r.unit != "" [#linebreak() #text(size: 6.5pt, fill: faint, r.unit)]],
      text(fill: muted, r.period),
      if r.value.kind == "value" { text(weight: "bold", r.value.text) } else { kind-text(r.value) },
      [#r.change #if r.change_note != "" [#linebreak() #text(size: 6.5pt, fill: faint, r.change_note)]],
      ..r.refs.map(c => kind-text(c)),
    )).flatten(),
  )
}

#let block-view(b) = block(breakable: b.chart == none, width: 100%, {
  if b.title != "" { heading(level: 3, b.title) }
  if b.empty != "" { text(fill: muted, b.empty) }
  if b.table != none { data-table(b.table) }
  if b.chart != none {
    image(bytes(b.chart.svg), format: "svg", width: calc.min(b.chart.w, 480) * 1pt, alt: b.chart.alt)
    if b.chart.note != "" { v(2pt); text(size: 8pt, fill: muted, b.chart.note) }
  }
})

// ---- title block ---------------------------------------------------------------------------
#block(above: 0pt, below: 0pt, rect(width: 18mm, height: 2.2pt, fill: accent, stroke: none))
#v(8pt)
#text(size: 8pt, weight: "bold", fill: accent, tracking: 0.08em, upper(d.kicker))
#v(4pt)
#heading(level: 1, outlined: false, d.area.name)
#text(size: 11pt, fill: muted, d.area.level)
#if d.references.len() > 0 [
  #v(6pt)
  #text(size: 8pt, fill: muted, [#strong(L.references): #d.references.join(", ")])
]
#v(6pt)
#text-block(d.intro)

// ---- the sections --------------------------------------------------------------------------
#for s in d.sections [
  #heading(level: 2, s.heading)
  #text-block(s.text)
  #for b in s.blocks { block-view(b) }
]

// ---- sources -------------------------------------------------------------------------------
#heading(level: 2, L.sources)
#{
  set text(size: 7.5pt, fill: muted)
  set par(spacing: 0.6em)
  for line in d.notes { par(line) }
  if d.signs.len() > 0 { par(L.signs + ": " + d.signs.join("; ") + ".") }
  v(4pt)
  par(d.generated + ".")
}
"""


def _runs(text: RenderedText) -> list[dict[str, Any]]:
    return [_paragraph(p) for p in text.paragraphs]


def _paragraph(p: Paragraph) -> dict[str, Any]:
    runs = [{**asdict(r), "link": r.link if r.link.startswith(("http://", "https://", "mailto:")) else ""}
            for r in p.runs]
    return {"kind": p.kind, "number": p.number, "runs": runs}


MILLIONS = {"nl": "mln", "en": "million"}


def _cell(c: Cell, lang: str, factor: float = 1.0, decimals: int = 0) -> dict[str, str]:
    if factor == 1.0 or c.value is None:
        return {"text": c.text, "kind": c.kind}
    return {"text": charts.format_number(c.value / factor, decimals, lang), "kind": c.kind}


def _row(r: TableRow, lang: str) -> dict[str, Any]:
    """A table row; amounts of nine digits or more print in millions (as on the fact sheets), with
    enough decimals to keep three significant digits of the area's own value."""
    values = [abs(c.value) for c in (r.value, *r.refs) if c.value is not None]
    unit = unit_word(r.unit, lang)
    if max(values, default=0.0) < 1e8:
        return {"name": r.name, "unit": unit, "period": r.period, "value": _cell(r.value, lang),
                "change": r.change, "change_note": r.change_note, "refs": [_cell(c, lang) for c in r.refs]}
    own = abs(r.value.value or 0.0) / 1e6
    decimals = 1 if own >= 10 or own == 0 else 2 if own >= 1 else 3
    change, note = change_words(r.figure, lang, factor=1e6, decimals=decimals, points=False)
    return {"name": r.name, "unit": f"{MILLIONS[lang]} {unit}".strip(), "period": r.period,
            "value": _cell(r.value, lang, 1e6, decimals), "change": change, "change_note": note,
            "refs": [_cell(c, lang, 1e6, decimals) for c in r.refs]}


def _block(b: BlockView, lang: str) -> dict[str, Any]:
    table = chart = None
    if b.table is not None:
        table = {"refs": [r.name for r in b.table.references], "rows": [_row(r, lang) for r in b.table.rows]}
    if b.chart is not None:
        chart = {"svg": b.chart.svg, "w": b.chart.width, "alt": _alt(b), "note": b.chart.note}
    return {"title": b.title, "empty": b.empty, "table": table, "chart": chart}


def _alt(b: BlockView) -> str:
    """The chart in words: what it shows and its values (a PDF reader reads this out)."""
    assert b.chart is not None
    values = "; ".join(f"{area} {period} {c.text}" for area, period, c in b.chart.rows[:60])
    return f"{b.chart.description}: {values}" if values else b.chart.description


def document_data(report: ReportView, site_name: str) -> dict[str, Any]:
    """The JSON the Typst template reads: every text formatted, every number a string."""
    lang = report.lang
    t = LABELS[lang]
    generated = format_date(report.generated, format="long", locale=charts.LOCALES[lang])
    notes = [f"{t['source']}: {s}." for s in report.sources] + [f"{t['licence']}: {x}." for x in report.licences]
    notes.append(t["change_note"])
    if "suppressed" in report.kinds:
        notes.append(t["suppression_note"])
    if any(b.type == "map" and b.chart for s in report.sections for b in s.blocks):
        notes.append(t["map_source"])
    if "ggw7" in report.families:
        notes.append(t["wijken"])
    signs = [f"{SIGNS['suppressed' if k == 'hidden' else k].symbol(lang)} "
             f"{t[k] if k in ('suppressed', 'hidden') else SIGNS[k].label(lang)}" for k in SIGN_KINDS if k in report.kinds]
    return {
        "lang": lang, "site": site_name, "labels": t, "kicker": report.title,
        "title": f"{report.title} {report.area.name}",
        "area": {"name": report.area.name, "level": report.level_name},
        "references": [r.name for r in report.references],
        "intro": _runs(report.intro),
        "sections": [{"heading": s.heading, "text": _runs(s.text), "blocks": [_block(b, lang) for b in s.blocks]}
                     for s in report.sections],
        "notes": notes, "signs": signs,
        "generated": f"{t['generated']} {generated} {t['by']} {site_name}",
        "footer": f"{site_name} · {report.title} {report.area.name} · {generated}",
    }


def render_report_pdf(report: ReportView, *, site_name: str = "OBMi") -> bytes:
    if report.lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    return compile_document(TEMPLATE, document_data(report, site_name), generated=report.generated)
