"""证据 of a case: uploaded by a party, 已核验 by the mediator [FAQ 5.1(3); the real platform's 核验比对].

    (new) ──上传证据 (a party or agent of the case, or the applicant with the application;
                      PDF / PNG / JPEG checked by content; until 申请结案)──▶ 待核验
    待核验 ──核验 (the case's mediator)──▶ 已核验

Who reads it: the case's parties and agents, its mediator and its court's staff
(`may_read`); nobody else, not even another court [Rules art 8; STYLE §7].

The bytes are in the file store (app/storage.py), streamed with a size limit
(`EVIDENCE_MAX_BYTES`, default 20 MB) and refused by their first bytes when
they are not a PDF or an image; a refused or rolled-back upload leaves no file.
"""
from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from flask import current_app
from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..clock import utcnow
from ..enums import EvidenceStatus as S
from ..extensions import db
from ..models import Case, CaseAgent, CaseParty, Evidence
from ..roles import Portal
from ..storage import Refused, TooLarge, delete_on_rollback, file_store
from . import DomainError
from .actor import Actor
from .case_intake import LOCKED
from .engine import NEW, Hint, Machine, Transition

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
PREFIX = "evidence"
KINDS = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}


def max_bytes() -> int:
    return int(current_app.config.get("EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def kind_of(head: bytes) -> Optional[str]:
    """The evidence's type by its content, never by its name."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    return None


def _check(head: bytes) -> None:
    if not head:
        raise Refused(_("The file is empty."))
    if kind_of(head) is None:
        raise Refused(_("Evidence is a PDF or an image (JPG, PNG)."))


# --- who ---------------------------------------------------------------------------

def login_phone(actor: Actor) -> Optional[str]:
    if actor.user_id is None:
        return None
    return db.session.scalar(sa.select(User.username).where(User.id == actor.user_id))


def party_of(case: Case, actor: Actor) -> Optional[CaseParty]:
    """The party of `case` the actor is (a party by its login phone) or acts for (its agent)."""
    portal = actor.scope.portal
    if portal not in (Portal.PARTY, Portal.AGENT):
        return None
    phone = login_phone(actor)
    if not phone:
        return None
    for party in case.parties:
        if portal is Portal.PARTY and party.phone == phone:
            return party
        if portal is Portal.AGENT and any(a.phone == phone for a in party.agents):
            return party
    return None


def may_read(case: Case, actor: Actor) -> bool:
    """The case's parties and agents, its mediator, its court."""
    return (party_of(case, actor) is not None or actor.is_mediator_of(case) or actor.is_court_staff_of(case)
            or actor.scope.is_platform)


def may_upload(case: Case, actor: Actor) -> bool:
    """A party or agent of the case, until 申请结案: the upload form shows."""
    return party_of(case, actor) is not None and case.status not in LOCKED


PARTY = "party"
MEDIATOR = "mediator"

ROLES = {
    PARTY: lambda ev, actor: party_of(ev.case, actor) is not None,
    MEDIATOR: lambda ev, actor: actor.is_mediator_of(ev.case),
}


# --- guards ------------------------------------------------------------------------

def _case_open(ev, actor, data) -> Optional[str]:
    if ev.case.status in LOCKED:
        return _("Evidence is uploaded until the case is %(status)s.", status=ev.case.status.label)
    return None


def _named(ev, actor, data) -> Optional[str]:
    return None if (data.get("file_name") or "").strip() else _("Choose a file to upload.")


def _store(ev, actor, data):
    try:
        stored = file_store().put(data["stream"], prefix=PREFIX, limit=max_bytes(), check=_check)
    except TooLarge:
        raise DomainError(_("The file is larger than %(mb)d MB.", mb=max_bytes() // (1024 * 1024)))
    except Refused as exc:
        raise DomainError(str(exc))
    delete_on_rollback(db.session, stored.key)
    head = b"".join(file_store().iter_range(stored.key, 0, 15))
    ext = kind_of(head)
    name = data["file_name"].strip().replace("\\", "/").rsplit("/", 1)[-1][:200]
    ev.file_key, ev.size, ev.sha256 = stored.key, stored.size, stored.sha256
    ev.file_name = name if name.lower().endswith("." + ext) else f"{name}.{ext}"[:200]
    ev.content_type = KINDS[ext]
    party = party_of(ev.case, actor)
    ev.party_id = party.id if party is not None else None
    ev.uploaded_by_id = actor.user_id
    ev.uploaded_by_name = (data.get("uploader_name") or (party.name if party else ""))[:100]


def _verify(ev, actor, data):
    ev.verified_by_id = actor.user_id
    ev.verified_at = utcnow()


TRANSITIONS = [
    Transition(event="upload", label=_l("Upload evidence"), sources=frozenset({NEW}), target=S.SUBMITTED,
               who=frozenset({PARTY}), guards=(_case_open, _named), effect=_store),
    Transition(event="verify", label=_l("Mark as verified"), sources=frozenset({S.SUBMITTED}), target=S.VERIFIED,
               who=frozenset({MEDIATOR}), effect=_verify),
]

HINTS = {"verify": Hint(css="btn-primary")}

MACHINE = Machine(name="evidence", transitions=TRANSITIONS, roles=ROLES, hints=HINTS, noun=_l("evidence"))


def upload(case: Case, actor: Actor, stream, file_name: str, uploader_name: str = "") -> Evidence:
    """A party (or agent) of `case` adds a piece of evidence."""
    ev = Evidence(case=case, file_key="", file_name="", content_type="", sha256="")
    return MACHINE.create(ev, "upload", actor, stream=stream, file_name=file_name, uploader_name=uploader_name)


def verify(ev: Evidence, actor: Actor, expected_version: Optional[int] = None) -> Evidence:
    return MACHINE.apply(ev, "verify", actor, expected_version)


def available(ev: Evidence, actor: Actor):
    return MACHINE.available(ev, actor)


def of_case(case: Case) -> list[Evidence]:
    return db.session.scalars(sa.select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)).all()


def readable(ev_id: int, actor: Actor) -> Optional[Evidence]:
    """Evidence `ev_id` if the actor may read it, else None (a 404 for the screen)."""
    ev = db.session.get(Evidence, ev_id)
    if ev is None or not may_read(ev.case, actor):
        return None
    return ev


def agents_of(case: Case) -> list[CaseAgent]:
    return [a for p in case.parties for a in p.agents]
