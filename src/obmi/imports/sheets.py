"""Reading tabular files (XLSX, CSV, Parquet) into header + rows with their line numbers."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import Iterator

import openpyxl

from obmi.errors import ValidationError


def read_xlsx(path: Path) -> tuple[list[str], Iterator[tuple[int, tuple]]]:
    """First sheet of a workbook: (header, iterator of (line number, row values))."""
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

    return header, body()


def open_text(path: Path) -> io.TextIOBase:
    """Open a text file, transparently gunzipping `.gz`; BOM-tolerant UTF-8."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in ",;|\t"}
    return max(counts, key=lambda d: counts[d])


def read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, tuple]]]:
    handle = open_text(path)
    first = handle.readline()
    if not first.strip():
        raise ValidationError(f"{path.name}: the file is empty")
    delimiter = sniff_delimiter(first)
    header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter))]

    def body() -> Iterator[tuple[int, tuple]]:
        with handle:
            for line, row in enumerate(csv.reader(handle, delimiter=delimiter), start=2):
                if not row or all(not v.strip() for v in row):
                    continue
                yield line, tuple(v if v.strip() != "" else None for v in row)

    return header, body()


def read_parquet(path: Path) -> tuple[list[str], Iterator[tuple[int, tuple]]]:
    import pyarrow.parquet as pq
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise ValidationError(f"{path.name}: not a readable Parquet file ({exc})") from None
    header = table.column_names
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    # Parquet has no lines: row 1 is reported as line 2, as if it were a CSV with a header.
    return header, ((i + 2, row) for i, row in enumerate(zip(*columns)))
