"""The opvolgingsrapportering and the college report as an XLSX workbook: one sheet per table of
the PDF, in the same order (key figures and signals first), with the same numbers — unrounded
amounts in euro with a number format, rates as fractions formatted as percentages — and the
header row frozen. (The `obmi_output_renderers` hook renders one table per download; a report
is several, so it has its own writer.)"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from obmi.reports.opvolging import FollowUpReport, ItemLine, MoneyRow, domain_label, status_label
from obmi.reports.opvolging_pdf import LABELS

EURO = '#,##0.00'
RATE = '0.0%'
HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")
SHEETS = {
    "nl": ("Kerncijfers", "Signalen", "Prioritair", "J1 beleidsdomein", "T2 economische aard", "Toelichtingen",
           "Detail acties"),
    "en": ("Key figures", "Signals", "Priority", "J1 policy domain", "T2 economic category", "Notes",
           "Detail actions"),
}


def _sheet(book: Workbook, title: str, header: Sequence[str], widths: Sequence[int]) -> Worksheet:
    sheet = book.create_sheet(title)
    sheet.append(list(header))
    for column, width in enumerate(widths, start=1):
        cell = sheet.cell(1, column)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"
    return sheet


def _money_header(t: dict[str, str], first: str) -> list[str]:
    return [first, f"{t['out']} {t['raming']}", f"{t['out']} {t['realisatie']}", f"{t['spend_rate']}",
            f"{t['in']} {t['raming']}", f"{t['in']} {t['realisatie']}", f"{t['income_rate']}"]


def _append(sheet: Worksheet, values: Sequence[Any], formats: dict[int, str] | None = None, *, bold: bool = False,
            wrap: Sequence[int] = ()) -> None:
    """Append a row whose cells are styled before they go in (0-based columns in `formats` and
    `wrap`): asking the sheet for its last row after each append scans every row — quadratic."""
    cells = []
    for column, value in enumerate(values):
        cell = Cell(sheet, value=value)
        if formats and column in formats:
            cell.number_format = formats[column]
        if bold:
            cell.font = Font(bold=True)
        if column in wrap:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        cells.append(cell)
    sheet.append(cells)


def _money_row(sheet: Worksheet, label: str, row: MoneyRow, *, bold: bool = False, extra: Sequence[Any] = ()) -> None:
    offset = 1 + len(extra)
    formats = {offset + i: fmt for i, fmt in enumerate((EURO, EURO, RATE, EURO, EURO, RATE))}
    _append(sheet, [label, *extra, row.planned_out, row.realised_out, row.spend_rate, row.planned_in,
                    row.realised_in, row.income_rate], formats, bold=bold)


def _item_row(sheet: Worksheet, item: ItemLine, lang: str, *, group: str = "") -> None:
    values: list[Any] = [group] if group else []
    values += [item.code, item.kind, item.title, status_label(item.status, lang),
               None if item.progress is None else item.progress / 100, item.period or "", item.planned_out,
               item.realised_out, item.narrative, item.knelpunten]
    last = len(values) - 1
    _append(sheet, values, {last - 5: RATE, last - 3: EURO, last - 2: EURO})


def render_report_xlsx(report: FollowUpReport, *, lang: str = "nl", site_name: str = "OBMi") -> bytes:
    t = LABELS[lang]
    names = SHEETS[lang]
    book = Workbook()
    book.remove(book.active)
    key = report.key

    sheet = _sheet(book, names[0], [t["key_figures"], "", ""], (42, 20, 50))
    sheet.cell(1, 2).value = "Waarde" if lang == "nl" else "Value"
    facts: list[tuple[str, Any, str | None]] = [
        (t[report.kind], f"{report.organisation_name} · {report.period_label or report.period}", None),
        (t["plan"], f"{report.plan_title} ({report.plan_code}), {t['version']} {report.version}", None),
        (t["period"], report.period, None),
        ("Tot en met" if lang == "nl" else "Up to", report.as_of, "yyyy-mm-dd"),
        (t["generated"], report.generated.replace(tzinfo=None), "yyyy-mm-dd hh:mm"),
        (t["data_version"], report.data_version, None),
        (t["spend_rate"], key.spend_rate, RATE),
        (f"{t['out']} {t['raming']}", key.planned_out, EURO),
        (f"{t['out']} {t['realisatie']}", key.realised_out, EURO),
        (t["income_rate"], key.income_rate, RATE),
        (f"{t['in']} {t['raming']}", key.planned_in, EURO),
        (f"{t['in']} {t['realisatie']}", key.realised_in, EURO),
        ("Kwartalen geboekt" if lang == "nl" else "Quarters booked", key.booked_to, None),
        (t["priority_acties"], key.priority_acties, None),
        *[(f"{t['priority_acties']}: {status_label(s, lang)}", n, None) for s, n in key.priority_by_status.items()],
        (t["open_signals"], key.open_signals, None),
    ]
    for name, value, number_format in facts:
        _append(sheet, [name, value], {1: number_format} if number_format else None)

    sheet = _sheet(book, names[1], [t["severity"], t["state"], t["item"], t["message"]], (14, 14, 16, 90))
    for s in report.signals:
        sheet.append([s.severity, s.state, s.item_code or "", s.message(lang)])

    item_header = [t["code"], "Soort" if lang == "nl" else "Kind", t["title"], t["status"], t["progress"],
                   t["reported"], f"{t['out']} {t['raming']}", f"{t['out']} {t['realisatie']}", t["toelichting"],
                   t["knelpunten"]]
    sheet = _sheet(book, names[2], item_header, (14, 14, 50, 22, 11, 11, 16, 16, 60, 40))
    for item in report.priority_items:
        _item_row(sheet, item, lang)

    sheet = _sheet(book, names[3], ["Beleidsdomein" if lang == "nl" else "Policy domain",
                                    *_money_header(t, "Categorie" if lang == "nl" else "Category")],
                   (34, 16, 16, 16, 12, 16, 16, 12))
    for row in report.j1:
        domain = row.key.split("/")[0]
        label = f"{domain} {domain_label(domain, lang)}"
        if row.category:
            _money_row(sheet, label, row, extra=[row.label(lang)])
        else:
            _money_row(sheet, label, row, bold=True, extra=[t["total"]])
    _money_row(sheet, t["total"], report.j1_total, bold=True, extra=[""])

    sheet = _sheet(book, names[4], ["Code", *_money_header(t, t["economic"])], (12, 34, 16, 16, 12, 16, 16, 12))
    for row in report.t2:
        _money_row(sheet, row.key, row, extra=[row.label(lang)])
    _money_row(sheet, t["total"], report.t2_total, bold=True, extra=[""])

    sheet = _sheet(book, names[5], ["Code", t["title"], t["state"], t["toelichting"]], (28, 40, 14, 100))
    for section in report.sections:
        _append(sheet, [section.code, section.title(lang), section.state or "", section.body], wrap=(3,))

    sheet = _sheet(book, names[6], ["Beleidsdoelstelling" if lang == "nl" else "Policy objective", *item_header],
                   (40, 14, 14, 50, 22, 11, 11, 16, 16, 60, 40))
    for group in report.detail:
        label = f"{group.objective.code} {group.objective.title}" if group.objective else t["no_objective"]
        for item in group.acties:
            _item_row(sheet, item, lang, group=label)

    book.properties.title = f"{t[report.kind]} {report.organisation_name} {report.period_label or report.period}"
    book.properties.creator = site_name
    book.properties.language = lang
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
