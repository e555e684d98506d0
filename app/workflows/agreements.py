"""Agreements, transcripts and signatures [FAQ 3.9–3.11, 3.14; SPEC §3.2, §8; CPL arts 61, 62].

The case's status gates every operation here; a document's own stage is its
timestamps (pushed, sent for signature, confirmation started) and its
signatures. So the process is a `Machine` over the case whose transitions
keep the case's state, as 延长调解期限 does; the moves of the state itself
(申请结案, 取消申请结案, 继续调解, the automatic 调解结束) are the lifecycle's
(app/workflows/case_lifecycle.py), which calls the hooks at the bottom.

    调解中 (mediator of the case)
      生成调解协议 / 上传调解协议 ──▶ a new version v1, v2 … (a draft)          [FAQ 3.9, 3.11 注意(1)]
      latest version ──推送当事人预览──▶ pushed: parties read, cannot sign (again: allowed) [FAQ 3.9(2)]
      latest version, not signed yet ──扫码签字──▶ QR token (single use, 10 min, bound to the
            version's SHA-256) ──调解员签字 (the phone)──▶ signed by the mediator  [FAQ 3.9(3)]
      上传调解笔录 (DOC, DOCX, PNG, JPG) ──▶ transcript                          [FAQ 3.10]
      transcript ──扫码签字 / 调解员签字──▶ signed by the mediator ──发起笔录确认──▶ open to the parties
      transcript open to the parties ──签署调解笔录 (party, or its 特别授权代理人)──▶ signed
    调解中 ──申请结案 (lifecycle; guard: the mediator signed the latest version)──▶ 申请结案:
            the latest version goes to the parties for signature (`send_for_signature`)
    申请结案
      latest version sent for signature ──签署调解协议 (party, or its 特别授权代理人;
            a 一般代理人 is refused, CPL art 62)──▶ signed; the last one: `party_sign` returns
            True and the lifecycle applies all_signed ──▶ 调解结束               [FAQ 3.11, 3.14]
    申请结案 ──取消申请结案──▶ 调解中: the parties' signatures on that version are void [FAQ 3.12]
    申请结案 / 调解结束 / 调解终止 ──继续调解──▶ 调解中: agreements, transcripts and their
            signatures are deleted                                              [FAQ 3.9(4)]
    Transcripts are refused from 申请结案 on [FAQ 3.10]; a party has at most two agents (CPL
    art 61, app/workflows/case_intake.py). A party or agent signs only with a verified identity
    matching the case (实名认证, app/workflows/identity.py) [FAQ 3.13, Rules art 17].

Every operation takes the acting `Actor` and the engine checks state, who and
every guard (all refusals together) before it changes anything; one audit row
per operation (`agreement.<event>`). The mediator's phone has no login: the
QR token names the mediator who acts (`token_actor`). A signature stores the
image, signer, role, time, IP, user agent and the SHA-256 of the exact bytes
signed. Functions flush, never commit.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import secrets
import zipfile
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import audit, uploads
from ..clock import utcnow
from ..documents.agreement import agreement_context, render_agreement
from ..enums import AgentType, CaseStatus as S, DocumentKind, PartyKind, SignerRole, SmsKind
from ..extensions import db
from ..models import Agreement, Case, CaseAgent, CaseParty, Mediator, Signature, SigningToken, Transcript
from ..roles import AGENT as AGENT_ROLE
from ..roles import PARTY as PARTY_ROLE
from ..roles import Portal
from ..security import Scope
from ..sms import send_sms
from ..storage import delete_after_commit, put_bytes
from . import DomainError, NotAllowed, identity
from .accounts import ensure_account
from .actor import Actor
from .case_intake import missing_party_fields
from .engine import Action, Hint, Machine, Transition, insert_or_conflict

TOKEN_MINUTES = 10
AGREEMENT_TYPES = ("docx", "doc", "pdf")
TRANSCRIPT_TYPES = ("docx", "doc", "png", "jpg")
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
}
MAX_SIGNATURE_BYTES = 512 * 1024
MODELS = {DocumentKind.AGREEMENT: Agreement, DocumentKind.TRANSCRIPT: Transcript}

# the names `who` uses, and who holds them
MEDIATOR = "mediator"  # the case's mediator, or a mediator of the organisation it went to
PARTY = "party"  # logged in through 当事人端 with a party's phone
AGENT = "agent"  # logged in through 代理人端 with an agent's phone


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def kind_of(document) -> DocumentKind:
    return DocumentKind.AGREEMENT if isinstance(document, Agreement) else DocumentKind.TRANSCRIPT


# --- who ------------------------------------------------------------------------

def login_phone(actor: Actor) -> Optional[str]:
    """The phone a party or agent logged in with (the account name is the phone [FAQ 1.1])."""
    if actor.user_id is None or actor.scope.portal not in (Portal.PARTY, Portal.AGENT):
        return None
    user = current_app.appbuilder.sm.get_user_by_id(actor.user_id)
    return user.username if user is not None else None


def signer_identities(case: Case, phone: str, as_agent: bool) -> list[tuple[CaseParty, CaseAgent | None]]:
    """The parties this login may act for in `case`: itself, or those it represents."""
    result = []
    for party in case.parties:
        if not as_agent and party.phone == phone:
            result.append((party, None))
        if as_agent:
            result.extend((party, agent) for agent in party.agents if agent.phone == phone)
    return result


def identities_of(case: Case, actor: Actor) -> list[tuple[CaseParty, CaseAgent | None]]:
    """Whom `actor` stands for in `case`: none unless logged in as a party or an agent of it."""
    phone = login_phone(actor)
    if phone is None:
        return []
    return signer_identities(case, phone, actor.scope.portal is Portal.AGENT)


def token_actor(token: SigningToken) -> Actor:
    """The mediator a QR token was issued to: who acts on the phone's signing page."""
    mediator = db.session.get(Mediator, token.mediator_id)
    return Actor(mediator.user_id, Scope(portal=Portal.MEDIATOR, mediator_id=mediator.id),
                 mediator.organisation_id)


ROLES = {
    MEDIATOR: lambda case, actor: actor.is_mediator_of(case),
    PARTY: lambda case, actor: any(agent is None for _p, agent in identities_of(case, actor)),
    AGENT: lambda case, actor: any(agent is not None for _p, agent in identities_of(case, actor)),
}


# --- facts ----------------------------------------------------------------------

def latest_agreement(case: Case) -> Agreement | None:
    return db.session.scalar(
        sa.select(Agreement).where(Agreement.case_id == case.id).order_by(Agreement.version.desc()).limit(1)
    )


def _next_version(case: Case) -> int:
    current = db.session.scalar(sa.select(sa.func.max(Agreement.version)).where(Agreement.case_id == case.id))
    return (current or 0) + 1


def is_latest(case: Case, document) -> bool:
    """A transcript, or the case's latest agreement version."""
    if not isinstance(document, Agreement):
        return True
    latest = latest_agreement(case)
    return latest is not None and latest.id == document.id


def mediator_signed(document) -> bool:
    return any(s.role is SignerRole.MEDIATOR and s.document_sha256 == document.sha256
               for s in document.signatures)


def party_signed(document, party: CaseParty) -> bool:
    return any(s.party_id == party.id for s in document.signatures)


def everyone_signed(case: Case, document) -> bool:
    """The mediator and every party (itself or by its special agent) signed this version [FAQ 3.11]."""
    return mediator_signed(document) and all(party_signed(document, p) for p in case.parties)


def signed_for(case: Case, document, actor: Actor) -> bool:
    """Every party `actor` stands for has signed `document`."""
    identities = identities_of(case, actor)
    return bool(identities) and all(party_signed(document, p) for p, _a in identities)


def open_to_parties(document) -> bool:
    """Parties may read it: pushed as a preview, sent for signature, or sent for confirmation."""
    if isinstance(document, Agreement):
        return document.pushed_at is not None or document.for_signature_at is not None
    return document.confirmation_started_at is not None


def documents_for_parties(case: Case) -> list:
    """What the portal shows of a case: its latest agreement parties may read, and the
    transcripts sent for confirmation."""
    shown = []
    for agreement in db.session.scalars(sa.select(Agreement).where(Agreement.case_id == case.id)
                                        .order_by(Agreement.version.desc())):
        if open_to_parties(agreement):
            shown.append(agreement)
            break
    shown.extend(t for t in db.session.scalars(sa.select(Transcript).where(Transcript.case_id == case.id)
                                               .order_by(Transcript.id))
                 if open_to_parties(t))
    return shown


def stage_label(document) -> str:
    """Where a document is in its process, for its row on the case page."""
    if isinstance(document, Agreement):
        if document.for_signature_at:
            return _("Sent for signature")
        return _("Pushed for reading") if document.pushed_at else _("Draft")
    if document.confirmation_started_at is None:
        return _("Uploaded")
    # [FAQ 3.10]: the mediator and every party (or its special agent) signed the transcript
    return _("Transcript confirmed") if everyone_signed(document.case, document) else _("Confirmation started")


def missing_for_generation(case: Case, content: dict) -> list[str]:
    problems = list(missing_party_fields(case))
    if not case.parties:
        problems.append(_("the parties"))
    if not (case.summary or "").strip():
        problems.append(_("dispute summary"))
    if not any(t.strip() for t in (content.get("terms") or "").splitlines()):
        problems.append(_("the agreed terms"))
    return problems


# --- files ----------------------------------------------------------------------

def sniff(data: bytes) -> str | None:
    """The file type by its content (ASVS 12.2.1), never by its name."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names and "[Content_Types].xml" in names:
            return "docx"
    return None


def upload_problem(data: bytes, allowed: tuple[str, ...]) -> str | None:
    """Why an upload is not acceptable (empty, too large, not of an allowed type, a .docx that is a zip
    bomb or carries a DTD — finding M7), or None.

    The .docx check unpacks every XML part (app/uploads.py): a view runs this once outside the write
    transaction; the guard's second call finds the verdict kept for the request.
    """
    if not data:
        return _("The file is empty.")
    limit = current_app.config.get("DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
    if len(data) > limit:
        return _("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024))
    kind = sniff(data)
    if kind not in allowed:
        return _("Only %(types)s files are accepted; this file's content is not one of them.",
                 types="、".join(t.upper() for t in allowed))
    if kind == "docx":
        try:
            uploads.inspect_zip(data)
        except uploads.Refused as exc:
            return str(exc)
    return None


def stored_name(file_name: str | None, kind: str, default_stem: str) -> str:
    """The name a document is stored and downloaded under: a safe base name (finding L3) ending in the
    extension of what the file really is."""
    name = uploads.safe_file_name(file_name, f"{default_stem}.{kind}", max_length=200 - len(kind) - 1)
    endings = (".jpg", ".jpeg") if kind == "jpg" else ("." + kind,)
    return name if name.lower().endswith(endings) else f"{name}.{kind}"


def image_from_data_url(data_url: str | None) -> bytes | None:
    """The PNG a signature pad posts (`data:image/png;base64,…`), or None when it is not one."""
    prefix = "data:image/png;base64,"
    if not data_url or not data_url.startswith(prefix):
        return None
    try:
        image = base64.b64decode(data_url[len(prefix):], validate=True)
    except ValueError:
        return None
    return image if _is_signature_image(image) else None


def _is_signature_image(image: bytes | None) -> bool:
    return bool(image) and image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) <= MAX_SIGNATURE_BYTES


# --- guards: each returns None or a translated reason ---------------------------
# Those about the document itself also decide the buttons (`available_document_actions`);
# those about what a form posts (the terms, the file, the drawing) only run when it is posted.

def _a_document(*kinds: DocumentKind):
    models = tuple(MODELS[k] for k in kinds)

    def guard(case, actor, data) -> Optional[str]:
        document = data.get("document")
        if not isinstance(document, models) or document.case_id != case.id:
            return _("There is no such document in this case.")
        return None

    return guard


_AGREEMENT = _a_document(DocumentKind.AGREEMENT)
_TRANSCRIPT = _a_document(DocumentKind.TRANSCRIPT)
_EITHER = _a_document(DocumentKind.AGREEMENT, DocumentKind.TRANSCRIPT)


def _latest(message):
    def guard(case, actor, data) -> Optional[str]:
        document = data.get("document")
        if isinstance(document, Agreement) and document.case_id == case.id and not is_latest(case, document):
            return str(message)
        return None

    return guard


def _mediator_not_signed(case, actor, data) -> Optional[str]:
    document = data.get("document")
    if document is not None and mediator_signed(document):
        return _("The mediator has already signed this version.")
    return None


def _mediator_signed_first(case, actor, data) -> Optional[str]:
    """[FAQ 3.10]: the mediator signs the transcript before the parties are asked to."""
    document = data.get("document")
    if document is not None and not mediator_signed(document):
        return _("Sign the transcript first (scan the QR code), then start the confirmation.")
    return None


def _confirmation_not_started(case, actor, data) -> Optional[str]:
    document = data.get("document")
    if isinstance(document, Transcript) and document.confirmation_started_at is not None:
        return _("The confirmation of this transcript has already started.")
    return None


def _sent_for_signature(case, actor, data) -> Optional[str]:
    """[FAQ 3.9(2), 3.11]: a preview is read, not signed; the latest version is signed after 申请结案."""
    document = data.get("document")
    if isinstance(document, Agreement) and (document.for_signature_at is None or not is_latest(case, document)):
        return _("This document is open for reading only; it can be signed after the mediator sends it for "
                 "signature.")
    return None


def _confirmation_started(case, actor, data) -> Optional[str]:
    document = data.get("document")
    if isinstance(document, Transcript) and document.confirmation_started_at is None:
        return _("The mediator has not sent this transcript for confirmation yet.")
    return None


def _specially_authorised(case, actor, data) -> Optional[str]:
    """CPL art 62: settling for a party needs special authorisation; a general agent never signs."""
    identities = identities_of(case, actor)
    if identities and all(a is not None and a.agent_type is not AgentType.SPECIAL for _p, a in identities):
        if isinstance(data.get("document"), Transcript):
            return _("A general agent cannot sign the mediation transcript. The party itself or a specially "
                     "authorised agent must sign it.")
        return _("A general agent cannot sign the mediation agreement. The party itself or a specially "
                 "authorised agent must sign it.")
    return None


def _verified_signer(case, actor, data) -> Optional[str]:
    """[FAQ 3.13, Rules art 17]: a party or agent signs only once verified, as the person the case
    records: the party (an organisation: its legal representative) or the agent."""
    people = [(a.name, a.id_number) if a is not None else
              (p.legal_representative, None) if p.kind is PartyKind.ORGANISATION else (p.name, p.id_number)
              for p, a in _may_sign_for(case, actor)]
    return identity.signing_problem(actor.user_id, people) if people else None


def _not_signed_yet(case, actor, data) -> Optional[str]:
    document = data.get("document")
    allowed = _may_sign_for(case, actor)
    if document is not None and allowed and all(party_signed(document, p) for p, _a in allowed):
        return _("Already signed.")
    return None


def _token_matches(case, actor, data) -> Optional[str]:
    """The QR was shown for exactly these bytes; a new version or a changed file needs a new QR."""
    token, document = data.get("token"), data.get("document")
    if document is None:
        return None  # `_a_document` says so
    if (token is None or token.document_sha256 != document.sha256 or kind_of(document) is not token.kind
            or token.document_id != document.id):
        return _("The document changed after the QR code was shown; show a new QR code.")
    return None


def _drawn(case, actor, data) -> Optional[str]:
    return None if _is_signature_image(data.get("image")) else _("Draw your signature first.")


def _complete_for_generation(case, actor, data) -> Optional[str]:
    problems = missing_for_generation(case, data.get("content") or {})
    if problems:
        return _("The agreement cannot be generated. Missing: %(problems)s", problems="；".join(problems))
    return None


def _acceptable(allowed: tuple[str, ...]):
    def guard(case, actor, data) -> Optional[str]:
        return upload_problem(data.get("data") or b"", allowed)

    return guard


# --- effects ----------------------------------------------------------------------

def _suffix(body: bytes) -> str:
    kind = sniff(body)
    return f".{kind}" if kind else ""


def _signature_image(data) -> str:
    """The drawn PNG into the store; the key for the Signature row."""
    return put_bytes(db.session, data["image"], prefix="signatures", suffix=".png").key


def _forget_files(session, document) -> None:
    """A deleted document's and its signatures' files go once the deletion commits."""
    delete_after_commit(session, document.file_key)
    for signature in document.signatures:
        delete_after_commit(session, signature.image_key)


def _new_agreement(case, actor, body: bytes, file_name: str | None, **fields) -> None:
    """The next version; two made at once meet the (case, version) key and the second is a Conflict."""
    version = _next_version(case)
    name = file_name or f"调解协议书（第{version}版）.docx"
    stored = put_bytes(db.session, body, prefix="agreements", suffix=_suffix(body))
    insert_or_conflict(Agreement(case=case, version=version, file_name=name[:200], file_key=stored.key,
                                 size=stored.size, sha256=stored.sha256, created_by_id=actor.user_id, **fields),
                       _("The case was changed by someone else. Reload the page and try again."))


def _generate(case, actor, data) -> None:
    body = render_agreement(agreement_context(case, data["content"]), current_app.config.get("AGREEMENT_TEMPLATE"))
    _new_agreement(case, actor, body, None, generated=True, content=data["content"],
                   content_type=CONTENT_TYPES["docx"])


def _upload(case, actor, data) -> None:
    kind = sniff(data["data"])
    _new_agreement(case, actor, data["data"], stored_name(data.get("file_name"), kind, "调解协议"),
                   generated=False, content=None, content_type=CONTENT_TYPES[kind])


def _push(case, actor, data) -> None:
    agreement = data["document"]
    agreement.pushed_at = utcnow()
    notify_parties(case, _("The draft mediation agreement (version %(v)d) of case "
                           "%(number)s is ready to read in your portal.", v=agreement.version, number=str(case)))


def _upload_transcript(case, actor, data) -> None:
    body = data["data"]
    kind = sniff(body)
    stored = put_bytes(db.session, body, prefix="transcripts", suffix=_suffix(body))
    db.session.add(Transcript(case=case, file_name=stored_name(data.get("file_name"), kind, "调解笔录"),
                              content_type=CONTENT_TYPES[kind], file_key=stored.key, size=stored.size,
                              sha256=stored.sha256))


def _confirm_transcript(case, actor, data) -> None:
    data["document"].confirmation_started_at = utcnow()
    notify_parties(case, _("Please confirm and sign the mediation transcript of case "
                           "%(number)s in your portal.", number=str(case)))


def _issue_qr(case, actor, data) -> None:
    document, now = data["document"], utcnow()
    db.session.add(SigningToken(token_hash=sha256(data["raw_token"].encode()), case_id=case.id,
                                mediator_id=actor.scope.mediator_id, kind=kind_of(document),
                                document_id=document.id, document_sha256=document.sha256, created_at=now,
                                expires_at=now + dt.timedelta(minutes=TOKEN_MINUTES)))


def _mediator_sign(case, actor, data) -> None:
    token, document = data["token"], data["document"]
    mediator = db.session.get(Mediator, token.mediator_id)
    token.used_at = data.get("now") or utcnow()
    signature = Signature(role=SignerRole.MEDIATOR, mediator_id=mediator.id, signer_name=mediator.name,
                          image_key=_signature_image(data), signed_at=token.used_at, ip=data.get("ip"),
                          user_agent=(data.get("user_agent") or "")[:300], document_sha256=document.sha256)
    _attach(signature, document)
    db.session.add(signature)


def _party_sign(case, actor, data) -> None:
    document = data["document"]
    for party, agent in _signing_for(case, actor, document):
        signature = Signature(role=SignerRole.AGENT if agent else SignerRole.PARTY, party_id=party.id,
                              agent_id=agent.id if agent else None, signer_name=(agent or party).name,
                              image_key=_signature_image(data), ip=data.get("ip"),
                              user_agent=(data.get("user_agent") or "")[:300], document_sha256=document.sha256)
        _attach(signature, document)
        db.session.add(signature)


def _may_sign_for(case, actor) -> list[tuple[CaseParty, CaseAgent | None]]:
    """The parties `actor` may sign for: itself, or those it is a special agent of (CPL art 62)."""
    return [(p, a) for p, a in identities_of(case, actor) if a is None or a.agent_type is AgentType.SPECIAL]


def _signing_for(case, actor, document) -> list[tuple[CaseParty, CaseAgent | None]]:
    """The parties `actor` may sign for that have not signed `document` yet."""
    return [(p, a) for p, a in _may_sign_for(case, actor) if not party_signed(document, p)]


def _attach(signature: Signature, document) -> None:
    if isinstance(document, Agreement):
        signature.agreement = document
    else:
        signature.transcript = document


# --- the table ----------------------------------------------------------------------

#: the guards about the document itself, per event: with the state and who, they decide its buttons
ON_DOCUMENT = {
    "push": (_AGREEMENT, _latest(_l("Only the latest version can be pushed."))),
    "issue_qr": (_EITHER, _latest(_l("Only the latest document of a case in mediation is signed this way.")),
                 _mediator_not_signed),
    "confirm_transcript": (_TRANSCRIPT, _mediator_signed_first, _confirmation_not_started),
    "sign_agreement": (_AGREEMENT, _sent_for_signature, _specially_authorised, _not_signed_yet),
    "sign_transcript": (_TRANSCRIPT, _confirmation_started, _specially_authorised, _not_signed_yet),
}
#: about the signer, not the document: the sign button shows, its page says what is missing
SIGNER_GUARDS = (_verified_signer,)
MEDIATING = frozenset({S.MEDIATING})

TRANSITIONS = [
    Transition(event="generate", label=_l("Generate mediation agreement"), sources=MEDIATING, target=S.MEDIATING,
               who=frozenset({MEDIATOR}), guards=(_complete_for_generation,), effect=_generate),
    Transition(event="upload", label=_l("Upload mediation agreement"), sources=MEDIATING, target=S.MEDIATING,
               who=frozenset({MEDIATOR}), guards=(_acceptable(AGREEMENT_TYPES),), effect=_upload),
    Transition(event="push", label=_l("Push to parties for reading"), sources=MEDIATING, target=S.MEDIATING,
               who=frozenset({MEDIATOR}), guards=ON_DOCUMENT["push"], effect=_push),
    Transition(event="issue_qr", label=_l("Sign (QR code)"), sources=MEDIATING, target=S.MEDIATING,
               who=frozenset({MEDIATOR}), guards=ON_DOCUMENT["issue_qr"], effect=_issue_qr),
    Transition(event="mediator_sign", label=_l("Mediator signs"), sources=MEDIATING, target=S.MEDIATING,
               who=frozenset({MEDIATOR}), guards=ON_DOCUMENT["issue_qr"] + (_token_matches, _drawn),
               effect=_mediator_sign),
    Transition(event="upload_transcript", label=_l("Upload mediation transcript"), sources=MEDIATING,
               target=S.MEDIATING, who=frozenset({MEDIATOR}), guards=(_acceptable(TRANSCRIPT_TYPES),),
               effect=_upload_transcript),
    Transition(event="confirm_transcript", label=_l("Start transcript confirmation"), sources=MEDIATING,
               target=S.MEDIATING, who=frozenset({MEDIATOR}), guards=ON_DOCUMENT["confirm_transcript"],
               effect=_confirm_transcript),
    Transition(event="sign_transcript", label=_l("Sign the mediation transcript"), sources=MEDIATING,
               target=S.MEDIATING, who=frozenset({PARTY, AGENT}),
               guards=ON_DOCUMENT["sign_transcript"] + SIGNER_GUARDS + (_drawn,), effect=_party_sign),
    Transition(event="sign_agreement", label=_l("Sign the mediation agreement"),
               sources=frozenset({S.CLOSE_REQUESTED}), target=S.CLOSE_REQUESTED, who=frozenset({PARTY, AGENT}),
               guards=ON_DOCUMENT["sign_agreement"] + SIGNER_GUARDS + (_drawn,), effect=_party_sign),
]

# how each operation looks on the case page and in the portal
HINTS = {
    "generate": Hint(css="btn-primary"),
    "upload": Hint(fields=("file",)),
    "upload_transcript": Hint(fields=("file",)),
    "push": Hint(),
    "issue_qr": Hint(css="btn-primary"),
    "confirm_transcript": Hint(),
    "sign_agreement": Hint(css="btn-primary"),
    "sign_transcript": Hint(css="btn-primary"),
}

MACHINE = Machine(name="agreement", transitions=TRANSITIONS, roles=ROLES, hints=HINTS, noun=_l("case"))

#: the operations on the case as a whole, and those on one document of each kind, in the order of their
#: buttons (mediator_sign is the phone's page, not a button)
CASE_EVENTS = ("generate", "upload", "upload_transcript")
DOCUMENT_EVENTS = {
    DocumentKind.AGREEMENT: ("issue_qr", "push", "sign_agreement"),
    DocumentKind.TRANSCRIPT: ("issue_qr", "confirm_transcript", "sign_transcript"),
}
SIGN_EVENTS = {DocumentKind.AGREEMENT: "sign_agreement", DocumentKind.TRANSCRIPT: "sign_transcript"}


def available_document_actions(case: Case, actor: Actor, document=None) -> list[Action]:
    """What `actor` may do now: to the case's documents as a whole (`document=None`: generate,
    upload), or to one document (sign, push, confirm). The buttons of the case page and the portal."""
    offered = {a.event: a for a in MACHINE.available(case, actor)}
    if document is None:
        return [offered[e] for e in CASE_EVENTS if e in offered]
    data = {"document": document}
    return [offered[e] for e in DOCUMENT_EVENTS[kind_of(document)]
            if e in offered and not any(guard(case, actor, data) for guard in ON_DOCUMENT[e])]


def why_not(case: Case, actor: Actor, event: str, document=None) -> list[str]:
    """Why `event` is not offered to `actor` (for `document`): the state or the role, else the
    document's own guards. Empty: it is offered (what a form posts is checked when posted)."""
    transition = MACHINE[event]
    if case.status not in transition.sources or not MACHINE.may(transition, case, actor):
        return MACHINE.refusals(case, event, actor, document=document)
    data = {"document": document}
    guards = ON_DOCUMENT.get(event, ()) + (SIGNER_GUARDS if event in SIGN_EVENTS.values() else ())
    return [str(p) for p in (guard(case, actor, data) for guard in guards) if p]


# --- operations ----------------------------------------------------------------------

def generate(case: Case, actor: Actor, content: dict) -> Agreement:
    """A new agreement version generated from the case and the agreed terms [FAQ 3.11 注意(1)]."""
    MACHINE.apply(case, "generate", actor, content=content)
    return latest_agreement(case)


def upload(case: Case, actor: Actor, file_name: str, data: bytes) -> Agreement:
    """A new agreement version uploaded by the mediator (DOC, DOCX, PDF) [FAQ 3.9]."""
    MACHINE.apply(case, "upload", actor, file_name=file_name, data=data)
    return latest_agreement(case)


def push_preview(case: Case, actor: Actor, agreement: Agreement) -> None:
    """[FAQ 3.9(2)]: parties may read the draft, not sign it; pushing again is allowed."""
    MACHINE.apply(case, "push", actor, document=agreement)


def upload_transcript(case: Case, actor: Actor, file_name: str, data: bytes) -> Transcript:
    """调解笔录, uploaded while 调解中 (DOC, DOCX, PNG, JPG) [FAQ 3.10]."""
    MACHINE.apply(case, "upload_transcript", actor, file_name=file_name, data=data)
    return db.session.scalar(sa.select(Transcript).where(Transcript.case_id == case.id)
                             .order_by(Transcript.id.desc()).limit(1))


def start_transcript_confirmation(case: Case, actor: Actor, transcript: Transcript) -> None:
    """发起笔录确认: only after the mediator signed [FAQ 3.10]."""
    MACHINE.apply(case, "confirm_transcript", actor, document=transcript)


def issue_mediator_token(case: Case, actor: Actor, document) -> str:
    """A QR token for the case's mediator to sign `document` on a phone; returns the raw token."""
    raw = secrets.token_urlsafe(32)
    MACHINE.apply(case, "issue_qr", actor, document=document, raw_token=raw)
    return raw


def token_of(raw: str) -> SigningToken | None:
    """The QR token a signing link carries, used or not."""
    return db.session.scalar(sa.select(SigningToken).where(SigningToken.token_hash == sha256(raw.encode())))


def token_problem(token: SigningToken | None, now: dt.datetime | None = None) -> str | None:
    """Why a QR signing link cannot be used (unknown, used, expired), or None."""
    if token is None:
        return _("This signing link is not valid.")
    if token.used_at is not None:
        return _("This signing link has already been used.")
    if (now or utcnow()) > token.expires_at:
        return _("This signing link has expired; show a new QR code on the computer.")
    return None


def find_token(raw: str, now: dt.datetime | None = None) -> SigningToken:
    """The usable QR token of a signing link; DomainError says why not."""
    token = token_of(raw)
    problem = token_problem(token, now)
    if problem:
        raise DomainError(problem)
    return token


def token_document(token: SigningToken):
    """The document a QR token was issued for (None once 继续调解 deleted it)."""
    return db.session.get(MODELS[token.kind], token.document_id)


def sign_with_token(raw: str, image: bytes | None, ip: str | None, user_agent: str | None,
                    now: dt.datetime | None = None) -> None:
    """The mediator's signature from the QR page: no login, the token names the mediator, who
    must still be the case's mediator, on the same bytes, while 调解中 [FAQ 3.9(3)]."""
    token = find_token(raw, now)
    case = db.session.get(Case, token.case_id)
    mediator = db.session.get(Mediator, token.mediator_id)
    audit.act_as(mediator.user_id, mediator.phone)  # the trail names the mediator, not an anonymous phone
    MACHINE.apply(case, "mediator_sign", token_actor(token), token=token, document=token_document(token),
                  image=image, ip=ip, user_agent=user_agent, now=now)


def party_sign(case: Case, actor: Actor, document, image: bytes | None, ip: str | None,
               user_agent: str | None) -> bool:
    """A party, or its special agent, signs in the portal [FAQ 3.11, 3.14]. True when this
    completed the agreement (the mediator and every party signed): the lifecycle then ends the case."""
    kind = kind_of(document)
    MACHINE.apply(case, SIGN_EVENTS[kind], actor, document=document, image=image, ip=ip, user_agent=user_agent)
    return kind is DocumentKind.AGREEMENT and everyone_signed(case, document)


def mediator_signature_done(case: Case, actor: Actor, document) -> bool:
    """Whether the mediator signed `document` yet: what the QR page polls, for the mediator only."""
    if not actor.is_mediator_of(case):
        raise NotAllowed(_("Only the case's mediator can sign its documents."))
    return mediator_signed(document)


def notify_parties(case: Case, body: str) -> None:
    """SMS to every party and agent; each gets a portal account if they have none."""
    recipients = set()
    for party in case.parties:
        if party.phone:
            recipients.add((party.phone, party.name, PARTY_ROLE))
        for agent in party.agents:
            recipients.add((agent.phone, agent.name, AGENT_ROLE))
    for phone, name, role in sorted(recipients):
        ensure_account(phone, name, [role])
        send_sms(phone, SmsKind.NOTICE, body)


# --- hooks called by case_lifecycle ------------------------------------------------

def agreement_signed_problem(case: Case) -> str | None:
    agreement = latest_agreement(case)
    if agreement is None:
        return _("No mediation agreement has been generated or uploaded yet.")
    if not mediator_signed(agreement):
        return _("The mediator has not signed the latest agreement (scan the QR code).")
    return None


def send_for_signature(case: Case) -> None:
    agreement = latest_agreement(case)
    agreement.for_signature_at = utcnow()
    notify_parties(case, _("Please sign the mediation agreement of case %(number)s "
                           "in your portal.", number=str(case)))


def void_party_signatures(case: Case) -> None:
    """取消申请结案 [FAQ 3.12]: signatures collected on that version are void."""
    agreement = latest_agreement(case)
    if agreement is None:
        return
    agreement.for_signature_at = None
    for signature in list(agreement.signatures):
        if signature.role is not SignerRole.MEDIATOR:
            delete_after_commit(db.session, signature.image_key)
            agreement.signatures.remove(signature)


def delete_case_files(case: Case) -> None:
    """The case is being deleted [FAQ 3.3]: its agreements', transcripts' and signatures' files go
    once that commits (the rows go with the case, ON DELETE CASCADE)."""
    for model in (Agreement, Transcript):
        keys = sa.select(model.file_key).where(model.case_id == case.id)
        images = (sa.select(Signature.image_key).join(model, getattr(Signature, f"{model.__tablename__}_id") == model.id)
                  .where(model.case_id == case.id))
        for key in [*db.session.scalars(keys), *db.session.scalars(images)]:
            delete_after_commit(db.session, key)


def delete_documents(case: Case) -> None:
    """继续调解 [FAQ 3.9(4)]: agreements, transcripts and their signatures go."""
    for model in (Agreement, Transcript):
        for document in db.session.scalars(sa.select(model).where(model.case_id == case.id)):
            _forget_files(db.session, document)
            db.session.delete(document)
