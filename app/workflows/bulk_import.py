"""批量导入 court users from the Excel template the page offers [FAQ 2.1].

All or nothing: every row is checked first and every problem is reported with
its row number; only a clean file creates users, in one transaction.

Two steps, so that the heavy one holds no lock (issue 16 item 3):
- `read_rows(data)` reads the file and needs no database. It is bounded
  before openpyxl sees the file (app/uploads.py): the upload's size, the
  zip's entries and unpacked size, XML without a DTD, and the rows counted —
  empty rows and the highest row number included — against
  `BULK_IMPORT_MAX_ROWS`. The view runs it outside the write transaction.
- `import_users(rows, actor)` checks the rows against the database and
  creates the users. A phone that already belongs to another court is
  reported without naming that court (finding L5: an import must not tell one
  court who works at another).
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

from .. import uploads, validation, xlsx
from ..extensions import db
from ..models import CourtStaff
from . import DomainError, NotAllowed, ValidationFailed
from .actor import Actor
from .rosters import add_court_staff, already_a_user

COLUMNS = [_l("Name"), _l("Mobile number"), _l("Position"), _l("Administrator (yes/no)")]
YES = {"是", "yes", "y", "1", "true"}
NO = {"否", "no", "n", "0", "false", ""}
#: the template's example row: shows how to fill the sheet, never imported (issue 15 item 13)
EXAMPLE = ["张三", "13800000000", "书记员", "否"]


@dataclass
class Row:
    number: int
    name: str
    phone: str
    position: str | None
    is_admin: bool
    #: what is wrong with the row by itself (the database checks come later)
    problems: list[str] = field(default_factory=list)
    #: a valid phone seen for the first time in the file: `check_rows` asks the database about it
    look_up: bool = False


def template_bytes() -> bytes:
    """The template: a header row and one example row (skipped on import), the phone column as text."""
    return xlsx.table(_("Court users"), [str(title) for title in COLUMNS], [EXAMPLE],
                      widths=[14, 16, 18, 18], text_columns=[1])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _refuse_format():
    raise DomainError(_("Upload the Excel file (.xlsx) made from the template.")) from None


def read_rows(data: bytes) -> list[Row]:
    """The file's rows with the problems each has by itself; no database (see the module docstring)."""
    config = current_app.config
    max_rows = config.get("BULK_IMPORT_MAX_ROWS", 2000)
    if len(data or b"") > config.get("BULK_IMPORT_MAX_BYTES", 5 * 1024 * 1024):
        raise DomainError(_("The file is larger than %(mb)d MB.",
                            mb=config.get("BULK_IMPORT_MAX_BYTES", 5 * 1024 * 1024) // (1024 * 1024)))
    if not data or not zipfile.is_zipfile(io.BytesIO(data)):
        _refuse_format()
    try:
        seen_rows = uploads.inspect_zip(data, max_rows=max_rows + 1,
                                        max_bytes=config.get("BULK_IMPORT_MAX_UNCOMPRESSED_BYTES",
                                                             20 * 1024 * 1024))
    except uploads.TooManyRows:
        raise DomainError(_("At most %(n)d rows per file.", n=max_rows)) from None
    except uploads.Refused as exc:
        raise DomainError(str(exc)) from None
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        _refuse_format()
    rows, seen = [], {}
    try:
        if not wb.worksheets:
            _refuse_format()
        ws = wb.worksheets[0]
        # Never past the rows counted above, whatever the sheet's <dimension> claims.
        last = min(max(seen_rows.max_row, seen_rows.rows), max_rows + 1)
        for number, values in enumerate(ws.iter_rows(min_row=2, max_row=max(last, 2), max_col=len(COLUMNS),
                                                     values_only=True), start=2):
            cells = [_cell(v) for v in (list(values) + [None] * 4)[:4]]
            if not any(cells) or cells == EXAMPLE:
                continue  # an empty row, or the template's example left in place
            rows.append(_row(number, cells, seen))
    finally:
        wb.close()
    if not rows:
        raise DomainError(_("The file has no user rows."))
    return rows


def _row(number: int, cells: list[str], seen: dict[str, int]) -> Row:
    name, raw_phone, position, admin_flag = cells
    problems, look_up = [], False
    if not name:
        problems.append(_("name is missing"))
    phone = validation.normalize_phone(raw_phone)
    if not validation.is_mobile(phone):
        problems.append(_("mobile number must be 11 digits starting with 1"))
    elif phone in seen:
        problems.append(_("mobile number repeats row %(row)d", row=seen[phone]))
    else:
        seen[phone], look_up = number, True
    flag = admin_flag.lower()
    if flag not in YES | NO:
        problems.append(_("administrator must be 是 or 否"))
    return Row(number, name[:64], phone, position[:64] or None, flag in YES, problems, look_up)


def check_rows(rows: list[Row], court_id: int) -> None:
    """Every row's problems, the database's included; `ValidationFailed` lists them all."""
    phones = [r.phone for r in rows if r.look_up]
    existing = {s.phone: s for s in db.session.scalars(sa.select(CourtStaff).where(CourtStaff.phone.in_(phones)))}
    errors = []
    for row in rows:
        problems = list(row.problems)
        staff = existing.get(row.phone) if row.look_up else None
        if staff is not None:
            problems.append(already_a_user(row.phone, staff, court_id))
        if problems:
            errors.append(_("Row %(row)d: %(problems)s", row=row.number, problems="；".join(problems)))
    if errors:
        raise ValidationFailed(_("Nothing was imported. Correct these rows and upload again."), errors)


def import_users(rows: list[Row] | bytes, actor: Actor) -> list[CourtStaff]:
    """`rows` (from `read_rows`, or the file itself) as users of the actor's court,
    the court's administrator only [FAQ 2.1]."""
    scope = actor.scope
    if scope.court_id is None or not scope.is_court_admin:
        raise NotAllowed(_("Import users as the administrator of a court."))
    if isinstance(rows, (bytes, bytearray)):
        rows = read_rows(bytes(rows))
    check_rows(rows, scope.court_id)
    created = []
    for row in rows:
        staff = CourtStaff(court_id=scope.court_id, name=row.name, phone=row.phone,
                           position=row.position, is_admin=row.is_admin)
        add_court_staff(staff, scope)
        db.session.add(staff)
        created.append(staff)
    db.session.flush()
    return created
