"""Swing indicator tables ("onderwerpentabel", XLSX or CSV) for `obmi import catalogue FILE`.

Recognised by its columns (`Indicator code`, `Name`, … in any case and spacing, or Swing's Dutch
names). Each row is mapped onto OBMi's indicator definition — then validated, written and
rejected exactly like a YAML or CSV catalogue (obmi.imports.catalogue) — and the mapping is
reported field by field (`RowMapping`), so an analyst sees how OBMi understood every row. The
rules are in docs/user-guide.md, section 3 ("Swing indicator tables")."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

from obmi.errors import ValidationError
from obmi.imports.runs import ImportStats
from obmi.imports.sheets import open_text, read_csv, sniff_delimiter
from obmi.indicators.formula import PERIOD_FUNCTION, Formula, parse_formula

# Swing's columns: OBMi's name for each → the accepted headers, lower case without spaces or
# punctuation ("Indicator code", "indicator_code" and "IndicatorCode" are all `indicatorcode`).
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("indicatorcode", "onderwerpcode", "variablecode"),
    "name": ("name", "naam", "onderwerpnaam", "indicatorname"),
    "name_en": ("nameen", "englishname", "nameenglish", "naamen", "naamengels"),
    "description": ("description", "beschrijving", "omschrijving"),
    "description_en": ("descriptionen", "englishdescription", "descriptionenglish", "beschrijvingengels"),
    "unit": ("unit", "eenheid"),
    "source": ("source", "bron"),
    "aggregation_indicator": ("aggregationindicator", "aggregatieonderwerp", "aggregatieindicator",
                              "aggregationvariable"),
    "formula": ("formula", "formule"),
    "data_type": ("datatype",),
    "period_type": ("periodtype", "periodetype"),
    "free_text": ("freetextfield", "freetext", "vrijtekstveld"),
    "round_off": ("roundoff", "afronding"),
    "threshold": ("threshold", "drempelwaarde", "drempel"),
    "threshold_indicator": ("thresholdindicator", "drempelonderwerp", "drempelindicator", "thresholdvariable"),
    # Not Swing fields (Swing files its indicators in folders and checks no ranges): OBMi's themes
    # and the range a delivered value must lie in, if a city adds them.
    "themes": ("theme", "themes", "thema", "themas"),
    "min": ("min", "minimum", "minimumwaarde", "ondergrens"),
    "max": ("max", "maximum", "maximumwaarde", "bovengrens"),
}
_BY_HEADER = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
SUFFIXES = (".xlsx", ".xlsm")  # workbooks; a .csv is a Swing table when its header says so

DATA_TYPES = {"numeric": "Numeric", "numeriek": "Numeric", "percentagesum": "Percentage (sum)",
              "percentagesom": "Percentage (sum)", "percentagemean": "Percentage (mean)",
              "percentagegemiddelde": "Percentage (mean)", "mean": "Mean", "gemiddelde": "Mean"}
# Type tags at the start (or, as some tables have it, the end) of a description.
TAGS = {"aantal": "count", "count": "count", "percentage": "percentage", "promille": "percentage",
        "ratio": "ratio", "gemiddelde": "mean", "mean": "mean", "mediaan": "median", "median": "median"}
_TAG = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(.*)$|^(.*?)\s*\[\s*([^\]]+?)\s*\]\s*$", re.S)
PERIOD_TYPES = {"": "year", "pending": "year", "stock": "year", "year": "year", "jaar": "year",
                "quarter": "quarter", "kwartaal": "quarter", "month": "month", "maand": "month"}
_COUNT_PREFIX = re.compile(r"^vs?\d")  # v1101_t counts, vs… flows; vp… ratios, vg… averages
_MEAN_PREFIX = re.compile(r"^v[pg]\d")
# A `v` code counts things unless its unit names another measure (kWh, euro, ha): Fluvius'
# v2506_gas_res_cons is a consumption in kWh, summed but never a whole-number count.
COUNT_UNITS = {"", "aantal", "aantallen", "n", "count", "number", "personen", "inwoners", "huishoudens",
               "woningen", "gebouwen", "bedrijven", "vestigingen", "leerlingen", "kinderen"}


def header_key(text: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text or "").lower())


def swing_columns(header: list[str]) -> dict[str, int] | None:
    """{field: column index} when `header` is a Swing indicator table's, else None; ValueError when
    it lacks a Name or has two columns of the same meaning (which of the two would count?)."""
    keys = [header_key(h) for h in header]
    if not any(_BY_HEADER.get(k) == "code" for k in keys):
        return None
    columns: dict[str, int] = {}
    for index, key in enumerate(keys):
        name = _BY_HEADER.get(key)
        if name is None:
            continue
        if name in columns:
            raise ValueError(f"the columns {header[columns[name]]!r} and {header[index]!r} mean the same")
        columns[name] = index
    if "name" not in columns:
        raise ValueError(f"a Swing indicator table needs the columns 'Indicator code' and 'Name' "
                         f"(found: {', '.join(h for h in header if h)})")
    return columns


def is_swing_table(path: Path) -> bool:
    """A workbook (OBMi's own catalogues are YAML or CSV), or a CSV whose header is Swing's."""
    suffix = path.suffix.lower()
    if suffix in SUFFIXES:
        return True
    if suffix != ".csv" or not path.is_file():
        return False
    with open_text(path) as handle:
        first = handle.readline()
    delimiter = sniff_delimiter(first)
    keys = {header_key(h) for h in first.rstrip("\r\n").split(delimiter)}
    return any(_BY_HEADER.get(k) == "code" for k in keys)


# ------------------------------------------------------------------------------------ reading

_CELL = re.compile(r'\s*(?:"((?:[^"]|"")*)"|\$?([A-Za-z]{1,3})\$?(\d+))\s*')


def _text_formula(formula: str, cells: list[tuple[Any, ...]]) -> str | None:
    """An Excel text formula the workbook holds without its computed value (written by a script):
    `=CONCATENATE(A3,"/",A5)` or `=A3&"/"&A5`, of cell references and quoted text. None for
    anything else."""
    body = formula[1:].strip()
    call = re.fullmatch(r"(?i)CONCAT(?:ENATE)?\((.*)\)", body, re.S)
    body, separators = (call.group(1), ",;") if call else (body, "&")
    parts, pos = [], 0
    while True:
        match = _CELL.match(body, pos)
        if match is None:
            return None
        if match.group(2):
            col = 0
            for letter in match.group(2).upper():
                col = col * 26 + ord(letter) - 64
            row = int(match.group(3))
            value = cells[row - 1][col - 1] if row <= len(cells) and col <= len(cells[row - 1]) else None
            if isinstance(value, str) and value.startswith("="):
                return None  # a reference to another uncomputed formula: not worth guessing
            parts.append(_text(value))
        else:
            parts.append(match.group(1).replace('""', '"'))
        pos = match.end()
        if pos == len(body):
            return "".join(parts)
        if body[pos] not in separators:
            return None
        pos += 1


def _read_workbook(path: Path) -> tuple[list[str], list[tuple[int, tuple[Any, ...]]], list[tuple[int, str]]]:
    """First sheet: header, (line, values) and the cells that hold an uncomputed formula."""
    try:
        computed = openpyxl.load_workbook(path, read_only=True, data_only=True)
        written = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 — any unreadable file is the same refusal
        raise ValidationError(f"{path.name}: not a readable XLSX file ({exc})") from None
    try:
        values = [tuple(r) for r in computed.worksheets[0].iter_rows(values_only=True)]
        formulas = [tuple(r) for r in written.worksheets[0].iter_rows(values_only=True)]
    finally:
        computed.close()
        written.close()
    if not values:
        raise ValidationError(f"{path.name}: the sheet is empty")
    header = [_text(h) for h in values[0]]
    rows, problems = [], []
    for index, row in enumerate(values[1:], start=1):
        line = index + 1
        cells = list(row) + [None] * (len(header) - len(row))
        for col, value in enumerate(cells):
            text = formulas[index][col] if index < len(formulas) and col < len(formulas[index]) else None
            if value is None and isinstance(text, str) and text.startswith("="):
                cells[col] = _text_formula(text, formulas)
                if cells[col] is None:
                    problems.append((line, f"column {header[col]!r} holds the Excel formula {text} without its "
                                           "computed value: open the file in Excel or LibreOffice and save it"))
        if any(_text(v) for v in cells):
            rows.append((line, tuple(cells)))
    return header, rows, problems


def read_table(path: Path) -> tuple[list[str], list[tuple[int, tuple[Any, ...]]], list[tuple[int, str]]]:
    if path.suffix.lower() in SUFFIXES:
        return _read_workbook(path)
    header, body = read_csv(path)
    return header, list(body), []


# ------------------------------------------------------------------------------------ mapping

@dataclass(frozen=True)
class FieldMapping:
    """One Swing field and what OBMi made of it. `column` is the header as in the file; `value`
    None marks a conclusion drawn from several fields (e.g. is_count)."""
    column: str
    value: str | None
    result: str

    def text(self) -> str:
        if self.value is None:
            return f"{self.column} {self.result}"
        shown = repr(self.value) if self.value else "(empty)"
        return f"{self.column} {shown} → {self.result}"


@dataclass
class RowMapping:
    line: int
    code: str
    fields: list[FieldMapping] = field(default_factory=list)
    definition: dict[str, Any] = field(default_factory=dict)  # the OBMi fields it maps to

    def add(self, column: str, value: str | None, result: str) -> None:
        self.fields.append(FieldMapping(column, value, result))

    def text(self) -> str:
        return "\n".join([f"line {self.line} {self.code or '(no code)'}:", *(f"      {f.text()}" for f in self.fields)])


@dataclass
class SwingTable:
    items: list[tuple[int, dict[str, Any]]]  # (line, OBMi definition fields), for build_indicators
    mapping: list[RowMapping]
    rejected: list[tuple[int, str]]
    columns: list[str]  # the Swing columns read, as named in the file
    ignored: list[str]  # other columns

    def notes(self) -> list[str]:
        head = (f"Swing indicator table (onderwerpentabel): {len(self.mapping)} rows, columns "
                f"{', '.join(self.columns)}")
        if self.ignored:
            head += f"; ignored columns: {', '.join(self.ignored)}"
        return [head, *(m.text() for m in self.mapping)]


@dataclass
class SwingImportStats(ImportStats):
    """ImportStats of a Swing table: also the mapping of every row (also in `notes`, as text)."""
    mapping: list[RowMapping] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(text: str) -> float | None:
    text = text.strip().replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _tag(description: str) -> tuple[str | None, str | None, str]:
    """(tag as written, its kind or None when not a known tag, description without a known tag)."""
    match = _TAG.match(description)
    if not match:
        return None, None, description
    tag, rest = (match.group(1), match.group(2)) if match.group(1) is not None else (match.group(4), match.group(3))
    kind = TAGS.get(tag.lower())
    return tag, kind, (rest.strip() if kind else description)


def _decimals(raw: str, row: RowMapping, column: str, problems: list[str]) -> int:
    """Swing's RoundOff is the rounding step: 1 → whole numbers, 0.1 → one decimal, 0.01 → two."""
    if not raw:
        row.add(column, raw, "decimals 0 (OBMi's default)")
        return 0
    step = _number(raw)
    if step is None or step < 0:
        problems.append(f"RoundOff {raw!r} is not a rounding step such as 1, 0.1 or 0.01")
        return 0
    if step == 0:
        row.add(column, raw, "decimals 0 (no rounding step)")
        return 0
    exponent = -math.log10(step)
    if abs(exponent - round(exponent)) > 1e-9:
        problems.append(f"RoundOff {raw!r} is not a power of ten (1, 0.1, 0.01 …): OBMi rounds to decimals")
        return 0
    decimals = int(round(exponent))
    if decimals < 0:
        row.add(column, raw, f"decimals 0 (rounding to multiples of {_text(step)}, Swing's way of censoring, "
                             "is not done by OBMi: disclosure control is the threshold)")
        return 0
    if decimals > 6:
        problems.append(f"RoundOff {raw!r} asks for {decimals} decimals: at most 6")
        return 6
    row.add(column, raw, f"decimals {decimals}")
    return decimals


def _formula(text: str, problems: list[str]) -> Formula | None:
    if not text:
        return None
    try:
        return parse_formula(text)
    except ValueError as exc:
        problems.append(f"Formula {text!r}: {exc}")
        return None


def _describe_offsets(formula: Formula) -> str:
    used = ", ".join(f"{code} {offset:+d}" for code, offset in sorted(formula.offsets, key=lambda r: (r[0], abs(r[1]))))
    return f"; uses other periods ({PERIOD_FUNCTION}): {used}" if used else ""


def map_row(line: int, cells: dict[str, tuple[str, Any]]) -> tuple[dict[str, Any], RowMapping, list[str]]:
    """One Swing row → (OBMi definition fields, the mapping report, problems). `cells` maps OBMi's
    name of each Swing column present to (its header in the file, the cell)."""
    def get(name: str) -> str:
        return _text(cells[name][1]) if name in cells else ""

    def column(name: str) -> str:
        return cells[name][0]

    code = get("code")
    row, problems = RowMapping(line, code), []
    item: dict[str, Any] = {"code": code}
    row.add(column("code"), code, "code (kept as is)" if code else "code: missing")
    if not code:
        problems.append("Indicator code is empty")

    name = get("name")
    item["name_nl"] = name
    if "name_en" in cells and get("name_en"):
        item["name_en"] = get("name_en")
        row.add(column("name"), name, "name_nl")
        row.add(column("name_en"), get("name_en"), "name_en")
    else:
        item["name_en"] = name
        row.add(column("name"), name, "name_nl and name_en (no English name in the table)")

    tag = kind = None
    if "description" in cells:
        tag, kind, definition = _tag(get("description"))
        item["definition_nl"] = definition
        if kind:
            row.add(column("description"), get("description"), f"definition_nl {definition!r}; type tag [{tag}]: {kind}")
        elif tag:
            row.add(column("description"), get("description"), f"definition_nl (tag [{tag}] not recognised, kept)")
        else:
            row.add(column("description"), get("description"), "definition_nl")
    if "description_en" in cells:
        item["definition_en"] = get("description_en")
        row.add(column("description_en"), get("description_en"), "definition_en")
    for name_ in ("unit", "source"):
        if name_ in cells:
            item[name_] = get(name_)
            row.add(column(name_), get(name_), name_)
    if "themes" in cells:
        item["themes"] = [t.strip().lower() for t in re.split(r"[,;]", get("themes")) if t.strip()]
        row.add(column("themes"), get("themes"), f"themes {item['themes']}")

    # --- how it is computed and aggregated: Data type, Formula, Aggregation indicator, tag
    raw_type = get("data_type")
    data_type = DATA_TYPES.get(header_key(raw_type)) if raw_type else "Numeric"
    if data_type is None:
        problems.append(f"unknown Data type {raw_type!r} (Numeric, Percentage (sum), Percentage (mean) or Mean)")
    formula_text = get("formula")
    formula = _formula(formula_text, problems)
    weight = get("aggregation_indicator")
    shape = formula.ratio() if formula else None
    means = kind in ("mean", "percentage", "ratio") or bool(_MEAN_PREFIX.match(code))
    aggregation, how, weight_use = "sum", "", ""
    if formula is not None:
        item["formula"] = formula.text
    if kind == "median":
        aggregation = "none"
        how = "aggregation none: a median is never aggregated"
        weight_use = "not used (a median)" if weight else ""
    elif shape is not None:
        if not weight:
            problems.append(f"a ratio formula needs its denominator as Aggregation indicator (the formula divides "
                            f"by {shape.denominator})")
        elif shape.denominator != weight:
            problems.append(f"the denominator of a ratio formula must be the aggregation indicator: the formula "
                            f"divides by {shape.denominator}, the Aggregation indicator is {weight}")
        aggregation = "ratio"
        scale = f", scale {_text(shape.scale)}" if shape.scale != 1 else ""
        if shape.numerator is not None:
            del item["formula"]
            item.update(numerator=shape.numerator, denominator=shape.denominator, scale=shape.scale)
            how = (f"aggregation ratio, numerator {shape.numerator}, denominator {shape.denominator}{scale}: "
                   "a ratio of sums on every level")
        else:
            how = (f"aggregation ratio: the formula ({shape.numerator_text}) / {shape.denominator}{scale}, "
                   "computed from the summed inputs on every level (a ratio of sums)")
        if data_type in ("Percentage (mean)", "Mean"):
            how += ", not a mean of ratios (Swing computes a formula from the aggregated inputs too)"
        weight_use = "the ratio's denominator"
    elif formula is not None:
        if data_type == "Percentage (sum)":
            problems.append(f"Data type 'Percentage (sum)': the formula must be a numerator divided by the "
                            f"aggregation indicator, not {formula.text!r}")
        aggregation = "none" if means or data_type in ("Percentage (mean)", "Mean") else "sum"
        how = f"aggregation {aggregation}: a formula, computed from its inputs on every level"
        weight_use = "not used (a formula is computed from its inputs on every level)" if weight else ""
    elif data_type == "Percentage (sum)":
        if weight:
            aggregation = "weighted_mean"
            item["weight"] = weight
            how = (f"aggregation weighted_mean, weight {weight}: loaded shares weighted by their denominator, "
                   "which is the ratio of the sums")
            weight_use = "weight (the denominator)"
        else:
            problems.append("Data type 'Percentage (sum)' needs a formula or an Aggregation indicator (the denominator)")
    elif data_type in ("Percentage (mean)", "Mean") or means:
        if weight:
            aggregation = "weighted_mean"
            item["weight"] = weight
            how = f"aggregation weighted_mean, weight {weight}"
            weight_use = "weight"
        else:
            aggregation = "none"
            how = "aggregation none: a loaded mean or share without weight is not aggregated"
        if data_type == "Numeric":
            how += f" (tag [{tag}]: not a count)" if kind else f" (code prefix {code[:2]!r}: not a count)"
    else:
        how = "aggregation sum: the parts add up"
        weight_use = "not used (a sum needs no weight)" if weight else ""
    if data_type is None:
        how = "refused"
    item["aggregation"] = aggregation
    if "formula" in cells:
        if formula is None:
            row.add(column("formula"), formula_text, "no formula: the values are loaded" if not formula_text
                    else "refused")
        elif "formula" in item:
            row.add(column("formula"), formula_text, f"formula {formula.text!r}{_describe_offsets(formula)}")
        else:
            row.add(column("formula"), formula_text, f"the ratio {item['numerator']} / {item['denominator']}: "
                                                     "stored as numerator and denominator, not as a formula")
    if "aggregation_indicator" in cells:
        row.add(column("aggregation_indicator"), weight, weight_use or "none given")
    row.add(column("data_type") if "data_type" in cells else "Data type", raw_type if "data_type" in cells else "",
            how or ("refused" if data_type is None else "aggregation " + aggregation))

    # --- privacy: counts, threshold, threshold indicator
    threshold_raw = get("threshold")
    threshold_of = get("threshold_indicator")
    prefix = _COUNT_PREFIX.match(code)
    unit = get("unit").strip().lower()
    by_prefix = kind is None and prefix is not None
    is_count = aggregation == "sum" and (kind == "count" or (by_prefix and unit in COUNT_UNITS))
    why = ""
    if aggregation == "sum" and by_prefix and not is_count:
        why = f"unit {unit!r}: not a count, although the code prefix {prefix.group(0)[:-1]!r} says so"  # type: ignore[union-attr]
    if is_count:
        why = f"tag [{tag}]" if kind == "count" else f"code prefix {prefix.group(0)[:-1]!r}: a count"  # type: ignore[union-attr]
    if threshold_raw:
        number = _number(threshold_raw)
        if number is None or number < 0 or not number.is_integer():
            problems.append(f"Threshold {threshold_raw!r} must be a whole number, 0 or more")
        else:
            item["threshold"] = int(number)
            if not threshold_of and not is_count:
                if aggregation == "sum":
                    is_count, why = True, "a Threshold without Threshold indicator: it applies to the value itself"
                else:
                    row.add("(note)", None, "a Threshold without Threshold indicator applies to n only in OBMi: "
                                            "name the count it protects as Threshold indicator")
        row.add(column("threshold"), threshold_raw, f"threshold {item.get('threshold', '(refused)')}")
    if threshold_of:
        item["threshold_indicator"] = threshold_of
        rule = "its threshold" if threshold_raw else "the default threshold (OBMI_DEFAULT_THRESHOLD)"
        row.add(column("threshold_indicator"), threshold_of,
                f"threshold_indicator {threshold_of}: withheld where {threshold_of} is below {rule}")
    elif "threshold_indicator" in cells:
        row.add(column("threshold_indicator"), "", "none")
    if kind == "count" and not is_count:
        row.add("(note)", None, f"tag [{tag}] ignored: Data type {data_type or raw_type!r} is not a sum")
    item["is_count"] = is_count
    row.add("→ is_count", None, f"{str(is_count).lower()}" + (f" ({why})" if why else ""))
    if aggregation == "ratio" and not threshold_of:
        row.add("(note)", None, "no Threshold indicator: the ratio is shown however small its counts")

    # --- presentation
    if "round_off" in cells:
        item["decimals"] = _decimals(get("round_off"), row, column("round_off"), problems)
    raw_period = get("period_type")
    frequency = PERIOD_TYPES.get(raw_period.lower())
    if frequency is None:
        problems.append(f"Period type {raw_period!r} is not Pending, Stock, year, quarter or month")
    else:
        item["frequency"] = frequency
        flow = {"pending": " (Pending: a flow over the period)", "stock": " (Stock: a state at a moment)"}
        row.add(column("period_type") if "period_type" in cells else "Period type", raw_period,
                f"frequency {frequency}{flow.get(raw_period.lower(), '')}")
    if "free_text" in cells:
        row.add(column("free_text"), get("free_text"), "not imported (Swing's note on who loads and checks it)")
    for bound in ("min", "max"):
        if get(bound):
            _bound(bound, get(bound), column(bound), item, row, problems)
    row.definition = item
    return item, row, problems


def _bound(bound: str, raw: str, header: str, item: dict[str, Any], row: RowMapping, problems: list[str]) -> None:
    number = _number(raw)
    if number is None:
        problems.append(f"{header} {raw!r} is not a number")
        return
    item[bound] = number
    side = "below" if bound == "min" else "above"
    row.add(header, raw, f"{bound} {_text(number)}: a delivered value {side} it is refused")


def read_swing_table(path: Path) -> SwingTable:
    """Read and map a Swing indicator table; ValidationError when it is none."""
    header, rows, rejected = read_table(path)
    try:
        columns = swing_columns(header)
    except ValueError as exc:
        raise ValidationError(f"{path.name}: {exc}") from None
    if columns is None:
        raise ValidationError(f"{path.name}: not a Swing indicator table (needs an 'Indicator code' column; "
                              f"found: {', '.join(h for h in header if h)})")
    items, mapping = [], []
    for line, values in rows:
        cells = {name: (header[index], values[index] if index < len(values) else None)
                 for name, index in columns.items()}
        item, row, problems = map_row(line, cells)
        code = item["code"] or "(no code)"
        rejected += [(line, f"{code}: {p}") for p in problems]
        items.append((line, item))
        mapping.append(row)
    used = set(columns.values())
    return SwingTable(items, mapping, rejected, [header[i] for i in sorted(used)],
                      [h for i, h in enumerate(header) if i not in used and h])
