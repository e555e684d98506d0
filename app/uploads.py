"""Uploaded files that are zip containers (.docx, .xlsx): bounded before they are opened.

Issue 16 item 3 and finding M7. An Office file is a zip of XML parts; a
hostile one can be small on the wire and huge inside (a zip bomb), carry a
DTD whose entities expand to gigabytes (billion laughs) or read local files
(XXE), or — a spreadsheet — declare a million empty rows that a parser then
walks one by one. So, before python-docx or openpyxl sees a file:

1. the zip's central directory is read (no decompression): at most
   `ZIP_MAX_ENTRIES` entries, no absolute or `..` entry names, and the
   declared uncompressed size of every entry and of all of them together at
   most `ZIP_MAX_UNCOMPRESSED_BYTES` (reading never yields more than the
   declared size: zipfile stops there and a lying entry fails its CRC);
2. every XML part is streamed through expat with a handler that refuses any
   DTD (`<!DOCTYPE`), entity declaration or external entity — the rule of
   defusedxml's `forbid_dtd`, written here with the standard library so no
   package is added. Office files never carry a DTD;
3. a spreadsheet's rows are counted while streaming (every `<row>` element,
   empty ones included, and the highest row number `r`), so a file with more
   rows than the caller allows is refused before openpyxl parses it.

All of it is CPU work on bytes in memory: callers run it outside a write
transaction (`app.transactions.outside_transaction`), so no other request
waits for it. `inspect_zip` remembers its verdict for the request (by the
bytes' SHA-256), so a view can inspect a file before the write transaction
and the workflow's guard, which checks again, finds the answer ready.

`safe_file_name` (finding L3) reduces a name a browser sent to a base name
that is safe to store and to put in a Content-Disposition header.
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from xml.parsers import expat

from flask import current_app, g, has_app_context, has_request_context
from flask_babel import gettext as _

#: defaults; the config keys of the same names override them
ZIP_MAX_ENTRIES = 1000
ZIP_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
SPREADSHEET_ROW = "http://schemas.openxmlformats.org/spreadsheetml/2006/main row"
_CHUNK = 256 * 1024
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


class Refused(ValueError):
    """The file is not acceptable; the message is Chinese and says why."""


class TooManyRows(Refused):
    """A spreadsheet with more rows than allowed (counted before parsing, empty rows included)."""

    def __init__(self, limit: int):
        super().__init__(_("At most %(n)d rows per file.", n=limit))
        self.limit = limit


@dataclass(frozen=True)
class Inspected:
    """What a zip container holds, once it passed the checks."""

    names: frozenset[str]
    uncompressed: int
    #: spreadsheets: the number of `<row>` elements and the highest row number seen
    rows: int = 0
    max_row: int = 0


class _DtdFound(Exception):
    pass


class _RowsExceeded(Exception):
    pass


def _limit(name: str, default: int) -> int:
    return int(current_app.config.get(name, default)) if has_app_context() else default


def _check_directory(zf: zipfile.ZipFile, max_bytes: int) -> int:
    """Entry count, names and declared sizes, from the central directory alone."""
    infos = zf.infolist()
    if len(infos) > _limit("ZIP_MAX_ENTRIES", ZIP_MAX_ENTRIES):
        raise Refused(_("The file holds too many parts to be a document."))
    total = 0
    for info in infos:
        parts = info.filename.replace("\\", "/").split("/")
        if info.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            raise Refused(_("The file contains a part with an unsafe name."))
        if info.flag_bits & 0x1:
            raise Refused(_("Encrypted files are not accepted."))
        total += info.file_size
        if total > max_bytes:
            raise Refused(_("The file unpacks to more than %(mb)d MB; it is refused.",
                            mb=max(1, max_bytes // (1024 * 1024))))
    return total


def _looks_like_xml(head: bytes) -> bool:
    if head.startswith(_BOMS):
        return True
    return head.lstrip(b" \t\r\n").startswith(b"<")


def _scan_xml(first: bytes, part, rows: list[int] | None) -> None:
    """Stream one XML part through expat: no DTD, no entities; count spreadsheet rows into `rows`."""
    parser = expat.ParserCreate(namespace_separator=" ")

    def refuse(*_args):
        raise _DtdFound()

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    if rows is not None:
        limit = rows[2]

        def start(tag, attrs):
            if tag == SPREADSHEET_ROW:
                rows[0] += 1
                r = attrs.get("r", "")
                rows[1] = max(rows[1], int(r) if r.isdigit() and len(r) < 10 else rows[1] + 1)
                if rows[0] > limit or rows[1] > limit:
                    raise _RowsExceeded()

        parser.StartElementHandler = start
    chunk = first
    while chunk:
        parser.Parse(chunk, False)
        chunk = part.read(_CHUNK)
    parser.Parse(b"", True)


def inspect_zip(data: bytes, *, max_rows: int | None = None, max_bytes: int | None = None) -> Inspected:
    """Check an Office zip container (see the module docstring): `Refused`, or what it holds.

    `max_rows`: a spreadsheet with more rows than this (empty rows and the
    header included) is refused with `TooManyRows`. The verdict is kept for
    the rest of the request.
    """
    key = (hashlib.sha256(data).hexdigest(), max_rows, max_bytes)
    memo = _memo()
    if memo is not None and key in memo:
        result = memo[key]
        if isinstance(result, Refused):
            raise result
        return result
    try:
        result = _inspect(data, max_rows, max_bytes)
    except Refused as exc:
        if memo is not None:
            memo[key] = exc
        raise
    if memo is not None:
        memo[key] = result
    return result


def _inspect(data: bytes, max_rows: int | None, max_bytes: int | None) -> Inspected:
    if not data or not data.startswith(b"PK\x03\x04"):
        raise Refused(_("The file is not a DOCX or XLSX document."))
    max_bytes = max_bytes or _limit("ZIP_MAX_UNCOMPRESSED_BYTES", ZIP_MAX_UNCOMPRESSED_BYTES)
    rows = [0, 0, max_rows] if max_rows is not None else None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = _check_directory(zf, max_bytes)
            for info in zf.infolist():
                if info.is_dir():
                    continue
                with zf.open(info) as part:
                    first = part.read(_CHUNK)
                    if not _looks_like_xml(first[:64]):
                        continue
                    try:
                        _scan_xml(first, part, rows)
                    except _DtdFound:
                        raise Refused(_("The file contains XML with a document type or entities; it is "
                                        "refused.")) from None
                    except _RowsExceeded:
                        raise TooManyRows(max_rows) from None
                    except expat.ExpatError:
                        raise Refused(_("The file is damaged (its XML cannot be read).")) from None
            names = frozenset(i.filename for i in zf.infolist())
    # NotImplementedError: zipfile's answer to a compression method it does not support
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, RuntimeError):
        raise Refused(_("The file is damaged (it cannot be unpacked).")) from None
    if rows is not None:
        return Inspected(names, total, rows=rows[0], max_row=rows[1])
    return Inspected(names, total)


def _memo() -> dict | None:
    if not has_request_context():
        return None
    memo = g.get("_court_inspected")
    if memo is None:
        memo = g._court_inspected = {}
    return memo


# --- file names (L3) -----------------------------------------------------------

_RESERVED = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')
_SPACES = re.compile(r"\s+")


def safe_file_name(name: str | None, default: str, max_length: int = 200) -> str:
    """A name as a browser sent it, reduced to a safe base name.

    Drops any directory part (`../../x`, `C:\\fakepath\\x`), control and
    format characters (including right-to-left overrides that disguise an
    extension), characters Windows refuses, leading dots and spaces; cuts to
    `max_length` keeping the extension. Nothing left: `default`.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs"))
    text = _SPACES.sub(" ", _RESERVED.sub("_", text)).strip().lstrip(". ").rstrip(". ")
    if not text:
        return default[:max_length]
    if len(text) > max_length:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            text = stem[:max_length - len(ext) - 1] + "." + ext
        else:
            text = text[:max_length]
    return text
