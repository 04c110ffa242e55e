"""The opvolgingsrapportering and the college report as an accessible A4 PDF, typeset by the
fact sheets' engine (obmi.reports.pdf: Typst, Inter, PDF/A-2a and PDF/UA-1 — tagged, with a
title, the document language, headings and table header rows).

As with the fact sheets, data never passes through Typst markup: the template reads one JSON
value in which every number is already formatted (charts.format_number), so a toelichting that
reads `#set page(...)` is only text."""

from __future__ import annotations

from typing import Any

from babel.dates import format_date

from obmi.reports import charts
from obmi.reports.opvolging import FollowUpReport, ItemLine, MoneyRow, domain_label, status_label
from obmi.reports.pdf import HOUSE_STYLE, LANGS, compile_document

# A report of a plan this large compiles in a child process (see compile_document): ≈ 40 pages.
ISOLATE_ABOVE_ACTIES = 500
LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "opvolging": "Opvolgingsrapportering", "college": "Rapportering aan het college",
        "plan": "Meerjarenplan", "version": "versie", "period": "Periode", "generated": "Aangemaakt op",
        "data_version": "gegevensversie", "key_figures": "Kerncijfers",
        "spend_rate": "Bestedingsgraad uitgaven", "income_rate": "Realisatiegraad ontvangsten",
        "out": "Uitgaven", "in": "Ontvangsten", "realised": "gerealiseerd", "planned": "geraamd",
        "of_planned": "van", "priority_acties": "Prioritaire acties", "open_signals": "Open signalen",
        "booked_to": "Realisaties t.e.m. kwartaal {q} van {year}", "no_bookings": "Nog geen realisaties in {year}",
        "signals": "Signalen", "no_signals": "Geen open of erkende signalen.", "severity": "Ernst",
        "item": "Item", "message": "Signaal", "state": "Stand",
        "severities": "critical=kritiek,warning=waarschuwing,info=info",
        "states": "open=open,acknowledged=erkend",
        "priority": "Stand van zaken van de prioritaire actieplannen en acties",
        "no_priority": "Er zijn geen prioritaire actieplannen of acties aangeduid.",
        "code": "Code", "title": "Titel", "status": "Status", "progress": "Voortgang",
        "reported": "Periode", "toelichting": "Toelichting", "knelpunten": "Knelpunten",
        "j1": "Geraamde en gerealiseerde uitgaven en ontvangsten per beleidsdomein",
        "j1_note": "Naar het model van schema J1: per beleidsdomein en per categorie (exploitatie, investeringen, "
                   "financiering) de raming van planversie {version} tegenover de realisatie tot en met {as_of}.",
        "t2": "Geraamde en gerealiseerde uitgaven en ontvangsten per economische aard",
        "t2_note": "Naar het model van schema T2: per economische categorie (volgens de algemene rekening) de "
                   "raming tegenover de realisatie tot en met {as_of}.",
        "domain": "Beleidsdomein / categorie", "economic": "Economische aard",
        "raming": "Raming", "realisatie": "Realisatie", "rate": "%", "total": "Totaal",
        "texts": "Toelichtingen", "draft": "ontwerp", "no_text": "Nog geen goedgekeurde tekst.",
        "state_draft": "ontwerp", "state_submitted": "ingediend", "state_returned": "teruggestuurd",
        "detail": "Detail: alle acties per beleidsdoelstelling",
        "legend": "— : geen goedgekeurde rapportering voor de periode. Raming en realisatie: uitgaven van {year} "
                  "(realisatie tot en met {as_of}).", "no_objective": "Zonder beleidsdoelstelling",
        "no_acties": "Geen acties.", "source_plan": "De ramingen zijn de bedragen van het meerjarenplan zelf "
                                                   "(er werden geen ramingen uit het financieel pakket ingelezen).",
        "source_finance": "De ramingen komen uit het financieel pakket (planversie {version}).",
        "page": "pagina", "of": "van", "amounts": "Bedragen in euro.",
        "status_note": "Status en voortgang: de laatste goedgekeurde statusrapportering van de periode; voor "
                       "actieplannen en beleidsdoelstellingen afgeleid van de acties eronder.",
        "draft_note": "Ontwerprapport: teksten die nog niet goedgekeurd zijn, staan erin en zijn gemarkeerd als "
                      "ontwerp.",
    },
    "en": {
        "opvolging": "Follow-up report", "college": "Report to the college",
        "plan": "Multi-year plan", "version": "version", "period": "Period", "generated": "Generated on",
        "data_version": "data version", "key_figures": "Key figures",
        "spend_rate": "Spend rate (expenditure)", "income_rate": "Realisation rate (income)",
        "out": "Expenditure", "in": "Income", "realised": "realised", "planned": "planned",
        "of_planned": "of", "priority_acties": "Priority actions", "open_signals": "Open signals",
        "booked_to": "Realisations up to quarter {q} of {year}", "no_bookings": "No realisations in {year} yet",
        "signals": "Signals", "no_signals": "No open or acknowledged signals.", "severity": "Severity",
        "item": "Item", "message": "Signal", "state": "State",
        "severities": "critical=critical,warning=warning,info=info",
        "states": "open=open,acknowledged=acknowledged",
        "priority": "State of the priority action plans and actions",
        "no_priority": "No action plans or actions are marked as priority.",
        "code": "Code", "title": "Title", "status": "Status", "progress": "Progress",
        "reported": "Period", "toelichting": "Explanation", "knelpunten": "Problems",
        "j1": "Planned and realised expenditure and income per policy domain",
        "j1_note": "After schema J1: per policy domain and category (operating, investment, financing) the budget "
                   "of plan version {version} against the realisations up to {as_of}.",
        "t2": "Planned and realised expenditure and income per economic category",
        "t2_note": "After schema T2: per economic category (from the general ledger account) the budget against "
                   "the realisations up to {as_of}.",
        "domain": "Policy domain / category", "economic": "Economic category",
        "raming": "Budget", "realisatie": "Realised", "rate": "%", "total": "Total",
        "texts": "Notes", "draft": "draft", "no_text": "No approved text yet.",
        "state_draft": "draft", "state_submitted": "submitted", "state_returned": "returned",
        "detail": "Detail: every action per policy objective",
        "legend": "— : no approved update for the period. Budget and realised: expenditure of {year} (realised "
                  "up to {as_of}).", "no_objective": "Under no policy objective",
        "no_acties": "No actions.", "source_plan": "The budget figures are the multi-year plan's own amounts (no "
                                                   "budget was imported from the finance package).",
        "source_finance": "The budget figures come from the finance package (plan version {version}).",
        "page": "page", "of": "of", "amounts": "Amounts in euro.",
        "status_note": "Status and progress: the latest approved status update of the period; for action plans "
                       "and policy objectives derived from the actions below them.",
        "draft_note": "Draft report: texts not yet approved are included and marked as draft.",
    },
}


def amount(value: float, lang: str) -> str:
    """An amount in whole euros, the locale's way (20.792.179 / 20,792,179)."""
    return charts.format_number(value, 0, lang)


def percent(rate: float | None, lang: str) -> str:
    """A rate (0.4215) as a percentage with one decimal (42,2 %); "—" without a base."""
    if rate is None:
        return "—"
    return charts.format_number(rate * 100, 1, lang) + "\u00a0%"


def _pairs(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split(","))


def _money(row: MoneyRow, lang: str, *, label: str | None = None, total: bool = False,
           indent: bool = False) -> dict[str, Any]:
    return {"label": label if label is not None else row.label(lang), "total": total, "indent": indent,
            "cells": [amount(row.planned_out, lang), amount(row.realised_out, lang), percent(row.spend_rate, lang),
                      amount(row.planned_in, lang), amount(row.realised_in, lang), percent(row.income_rate, lang)]}


def _item(line: ItemLine, lang: str) -> dict[str, Any]:
    progress = "" if line.progress is None else charts.format_number(line.progress, 0, lang) + "\u00a0%"
    status = status_label(line.status, lang) if line.reported else "—"  # the legend says what "—" means
    return {"code": line.code, "title": line.title, "kind": line.kind, "status": status,
            "planned": amount(line.planned_out, lang) if line.planned_out else "",
            "realised": amount(line.realised_out, lang) if line.planned_out or line.realised_out else "",
            "reported": line.reported, "progress": progress, "period": line.period or "",
            "narrative": line.narrative, "knelpunten": line.knelpunten}


def _plan_line(report: FollowUpReport, t: dict[str, str]) -> str:
    """"Meerjarenplan 2026–2031 (MJP2026-2031), versie 2 — na aanpassing 1" without saying
    meerjarenplan twice when the plan's title or the version's label already does."""
    title = report.plan_title
    if not title.lower().startswith(t["plan"].lower()):
        title = f"{t['plan']} {title}"
    label = report.version_label
    extra = f" — {label}" if label and label.lower() not in report.plan_title.lower() else ""
    return f"{title} ({report.plan_code}), {t['version']} {report.version}{extra}"


def document_data(report: FollowUpReport, lang: str, site_name: str) -> dict[str, Any]:
    t = LABELS[lang]
    as_of = format_date(report.as_of, format="long", locale=charts.LOCALES[lang])
    generated = format_date(report.generated, format="long", locale=charts.LOCALES[lang])
    key = report.key
    severities, states = _pairs(t["severities"]), _pairs(t["states"])
    statuses = [{"label": status_label(s, lang), "count": str(n)} for s, n in key.priority_by_status.items()]
    booked = (t["booked_to"].format(q=key.booked_to, year=report.year) if key.booked_to
              else t["no_bookings"].format(year=report.year))
    tiles = [
        {"name": t["spend_rate"], "value": percent(key.spend_rate, lang), "note": booked},
        {"name": t["out"], "value": "€ " + amount(key.realised_out, lang),
         "note": f"{t['realised']} {t['of_planned']} € {amount(key.planned_out, lang)} {t['planned']}"},
        {"name": t["in"], "value": "€ " + amount(key.realised_in, lang),
         "note": f"{t['realised']} {t['of_planned']} € {amount(key.planned_in, lang)} {t['planned']}"},
        {"name": t["income_rate"], "value": percent(key.income_rate, lang), "note": booked},
        {"name": t["priority_acties"], "value": str(key.priority_acties),
         "note": ", ".join(f"{s['label']}: {s['count']}" for s in statuses)},
        {"name": t["open_signals"], "value": str(key.open_signals), "note": ""},
    ]
    j1 = []
    for row in report.j1:
        if row.category:
            j1.append(_money(row, lang, indent=True))
        else:
            j1.append(_money(row, lang, label=f"{row.key} {domain_label(row.key, lang)}", total=True))
    sections = []
    for section in report.sections:
        paragraphs = [p.strip() for p in section.body.replace("\r\n", "\n").split("\n\n") if p.strip()]
        mark = ""
        if section.draft and section.state != "approved":
            mark = t.get(f"state_{section.state}", t["draft"]) if section.state else t["draft"]
        sections.append({"title": section.title(lang), "paragraphs": paragraphs, "mark": mark})
    detail = []
    for group in report.detail:
        title = (f"{group.objective.code} {group.objective.title}" if group.objective is not None
                 else t["no_objective"])
        detail.append({"title": title,
                       "status": status_label(group.objective.status, lang) if group.objective else "",
                       "acties": [_item(a, lang) for a in group.acties]})
    kicker = t[report.kind]
    period_text = report.period_label or report.period
    title = f"{kicker} {report.organisation_name} {period_text}"
    notes = [t["amounts"], t["status_note"],
             t["source_plan"] if report.finance_source == "plan" else t["source_finance"].format(version=report.version)]
    if report.drafts_included:
        notes.append(t["draft_note"])
    return {
        "lang": lang, "site": site_name, "labels": t, "title": title, "kicker": kicker,
        "organisation": report.organisation_name, "period": period_text,
        "plan": _plan_line(report, t),
        "generated": f"{t['generated']} {generated} · {t['data_version']} {report.data_version}",
        "footer": f"{site_name} · {title} · {generated}",
        "tiles": tiles,
        "signals": [{"severity": severities.get(s.severity, s.severity), "state": states.get(s.state, s.state),
                     "item": s.item_code or "", "message": s.message(lang)} for s in report.signals],
        "priority": [_item(i, lang) for i in report.priority_items],
        "j1": j1, "j1_total": _money(report.j1_total, lang, label=t["total"], total=True),
        "j1_note": t["j1_note"].format(version=report.version, as_of=as_of),
        "t2": [_money(r, lang) for r in report.t2],
        "t2_total": _money(report.t2_total, lang, label=t["total"], total=True),
        "t2_note": t["t2_note"].format(as_of=as_of),
        "sections": sections, "detail": detail,
        "legend": t["legend"].format(year=report.year, as_of=as_of), "notes": notes, "draft": report.drafts_included,
    }


TEMPLATE = HOUSE_STYLE + r"""
#let warn = rgb("#9A3412")
#show heading.where(level: 1): set text(size: 22pt, weight: "bold", fill: ink)
#show heading.where(level: 1): set block(above: 2pt, below: 6pt)
#show heading.where(level: 2): set text(size: 11.5pt, weight: "bold", fill: accent)
#show heading.where(level: 2): set block(above: 16pt, below: 7pt)
#show heading.where(level: 3): set text(size: 9.5pt, weight: "bold", fill: ink)
#show heading.where(level: 3): set block(above: 12pt, below: 5pt)

#let head(body, al: left) = align(al, text(size: 7pt, weight: "bold", fill: muted, body))
#let lined(..args) = table(
  stroke: (x, y) => if y == 0 { (bottom: 0.7pt + ink) } else { (bottom: 0.4pt + rule) },
  inset: (x: 3.5pt, y: 4pt),
  ..args,
)

// ---- title block ---------------------------------------------------------------------------
#block(above: 0pt, below: 0pt, rect(width: 18mm, height: 2.2pt, fill: accent, stroke: none))
#v(8pt)
#text(size: 8pt, weight: "bold", fill: accent, tracking: 0.08em, upper(d.kicker))
#v(4pt)
#heading(level: 1, outlined: false, d.organisation + " · " + d.period)
#text(size: 10pt, fill: muted, d.plan) \
#text(size: 8pt, fill: faint, d.generated)
#if d.draft [
  #v(4pt)
  #text(size: 9pt, weight: "bold", fill: warn, upper(L.draft))
]

// ---- key figures ---------------------------------------------------------------------------
#heading(level: 2, L.key_figures)
#let tile(k) = {
  set par(spacing: 0pt)
  block(height: 2.2em, below: 3pt, text(size: 7.5pt, fill: muted, k.name))
  text(size: 14pt, weight: "bold", k.value)
  v(5pt)
  text(size: 7pt, fill: muted, k.note)
}
#grid(
  columns: (1fr, 1fr, 1fr),
  column-gutter: 5pt, row-gutter: 5pt,
  fill: tint,
  inset: (x: 7pt, y: 7pt),
  stroke: (left: 2pt + accent),
  ..d.tiles.map(tile),
)

// ---- signals -------------------------------------------------------------------------------
#heading(level: 2, L.signals)
#if d.signals.len() == 0 [
  #text(fill: muted, L.no_signals)
] else [
  #lined(
    columns: (20mm, 16mm, 22mm, 1fr),
    table.header(head(L.severity), head(L.state), head(L.item), head(L.message)),
    ..d.signals.map(s => (s.severity, s.state, s.item, s.message)).flatten(),
  )
]

// ---- priority items ------------------------------------------------------------------------
#heading(level: 2, L.priority)
#let status-cell(i) = if i.reported { text(weight: "bold", i.status) } else { text(fill: faint, i.status) }
#let item-text(i) = [
  #i.title
  #if i.narrative != "" [#linebreak() #text(size: 7.5pt, fill: muted, i.narrative)]
  #if i.knelpunten != "" [#linebreak() #text(size: 7.5pt, fill: warn, L.knelpunten + ": " + i.knelpunten)]
]
#if d.priority.len() == 0 [
  #text(fill: muted, L.no_priority)
] else [
  #text(size: 7.5pt, fill: muted, d.legend)
  #lined(
    columns: (19mm, 1fr, 26mm, 15mm, 17mm),
    align: (x, y) => if x == 3 { right + top } else { left + top },
    table.header(head(L.code), head(L.title + " — " + L.toelichting), head(L.status), head(L.progress, al: right),
      head(L.reported)),
    ..d.priority.map(i => (
      text(weight: if i.kind == "actieplan" { "bold" } else { "regular" }, i.code),
      item-text(i), status-cell(i), i.progress, text(fill: muted, i.period),
    )).flatten(),
  )
]

// ---- finance tables ------------------------------------------------------------------------
#let money-table(rows, total, first) = lined(
  columns: (1fr, 20mm, 20mm, 13mm, 20mm, 20mm, 13mm),
  align: (x, y) => if x == 0 { left + top } else { right + top },
  table.header(
    head(first), head(L.out + " " + L.raming, al: right), head(L.out + " " + L.realisatie, al: right),
    head(L.rate, al: right), head(L.in + " " + L.raming, al: right), head(L.in + " " + L.realisatie, al: right),
    head(L.rate, al: right),
  ),
  ..(rows + (total,)).map(r => {
    let w = if r.total { "bold" } else { "regular" }
    (pad(left: if r.indent { 8pt } else { 0pt }, text(weight: w, r.label)), ..r.cells.map(c => text(weight: w, c)))
  }).flatten(),
)

#heading(level: 2, L.j1)
#text(size: 7.5pt, fill: muted, d.j1_note)
#money-table(d.j1, d.j1_total, L.domain)

#heading(level: 2, L.t2)
#text(size: 7.5pt, fill: muted, d.t2_note)
#money-table(d.t2, d.t2_total, L.economic)

// ---- text sections -------------------------------------------------------------------------
#heading(level: 2, L.texts)
#for s in d.sections [
  #heading(level: 3, s.title + if s.mark != "" { " (" + s.mark + ")" } else { "" })
  #if s.paragraphs.len() == 0 [
    #text(fill: muted, L.no_text)
  ] else [
    #for p in s.paragraphs { par(p) }
  ]
]

// ---- detail --------------------------------------------------------------------------------
#heading(level: 2, L.detail)
#text(size: 7.5pt, fill: muted, d.legend)
#for g in d.detail [
  #heading(level: 3, g.title)
  #if g.status != "" [#text(size: 7.5pt, fill: muted, L.status + ": " + g.status)]
  #if g.acties.len() == 0 [
    #text(fill: muted, L.no_acties)
  ] else [
    #lined(
      columns: (19mm, 1fr, 22mm, 14mm, 19mm, 19mm),
      align: (x, y) => if x >= 3 { right + top } else { left + top },
      table.header(head(L.code), head(L.title + " — " + L.toelichting), head(L.status),
        head(L.progress, al: right), head(L.raming, al: right), head(L.realisatie, al: right)),
      ..g.acties.map(i => (i.code, item-text(i), status-cell(i), i.progress, i.planned, i.realised)).flatten(),
    )
  ]
]

// ---- notes ---------------------------------------------------------------------------------
#v(8pt)
#{
  set text(size: 7.5pt, fill: muted)
  set par(spacing: 0.6em)
  for line in d.notes { par(line) }
}
"""


def render_report_pdf(report: FollowUpReport, *, lang: str = "nl", site_name: str = "OBMi") -> bytes:
    """The report as an A4 PDF (Dutch by default, `lang="en"` for English)."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    acties = sum(len(group.acties) for group in report.detail)
    return compile_document(TEMPLATE, document_data(report, lang, site_name), generated=report.generated,
                            isolated=acties > ISOLATE_ABOVE_ACTIES)
