"""Reading tabular files (XLSX, CSV, Parquet) into header + rows with their line numbers.

A CSV is read as UTF-8 (with or without BOM) when it is UTF-8, else as Windows-1252 (what Excel
writes on Windows), else as Latin-1 — and the import report says which (`Rows.notes`). What the
CSV parser cannot get past (a quote that never closes, a field over 131,072 characters) refuses
the file, naming the line where the problem starts; a file with NUL bytes is no text at all."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from obmi.errors import ValidationError

FIELD_LIMIT = 131_072  # Python's csv default: no value of a statistics file comes near it
FALLBACK_ENCODINGS = ("cp1252", "latin-1")  # latin-1 decodes any byte: the last resort
_CHUNK = 1 << 20


class Rows(Iterator[tuple[int, tuple]]):
    """(line number, row values) of a table, and what reading it noticed (the encoding used)."""

    def __init__(self, rows: Iterable[tuple[int, tuple]], notes: list[str] | None = None):
        self._rows = iter(rows)
        self.notes = notes or []

    def __iter__(self) -> Rows:
        return self

    def __next__(self) -> tuple[int, tuple]:
        return next(self._rows)

    def close(self) -> None:
        """Stop early: a CSV's file is closed (its generator's `with` ends)."""
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()


def width_problem(values: tuple, width: int) -> str | None:
    """Why a row does not fit a header of `width` columns (a missing or an extra separator);
    None when it fits. Empty cells beyond the header are no problem (a trailing separator)."""
    if len(values) < width:
        return f"{len(values)} fields where the header has {width} (a missing separator, or a line broken in two?)"
    if any(v is not None and str(v).strip() for v in values[width:]):
        return f"{len(values)} fields where the header has {width} (an extra separator, or a value without a column?)"
    return None


def read_xlsx(path: Path) -> tuple[list[str], Rows]:
    """First sheet of a workbook: (header, iterator of (line number, row values))."""
    import openpyxl  # imported when needed: every command would otherwise pay for it
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ValidationError(f"{path.name}: not a readable XLSX file ({exc})") from None
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header_row = next(rows, None)
    if header_row is None:
        raise ValidationError(f"{path.name}: the sheet is empty")
    header = [str(h).strip() if h is not None else "" for h in header_row]

    def body() -> Iterator[tuple[int, tuple]]:
        for line, row in enumerate(rows, start=2):
            if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            yield line, tuple(row) + (None,) * (len(header) - len(row))
        workbook.close()

    return header, Rows(body())


def _raw(path: Path) -> gzip.GzipFile | io.BufferedReader:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _has_utf16_bom(path: Path) -> bool:
    try:
        with _raw(path) as handle:
            return handle.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    except (OSError, EOFError):
        return False


def detect_encoding(path: Path) -> str:
    """'utf-8-sig' when the whole file is UTF-8 (a BOM or none), 'utf-16' when its BOM says so
    (Excel's "Unicode text"), else the first fallback that decodes all of it. Checked in chunks,
    so a large file is never held in memory."""
    if _has_utf16_bom(path):
        return "utf-16"
    for encoding in ("utf-8-sig", *FALLBACK_ENCODINGS):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with _raw(path) as handle:
                for chunk in iter(lambda: handle.read(_CHUNK), b""):
                    if b"\x00" in chunk:  # no text file holds NUL bytes; Latin-1 would decode them all the same
                        raise ValidationError(f"{path.name}: a binary file (it holds NUL bytes), not a text file "
                                              "such as CSV")
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
        except (OSError, EOFError) as exc:
            raise ValidationError(f"{path.name}: cannot be read ({exc})") from None
    return FALLBACK_ENCODINGS[-1]  # unreachable: latin-1 decodes every byte


def encoding_note(encoding: str) -> str | None:
    if encoding in ("utf-8-sig", "utf-16"):  # Unicode: every character as written
        return None
    names = {"cp1252": "Windows-1252 (cp1252, as Excel writes CSV on Windows)", "latin-1": "Latin-1 (ISO-8859-1)"}
    return (f"the file is not UTF-8: read as {names.get(encoding, encoding)} — check that accented names came "
            "out right, or save the file as UTF-8")


def open_text(path: Path, encoding: str | None = None) -> io.TextIOBase:
    """Open a text file, transparently gunzipping `.gz`, in its detected encoding (BOM-tolerant
    UTF-8 when it is UTF-8)."""
    chosen = encoding or detect_encoding(path)
    return io.TextIOWrapper(_raw(path), encoding=chosen, newline="")


def sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in ",;|\t"}
    return max(counts, key=lambda d: counts[d])


def _csv_problem(exc: csv.Error, start: int, end: int) -> str:
    """A parser error in words, at the line where the record that failed begins."""
    text = str(exc)
    if "unexpected end of data" in text:
        return f"line {start}: a quote (\") opens a value here that is never closed"
    if "field larger than field limit" in text and end > start:
        return f"line {start}: a quote (\") opens a value here that is still not closed on line {end}"
    if "field larger than field limit" in text:
        return f"line {start}: a value longer than {FIELD_LIMIT:,} characters (not a statistics file?)"
    if "expected after" in text:
        return f"line {start}: text after the closing quote of a value (a stray quote?)"
    return f"line {start}: {text}"


def read_csv(path: Path) -> tuple[list[str], Rows]:
    encoding = detect_encoding(path)
    handle = open_text(path, encoding)
    first = handle.readline()
    if not first.strip():
        handle.close()
        raise ValidationError(f"{path.name}: the file is empty")
    delimiter = sniff_delimiter(first)
    header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter))]

    def body() -> Iterator[tuple[int, tuple]]:
        # strict: a quote that is never closed is an error, not the rest of the file in one value.
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        with handle:
            while True:
                start = reader.line_num + 2  # the header line was read before the reader started
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise ValidationError(f"{path.name}: {_csv_problem(exc, start, reader.line_num + 1)}") from None
                if not row or all(not v.strip() for v in row):
                    continue
                # Checked here too: csv's limit is process-wide and other libraries raise it.
                if any(len(v) > FIELD_LIMIT for v in row):
                    raise ValidationError(f"{path.name}: line {start}: a value longer than {FIELD_LIMIT:,} "
                                          "characters (not a statistics file?)")
                yield start, tuple(v if v.strip() != "" else None for v in row)

    note = encoding_note(encoding)
    return header, Rows(body(), [note] if note else [])


def read_parquet(path: Path) -> tuple[list[str], Rows]:
    import pyarrow.parquet as pq
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise ValidationError(f"{path.name}: not a readable Parquet file ({exc})") from None
    header = table.column_names
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    # Parquet has no lines: row 1 is reported as line 2, as if it were a CSV with a header.
    return header, Rows((i + 2, row) for i, row in enumerate(zip(*columns)))
