"""Agreements, transcripts and signatures [FAQ 3.9–3.11, 3.14; SPEC §3.2, §8].

    调解中: generate or upload 调解协议 (each a new version) ─push─▶ parties read it (cannot sign)
            mediator scans the QR (token: single use, 10 min, bound to the version's SHA-256) and signs
    申请结案 (guard: latest version signed by the mediator) ─▶ the latest version goes to the parties
            each party signs, or its 特别授权代理人; a 一般代理人 is refused
            everyone signed ─▶ 调解结束 (system transition all_signed); the mediator may 结案 alone
    取消申请结案: the signatures on that version are void (deleted)
    继续调解: agreements, transcripts and their signatures are deleted [FAQ 3.9(4)]
    调解笔录 [FAQ 3.10]: uploaded while 调解中; the mediator signs first, then 发起笔录确认
            pushes it to the parties, who sign; refused after 申请结案.

A signature stores the image, signer, role, time, IP, user agent and the
SHA-256 of the exact bytes signed. Functions flush, never commit.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import secrets
import zipfile

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ..enums import AgentType, CaseStatus, DocumentKind, SignerRole, SmsKind
from ..extensions import db
from ..models import Agreement, Case, CaseAgent, CaseParty, Mediator, Signature, SigningToken, Transcript, utcnow
from ..sms import send_sms
from . import DomainError
from .case_intake import missing_party_fields

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


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def check_upload(data: bytes, allowed: tuple[str, ...]) -> str:
    """The sniffed type of an acceptable upload, else a DomainError saying why."""
    names = "、".join(t.upper() for t in allowed)
    if not data:
        raise DomainError(_("The file is empty."))
    limit = current_app.config.get("DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
    if len(data) > limit:
        raise DomainError(_("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024)))
    kind = sniff(data)
    if kind not in allowed:
        raise DomainError(_("Only %(types)s files are accepted; this file's content is not one of them.",
                            types=names))
    return kind


def _check_mediating(case: Case, what: str) -> None:
    if case.status is not CaseStatus.MEDIATING:
        raise DomainError(_("%(what)s is only possible while the case is being mediated (now: %(status)s).",
                            what=what, status=case.status.label))


def latest_agreement(case: Case) -> Agreement | None:
    return db.session.scalar(
        sa.select(Agreement).where(Agreement.case_id == case.id).order_by(Agreement.version.desc()).limit(1)
    )


def _next_version(case: Case) -> int:
    current = db.session.scalar(sa.select(sa.func.max(Agreement.version)).where(Agreement.case_id == case.id))
    return (current or 0) + 1


def missing_for_generation(case: Case, content: dict) -> list[str]:
    problems = list(missing_party_fields(case))
    if not case.parties:
        problems.append(_("the parties"))
    if not (case.summary or "").strip():
        problems.append(_("dispute summary"))
    if not any(t.strip() for t in (content.get("terms") or "").splitlines()):
        problems.append(_("the agreed terms"))
    return problems


def generate(case: Case, content: dict, user_id: int | None) -> Agreement:
    """A new agreement version generated from the case [FAQ 3.11 注意(1)]."""
    from ..documents.agreement import agreement_context, render_agreement

    _check_mediating(case, _("Generating an agreement"))
    problems = missing_for_generation(case, content)
    if problems:
        raise DomainError(_("The agreement cannot be generated. Missing: %(problems)s",
                            problems="；".join(problems)))
    data = render_agreement(agreement_context(case, content),
                            current_app.config.get("AGREEMENT_TEMPLATE"))
    version = _next_version(case)
    agreement = Agreement(case=case, version=version, generated=True, content=content,
                          file_name=f"调解协议书（第{version}版）.docx", content_type=CONTENT_TYPES["docx"],
                          data=data, size=len(data), sha256=sha256(data), created_by_id=user_id)
    db.session.add(agreement)
    db.session.flush()
    return agreement


def upload(case: Case, file_name: str, data: bytes, user_id: int | None) -> Agreement:
    _check_mediating(case, _("Uploading an agreement"))
    kind = check_upload(data, AGREEMENT_TYPES)
    version = _next_version(case)
    agreement = Agreement(case=case, version=version, generated=False, content=None,
                          file_name=(file_name or f"调解协议.{kind}")[:200], content_type=CONTENT_TYPES[kind],
                          data=data, size=len(data), sha256=sha256(data), created_by_id=user_id)
    db.session.add(agreement)
    db.session.flush()
    return agreement


def _party_phones(case: Case) -> set[str]:
    phones = set()
    for party in case.parties:
        if party.phone:
            phones.add((party.phone, party.name, "party"))
        for agent in party.agents:
            phones.add((agent.phone, agent.name, "agent"))
    return phones


def notify_parties(case: Case, body: str) -> None:
    """SMS to every party and agent; each gets a portal account if they have none."""
    from ..roles import AGENT, PARTY
    from .accounts import ensure_account

    for phone, name, kind in sorted(_party_phones(case)):
        ensure_account(phone, name, [PARTY if kind == "party" else AGENT])
        send_sms(phone, SmsKind.NOTICE, body)


def push_preview(agreement: Agreement) -> None:
    """[FAQ 3.9(2)]: parties may read the draft, not sign it; pushing again is allowed."""
    case = agreement.case
    _check_mediating(case, _("Pushing an agreement"))
    if agreement.id != latest_agreement(case).id:
        raise DomainError(_("Only the latest version can be pushed."))
    agreement.pushed_at = utcnow()
    notify_parties(case, _("[Court Mediation Platform] The draft mediation agreement (version %(v)d) of case "
                           "%(number)s is ready to read in your portal.", v=agreement.version, number=str(case)))
    db.session.flush()


def _document(kind: DocumentKind, doc_id: int):
    model = Agreement if kind is DocumentKind.AGREEMENT else Transcript
    return db.session.get(model, doc_id)


def issue_mediator_token(case: Case, mediator_id: int, kind: DocumentKind, document) -> str:
    """A QR token for the mediator to sign `document` on a phone; returns the raw token."""
    if document is None or document.case_id != case.id:
        raise DomainError(_("There is no document to sign."))
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(SigningToken(token_hash=sha256(raw.encode()), case_id=case.id, mediator_id=mediator_id,
                                kind=kind, document_id=document.id, document_sha256=document.sha256,
                                created_at=now, expires_at=now + dt.timedelta(minutes=TOKEN_MINUTES)))
    db.session.flush()
    return raw


def find_token(raw: str, now: dt.datetime | None = None) -> SigningToken:
    now = now or utcnow()
    token = db.session.scalar(sa.select(SigningToken).where(SigningToken.token_hash == sha256(raw.encode())))
    if token is None:
        raise DomainError(_("This signing link is not valid."))
    if token.used_at is not None:
        raise DomainError(_("This signing link has already been used."))
    if now > token.expires_at:
        raise DomainError(_("This signing link has expired; show a new QR code on the computer."))
    return token


def decode_signature(data_url: str) -> bytes:
    prefix = "data:image/png;base64,"
    if not data_url or not data_url.startswith(prefix):
        raise DomainError(_("Draw your signature first."))
    try:
        image = base64.b64decode(data_url[len(prefix):], validate=True)
    except ValueError:
        raise DomainError(_("Draw your signature first.")) from None
    if not image.startswith(b"\x89PNG\r\n\x1a\n") or len(image) > MAX_SIGNATURE_BYTES:
        raise DomainError(_("Draw your signature first."))
    return image


def sign_with_token(raw: str, image: bytes, ip: str | None, user_agent: str | None,
                    now: dt.datetime | None = None) -> Signature:
    """The mediator's signature from the QR page (no login: the token is the proof)."""
    token = find_token(raw, now)
    document = _document(token.kind, token.document_id)
    if document is None or document.sha256 != token.document_sha256:
        raise DomainError(_("The document changed after the QR code was shown; show a new QR code."))
    case = document.case
    if case.status is not CaseStatus.MEDIATING or (
            token.kind is DocumentKind.AGREEMENT and document.id != latest_agreement(case).id):
        raise DomainError(_("Only the latest document of a case in mediation is signed this way."))
    mediator = db.session.get(Mediator, token.mediator_id)
    token.used_at = now or utcnow()
    signature = Signature(role=SignerRole.MEDIATOR, mediator_id=mediator.id, signer_name=mediator.name,
                          image=image, signed_at=token.used_at, ip=ip, user_agent=(user_agent or "")[:300],
                          document_sha256=document.sha256)
    _attach(signature, token.kind, document)
    db.session.add(signature)
    db.session.flush()
    return signature


def _attach(signature: Signature, kind: DocumentKind, document) -> None:
    if kind is DocumentKind.AGREEMENT:
        signature.agreement = document
    else:
        signature.transcript = document


def mediator_signed(document) -> bool:
    return any(s.role is SignerRole.MEDIATOR and s.document_sha256 == document.sha256
               for s in document.signatures)


def party_signed(document, party: CaseParty) -> bool:
    return any(s.party_id == party.id for s in document.signatures)


def signable_for(case: Case, kind: DocumentKind, document) -> bool:
    """Whether parties may sign this document now."""
    if kind is DocumentKind.AGREEMENT:
        return (case.status is CaseStatus.CLOSE_REQUESTED and document.for_signature_at is not None
                and document.id == latest_agreement(case).id)
    return case.status is CaseStatus.MEDIATING and document.confirmation_started_at is not None


def signer_identities(case: Case, phone: str, as_agent: bool) -> list[tuple[CaseParty, CaseAgent | None]]:
    """The parties this login may sign for in `case`: itself, or those it represents."""
    result = []
    for party in case.parties:
        if not as_agent and party.phone == phone:
            result.append((party, None))
        if as_agent:
            result.extend((party, agent) for agent in party.agents if agent.phone == phone)
    return result


def signing_identities(case: Case, kind: DocumentKind, document, phone: str,
                       as_agent: bool) -> list[tuple[CaseParty, CaseAgent | None]]:
    """Whom this login may sign for on this document now; DomainError says why not."""
    if document is None or document.case_id != case.id:
        raise DomainError(_("There is no document to sign."))
    if not signable_for(case, kind, document):
        raise DomainError(_("This document is open for reading only; it can be signed after the mediator "
                            "sends it for signature."))
    identities = signer_identities(case, phone, as_agent)
    if not identities:
        raise DomainError(_("You are not a party or agent of this case."))
    allowed = [(p, a) for p, a in identities if a is None or a.agent_type is AgentType.SPECIAL]
    if not allowed:
        raise DomainError(_("A general agent cannot sign. The party itself or a specially authorised agent "
                            "must sign."))
    return allowed


def party_sign(case: Case, kind: DocumentKind, document, phone: str, as_agent: bool, image: bytes,
               ip: str | None, user_agent: str | None) -> list[Signature]:
    """A party (or its special agent) signs [FAQ 3.11, 3.14]; `everyone_signed` tells whether that completed it."""
    allowed = signing_identities(case, kind, document, phone, as_agent)
    signatures = []
    for party, agent in allowed:
        if party_signed(document, party):
            continue
        signature = Signature(role=SignerRole.AGENT if agent else SignerRole.PARTY, party_id=party.id,
                              agent_id=agent.id if agent else None, signer_name=(agent or party).name,
                              image=image, ip=ip, user_agent=(user_agent or "")[:300],
                              document_sha256=document.sha256)
        _attach(signature, kind, document)
        db.session.add(signature)
        signatures.append(signature)
    if not signatures:
        raise DomainError(_("Already signed."))
    db.session.flush()
    return signatures


def everyone_signed(case: Case, document) -> bool:
    """The mediator and every party (itself or by its special agent) signed this version [FAQ 3.11]."""
    return mediator_signed(document) and all(party_signed(document, p) for p in case.parties)


# --- hooks called by case_lifecycle ------------------------------------------

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
    notify_parties(case, _("[Court Mediation Platform] Please sign the mediation agreement of case %(number)s "
                           "in your portal.", number=str(case)))


def void_party_signatures(case: Case) -> None:
    """取消申请结案 [FAQ 3.12]: signatures collected on that version are void."""
    agreement = latest_agreement(case)
    if agreement is None:
        return
    agreement.for_signature_at = None
    for signature in list(agreement.signatures):
        if signature.role is not SignerRole.MEDIATOR:
            agreement.signatures.remove(signature)


def delete_documents(case: Case) -> None:
    """继续调解 [FAQ 3.9(4)]: agreements, transcripts and their signatures go."""
    for model in (Agreement, Transcript):
        for document in db.session.scalars(sa.select(model).where(model.case_id == case.id)):
            db.session.delete(document)


# --- transcripts ----------------------------------------------------------------

def upload_transcript(case: Case, file_name: str, data: bytes) -> Transcript:
    _check_mediating(case, _("Uploading a transcript"))
    kind = check_upload(data, TRANSCRIPT_TYPES)
    transcript = Transcript(case=case, file_name=(file_name or f"调解笔录.{kind}")[:200],
                            content_type=CONTENT_TYPES[kind], data=data, size=len(data), sha256=sha256(data))
    db.session.add(transcript)
    db.session.flush()
    return transcript


def start_transcript_confirmation(transcript: Transcript) -> None:
    """发起笔录确认: only after the mediator signed [FAQ 3.10]."""
    case = transcript.case
    _check_mediating(case, _("Starting transcript confirmation"))
    if not mediator_signed(transcript):
        raise DomainError(_("Sign the transcript first (scan the QR code), then start the confirmation."))
    transcript.confirmation_started_at = utcnow()
    notify_parties(case, _("[Court Mediation Platform] Please confirm and sign the mediation transcript of case "
                           "%(number)s in your portal.", number=str(case)))
    db.session.flush()
