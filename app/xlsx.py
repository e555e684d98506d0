"""Every Excel workbook the platform writes: rosters and case lists [FAQ 2.4], the
court-user import template [FAQ 2.1], the statistics report and its case rows (SPEC §6).

One place decides how a workbook is opened and looks:
- a cell is what it is written as: text never becomes a formula, a link or a
  number (a party called `=HYPERLINK(...)` stays text — export injection);
  callers write strings with `write_string` and numbers with `write_number`;
- one header style; every column at least as wide as its header; the header
  row frozen; printed landscape on A4, one page wide, the title and header
  repeated on every page;
- `constant_memory` for an export written to a file row by row (xlsxwriter then
  keeps one row in memory, however many rows);
- the download keeps its Chinese file name (RFC 5987 `filename*`).
"""
from __future__ import annotations

import io
import unicodedata
from typing import Iterable, Optional, Union
from urllib.parse import quote

import xlsxwriter
from flask import Response

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: text stays text, whatever it looks like
_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
DEFAULT_WIDTH = 18


def open_workbook(target: Union[str, io.BytesIO], constant_memory: bool = False) -> xlsxwriter.Workbook:
    """A workbook writing to a path or a BytesIO; `constant_memory` only applies to a path."""
    in_memory = isinstance(target, io.BytesIO)
    return xlsxwriter.Workbook(target, {**_OPTIONS, "in_memory": in_memory,
                                        "constant_memory": constant_memory and not in_memory})


def formats(wb: xlsxwriter.Workbook) -> dict:
    """The formats every workbook uses, by name."""
    f = wb.add_format
    return {
        "title": f({"bold": True, "font_size": 14, "align": "center"}),
        "meta": f({"font_color": "#555555"}),
        "head": f({"bold": True, "bg_color": "#F2DCDB", "border": 1, "text_wrap": True}),
        "text": f({"num_format": "@"}),
        "bold": f({"bold": True}),
        "count": f({"num_format": "0"}),
        "count_bold": f({"num_format": "0", "bold": True}),
        "rate": f({"num_format": "0.0%"}),
        "rate_bold": f({"num_format": "0.0%", "bold": True}),
        "days": f({"num_format": "0.0"}),
        "days_bold": f({"num_format": "0.0", "bold": True}),
        "money": f({"num_format": "#,##0.00"}),
        "date": f({"num_format": "yyyy-mm-dd"}),
        "datetime": f({"num_format": "yyyy-mm-dd hh:mm"}),
    }


def sheet_name(title: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31]


A4 = 9  # xlsxwriter's paper code


def text_width(text: str) -> int:
    """Excel's column width the text needs: a Chinese character takes two digits' width."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_header(ws, fmt: dict, row: int, heads: list[str], widths: Iterable[Optional[int]] = (),
                 column_formats: Optional[dict] = None) -> int:
    """The header row at `row` with its column widths (and a column's format, e.g. text), frozen;
    the sheet prints landscape on A4, one page wide, with the rows down to the header on every page."""
    widths = list(widths)
    for c, head in enumerate(heads):
        width = widths[c] if c < len(widths) and widths[c] else DEFAULT_WIDTH
        ws.set_column(c, c, max(width, text_width(head) + 2), (column_formats or {}).get(c))
        ws.write_string(row, c, head, fmt["head"])
    ws.freeze_panes(row + 1, 0)
    ws.set_landscape()
    ws.set_paper(A4)
    ws.repeat_rows(0, row)
    ws.fit_to_pages(1, 0)
    return row


def write_heading(ws, fmt: dict, title: str, meta: list[str], heads: list[str], widths: list[int]) -> int:
    """A report's title, one line of meta (period, who, when) and the header; returns the header's row."""
    ws.merge_range(0, 0, 0, len(heads) - 1, title, fmt["title"])
    ws.merge_range(1, 0, 1, len(heads) - 1, "    ".join(meta), fmt["meta"])
    return write_header(ws, fmt, 2, heads, widths)


def table(title: str, heads: list[str], rows: Iterable[Iterable], widths: Iterable[Optional[int]] = (),
          text_columns: Iterable[int] = ()) -> bytes:
    """One sheet: the header, then every cell as text (a roster, a case list, a template).

    `text_columns` are formatted as text for what a user types in later (a phone stays a phone)."""
    buf = io.BytesIO()
    wb = open_workbook(buf)
    ws = wb.add_worksheet(sheet_name(title))
    fmt = formats(wb)
    write_header(ws, fmt, 0, heads, widths, {c: fmt["text"] for c in text_columns})
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            ws.write_string(r, c, "" if value is None else str(value))
    wb.close()
    return buf.getvalue()


def response(data: bytes, filename: str) -> Response:
    """The workbook as a download named `filename` (Chinese kept; `export.xlsx` for old clients)."""
    resp = Response(data, mimetype=MIMETYPE)
    resp.headers["Content-Disposition"] = f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(filename)}"
    return resp
