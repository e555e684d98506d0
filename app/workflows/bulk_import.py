"""批量导入 court users from the Excel template the page offers [FAQ 2.1].

All or nothing: every row is checked first and every problem is reported with
its row number; only a clean file creates users, in one transaction.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook

from .. import validation, xlsx
from ..extensions import db
from ..models import CourtStaff
from . import DomainError, NotAllowed, ValidationFailed
from .actor import Actor
from .rosters import add_court_staff

COLUMNS = [_l("Name"), _l("Mobile number"), _l("Position"), _l("Administrator (yes/no)")]
YES = {"是", "yes", "y", "1", "true"}
NO = {"否", "no", "n", "0", "false", ""}


@dataclass
class Row:
    number: int
    name: str
    phone: str
    position: str | None
    is_admin: bool


def template_bytes() -> bytes:
    """The template: a header row and one example row, the phone column formatted as text."""
    return xlsx.table(_("Court users"), [str(title) for title in COLUMNS], [["张三", "13800000000", "书记员", "否"]],
                      widths=[14, 16, 18, 18], text_columns=[1])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse(data: bytes) -> list[Row]:
    """Read and check every row; raise `ValidationFailed` listing all problems."""
    if not data or not zipfile.is_zipfile(io.BytesIO(data)):
        raise DomainError(_("Upload the Excel file (.xlsx) made from the template."))
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise DomainError(_("Upload the Excel file (.xlsx) made from the template.")) from None
    ws = wb.worksheets[0]
    rows, errors, seen = [], [], {}
    max_rows = current_app.config.get("BULK_IMPORT_MAX_ROWS", 2000)
    for number, values in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        cells = [_cell(v) for v in (list(values) + [None] * 4)[:4]]
        if not any(cells):
            continue
        if len(rows) + len(errors) >= max_rows:
            raise DomainError(_("At most %(n)d rows per file.", n=max_rows))
        name, raw_phone, position, admin_flag = cells
        problems = []
        if not name:
            problems.append(_("name is missing"))
        phone = validation.normalize_phone(raw_phone)
        if not validation.is_mobile(phone):
            problems.append(_("mobile number must be 11 digits starting with 1"))
        elif phone in seen:
            problems.append(_("mobile number repeats row %(row)d", row=seen[phone]))
        else:
            seen[phone] = number
            staff = db.session.scalar(sa.select(CourtStaff).where(CourtStaff.phone == phone))
            if staff is not None:
                problems.append(_("%(phone)s is already a user of %(court)s", phone=phone,
                                  court=staff.court.name))
        flag = admin_flag.lower()
        if flag not in YES | NO:
            problems.append(_("administrator must be 是 or 否"))
        if problems:
            errors.append(_("Row %(row)d: %(problems)s", row=number, problems="；".join(problems)))
        else:
            rows.append(Row(number, name[:64], phone, position[:64] or None, flag in YES))
    wb.close()
    if errors:
        raise ValidationFailed(_("Nothing was imported. Correct these rows and upload again."), errors)
    if not rows:
        raise DomainError(_("The file has no user rows."))
    return rows


def import_users(data: bytes, actor: Actor) -> list[CourtStaff]:
    """The rows of `data` as users of the actor's court, the court's administrator only [FAQ 2.1]."""
    scope = actor.scope
    if scope.court_id is None or not scope.is_court_admin:
        raise NotAllowed(_("Import users as the administrator of a court."))
    created = []
    for row in parse(data):
        staff = CourtStaff(court_id=scope.court_id, name=row.name, phone=row.phone,
                           position=row.position, is_admin=row.is_admin)
        add_court_staff(staff, scope)
        db.session.add(staff)
        created.append(staff)
    db.session.flush()
    return created
