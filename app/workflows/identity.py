"""实名认证: a party or agent verifies their identity before signing for the first time
[FAQ 3.13, Rules art 17].

    未认证 (no row) ──提交认证 (the person: name, ID number, the ID card's two sides and a
          photo holding it; checked by content)──▶ 待审核
    待审核 ──人脸核验通过 (the platform: the face-verification adapter answered PASSED,
          app/identity_check.py)──▶ 已认证
    待审核 ──通过 (platform staff, 平台后台 › 实名审核; SMS)──▶ 已认证
    待审核 ──驳回 (platform staff, with the reason; SMS)──▶ 已驳回
    已驳回 ──提交认证 (again, new images; the old ones are deleted)──▶ 待审核

The local face adapter routes everything to 人工审核. A verified identity is
bound to the name and ID number the case records for the signer
(`signing_problem`): the party's own, its legal representative's name for an
organisation, or the agent's; a mismatch is refused with the reason, and
signing is refused until 已认证 (app/workflows/agreements.py calls it for
签署调解协议 and 签署调解笔录).

The ID images are in the file store (app/storage.py), readable only by the
person and platform staff (`may_read_images`), in no export, and deleted
`ID_IMAGE_RETENTION_DAYS` after the review (`purge_due_images`, run by `flask
worker` and `flask purge-id-images`; each deletion is an audit row
`identity.images_purged`). Functions flush, never commit.
"""
from __future__ import annotations

import datetime as dt
from typing import BinaryIO, Optional

import sqlalchemy as sa
from flask import current_app
from flask_appbuilder.security.sqla.models import User
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import audit
from ..clock import utcnow
from ..enums import AuditAction, IdentityStatus as S, SmsKind
from ..extensions import db
from ..identity_check import FaceOutcome, face_verifier
from ..models import IdentityVerification
from ..roles import Portal
from ..sms import send_sms
from ..storage import Refused, StoreError, TooLarge, delete_after_commit, delete_on_rollback, file_store
from ..validation import is_id_number, normalize_id_number
from . import NotAllowed, NotFound
from .actor import SYSTEM, Actor
from .engine import NEW, Action, Hint, Machine, Transition, flush_or_conflict

#: the images a submission carries, in the order of the form
SIDES = ("front", "back", "holding")
SIDE_LABELS = {
    "front": _l("ID card, portrait side"),
    "back": _l("ID card, national emblem side"),
    "holding": _l("Photo of you holding the ID card"),
}
IMAGES_PURGED = "identity.images_purged"

SELF = "self"  # the person, logged in through 当事人端 or 代理人端
PLATFORM = "platform"  # platform staff (平台后台)
THE_PLATFORM = "system"  # the platform acting on the face adapter's answer

ROLES = {
    SELF: lambda ident, actor: (actor.user_id is not None and actor.user_id == ident.user_id
                                and actor.scope.portal in (Portal.PARTY, Portal.AGENT)),
    PLATFORM: lambda ident, actor: actor.scope.is_platform,
    THE_PLATFORM: lambda ident, actor: actor.system,
}


# --- facts ------------------------------------------------------------------------

def verification_of(user_id: Optional[int]) -> Optional[IdentityVerification]:
    if user_id is None:
        return None
    return db.session.scalar(sa.select(IdentityVerification).where(IdentityVerification.user_id == user_id))


def status_of(user_id: Optional[int]) -> S:
    ident = verification_of(user_id)
    return ident.status if ident is not None else S.UNVERIFIED


def is_verified(user_id: Optional[int]) -> bool:
    return status_of(user_id) is S.VERIFIED


def mask(id_number: Optional[str]) -> str:
    """An ID number as a refusal shows it: the first 6 and last 4 characters."""
    if not id_number:
        return "—"
    return id_number[:6] + "*" * max(len(id_number) - 10, 0) + id_number[-4:]


def has_images(ident: IdentityVerification) -> bool:
    return any(getattr(ident, f"{side}_key") for side in SIDES)


# --- guards -----------------------------------------------------------------------

def _name_given(ident, actor, data) -> Optional[str]:
    name = (data.get("name") or "").strip()
    if not name:
        return _("Enter your name as on the ID card.")
    if len(name) > 64:
        return _("The name is at most %(n)d characters.", n=64)
    return None


def _id_number_valid(ident, actor, data) -> Optional[str]:
    if not is_id_number(normalize_id_number(data.get("id_number") or "")):
        return _("The ID number is not a valid resident ID number.")
    return None


def _images_acceptable(ident, actor, data) -> Optional[str]:
    problems = data.get("image_problems") or []
    return "；".join(str(p) for p in problems) if problems else None


def _reason_given(ident, actor, data) -> Optional[str]:
    reason = (data.get("reason") or "").strip()
    if not reason:
        return _("Give the reason for rejecting.")
    if len(reason) > 500:
        return _("The reason is at most %(n)d characters.", n=500)
    return None


# --- effects ----------------------------------------------------------------------

def _submit(ident, actor, data) -> None:
    for side in SIDES:
        old = getattr(ident, f"{side}_key")
        if old:
            delete_after_commit(db.session, old)  # a resubmission replaces the rejected images
        setattr(ident, f"{side}_key", data["stored"][side])
    ident.name = data["name"].strip()
    ident.id_number = normalize_id_number(data["id_number"])
    ident.phone = data["phone"]
    ident.submitted_at = utcnow()
    ident.reviewed_at = ident.reviewed_by_id = ident.review_reason = ident.images_purged_at = None


def _decided(ident, actor, data) -> None:
    ident.reviewed_at = utcnow()
    ident.reviewed_by_id = actor.user_id


def _approve(ident, actor, data) -> None:
    _decided(ident, actor, data)
    send_sms(ident.phone, SmsKind.NOTICE, _("Your real-name verification was "
                                            "approved. You can now sign documents in your portal."))


def _reject(ident, actor, data) -> None:
    _decided(ident, actor, data)
    ident.review_reason = data["reason"].strip()
    send_sms(ident.phone, SmsKind.NOTICE, _("Your real-name verification was "
                                            "rejected: %(reason)s. Please submit it again in your portal.",
                                            reason=ident.review_reason))


# --- the table --------------------------------------------------------------------

TRANSITIONS = [
    Transition(event="submit", label=_l("Submit real-name verification"), sources=frozenset({NEW, S.REJECTED}),
               target=S.PENDING, who=frozenset({SELF}),
               guards=(_name_given, _id_number_valid, _images_acceptable), effect=_submit),
    Transition(event="face_pass", label=_l("Face verification passed"), sources=frozenset({S.PENDING}),
               target=S.VERIFIED, who=frozenset({THE_PLATFORM}), effect=_decided),
    Transition(event="approve", label=_l("Approve"), sources=frozenset({S.PENDING}), target=S.VERIFIED,
               who=frozenset({PLATFORM}), effect=_approve),
    Transition(event="reject", label=_l("Reject"), sources=frozenset({S.PENDING}), target=S.REJECTED,
               who=frozenset({PLATFORM}), guards=(_reason_given,), effect=_reject),
]

HINTS = {
    "submit": Hint(fields=("name", "id_number") + SIDES, required=("name", "id_number") + SIDES,
                   css="btn-primary"),
    "approve": Hint(css="btn-primary"),
    "reject": Hint(fields=("reason",), required=("reason",), css="btn-warning"),
}

MACHINE = Machine(name="identity", transitions=TRANSITIONS, roles=ROLES, hints=HINTS,
                  noun=_l("real-name verification"))


def available_identity_actions(ident: Optional[IdentityVerification], actor: Actor) -> list[Action]:
    """What `actor` may do to a person's verification now (`ident=None`: the actor's own, not
    submitted yet): the buttons of the portal page and of 实名审核."""
    subject = ident if ident is not None else IdentityVerification(user_id=actor.user_id)
    return MACHINE.available(subject, actor)


# --- operations -------------------------------------------------------------------

EMPTY = "empty"


def _check_image(head: bytes) -> None:
    """A JPEG or PNG by its content (ASVS 12.2.1), never by its name."""
    if not head:
        raise Refused(EMPTY)
    if not (head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n")):
        raise Refused("not an image")


def _store_images(files: dict) -> tuple[dict, list[str]]:
    """Each side's upload into the file store (removed again if the transaction rolls back)."""
    store, limit = file_store(), current_app.config.get("ID_IMAGE_MAX_BYTES", 5 * 1024 * 1024)
    stored, problems = {}, []
    for side in SIDES:
        label = str(SIDE_LABELS[side])
        stream: Optional[BinaryIO] = files.get(side)
        if stream is None:
            problems.append(_("upload the %(side)s", side=label))
            continue
        try:
            item = store.put(stream, prefix="identity", suffix=".img", limit=limit, check=_check_image)
        except TooLarge:
            problems.append(_("%(side)s: the image is larger than %(mb)d MB", side=label,
                              mb=limit // (1024 * 1024)))
            continue
        except Refused as exc:
            problems.append(_("upload the %(side)s", side=label) if str(exc) == EMPTY else
                            _("%(side)s: only JPG or PNG images are accepted", side=label))
            continue
        except StoreError:
            problems.append(_("%(side)s: the image could not be stored", side=label))
            continue
        delete_on_rollback(db.session, item.key)
        stored[side] = item.key
    return stored, problems


def submit(actor: Actor, name: str, id_number: str, files: dict) -> IdentityVerification:
    """提交认证 (or resubmit after 驳回): the images go to the file store, the submission to the
    face adapter, which either verifies it or leaves it for 人工审核 (the local default)."""
    ident = verification_of(actor.user_id)
    subject = ident if ident is not None else IdentityVerification(user_id=actor.user_id)
    if not ROLES[SELF](subject, actor):
        raise NotAllowed(_("Only a party or an agent verifies their own identity, in their portal."))
    user = db.session.get(User, actor.user_id)
    stored, problems = _store_images(files) if MACHINE.state_of(subject) in MACHINE["submit"].sources \
        else ({}, [])
    data = dict(name=name, id_number=id_number, stored=stored, image_problems=problems, phone=user.username)
    if ident is None:
        MACHINE.create(subject, "submit", actor, **data)
    else:
        MACHINE.apply(ident, "submit", actor, **data)
    result = face_verifier().check(subject.name, subject.id_number, _read(subject.holding_key))
    if result.outcome is FaceOutcome.PASSED:
        MACHINE.apply(subject, "face_pass", SYSTEM)
    return subject


def _read(key: Optional[str]) -> bytes:
    if not key:
        return b""
    return b"".join(file_store().iter_range(key))


def review(ident: IdentityVerification, event: str, actor: Actor, reason: str = "",
           expected_version: Optional[int] = None) -> IdentityVerification:
    """通过 or 驳回 in 平台后台 › 实名审核; the person is told by SMS either way."""
    if event not in ("approve", "reject"):
        raise NotFound(_("Unknown operation."))
    return MACHINE.apply(ident, event, actor, expected_version, reason=reason)


def review_queue(limit: int = 200) -> list[IdentityVerification]:
    """实名审核: the submissions waiting first (oldest first), then the decided ones, newest first."""
    pending = IdentityVerification.status == S.PENDING
    return list(db.session.scalars(sa.select(IdentityVerification).order_by(
        pending.desc(), sa.case((pending, IdentityVerification.submitted_at), else_=None).asc(),
        IdentityVerification.reviewed_at.desc(), IdentityVerification.id.desc()).limit(limit)))


def may_read_images(ident: IdentityVerification, actor: Actor) -> bool:
    """Only the person (in their portal) and platform staff; never the mediator, the court or
    another party [FAQ 3.13]."""
    return ROLES[SELF](ident, actor) or ROLES[PLATFORM](ident, actor)


def purge_due_images(now: Optional[dt.datetime] = None) -> int:
    """Delete the ID images of every verification reviewed more than `ID_IMAGE_RETENTION_DAYS`
    ago (the files once the transaction commits); one audit row per person. Returns how many."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=int(current_app.config.get("ID_IMAGE_RETENTION_DAYS", 30)))
    due = db.session.scalars(sa.select(IdentityVerification).where(
        IdentityVerification.status.in_([S.VERIFIED, S.REJECTED]),
        IdentityVerification.reviewed_at.is_not(None), IdentityVerification.reviewed_at <= cutoff,
        sa.or_(*(getattr(IdentityVerification, f"{side}_key").is_not(None) for side in SIDES)))).all()
    for ident in due:
        for side in SIDES:
            key = getattr(ident, f"{side}_key")
            if key:
                delete_after_commit(db.session, key)
                setattr(ident, f"{side}_key", None)
        ident.images_purged_at = now
        audit.record(db.session, ident, AuditAction.DELETE, IMAGES_PURGED,
                     {"status": ident.status.name, "reviewed_at": ident.reviewed_at.isoformat()})
        audit.skip_generic_audit(ident)
    flush_or_conflict()
    return len(due)


# --- the binding to the case (called by app/workflows/agreements.py) ------------------

def signing_problem(user_id: Optional[int], people: list[tuple[str, Optional[str]]]) -> Optional[str]:
    """Why the person logged in as `user_id` may not sign for `people` — (name, ID number) as the
    case records each signer — or None: verified, and the same name and ID number [Rules art 17]."""
    ident = verification_of(user_id)
    if ident is None or ident.status is not S.VERIFIED:
        state = ident.status if ident is not None else S.UNVERIFIED
        return _("Complete real-name verification before signing (now: %(status)s): open "
                 "“Real-name verification” in your portal.", status=state.label)
    for name, id_number in people:
        same_name = (name or "").strip() == ident.name
        same_id = not id_number or normalize_id_number(id_number) == ident.id_number
        if not (same_name and same_id):
            return _("Your verified identity (%(name)s, ID %(id)s) does not match the signer this case "
                     "records (%(case_name)s, ID %(case_id)s), so you cannot sign. Ask the mediator to "
                     "check the party information.", name=ident.name, id=mask(ident.id_number),
                     case_name=(name or "—"), case_id=mask(id_number))
    return None
