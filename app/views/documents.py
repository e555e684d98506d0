"""Agreements, transcripts and signing pages [FAQ 3.9–3.11, 3.14].

- `DocumentView` (court and mediator, on the case page): generate, upload,
  push, QR for the mediator's signature, transcripts, downloads. Writing is
  the case's mediator's; the court reads and downloads.
- `SigningView` (no login): the page the mediator's phone opens from the QR;
  the single-use token is the proof.
- `PartyPortalView` (当事人 / 代理人): 待签材料 — read what was pushed, sign
  what was sent for signature. Mobile first.
"""
from __future__ import annotations

from urllib.parse import quote

import segno
import sqlalchemy as sa
from flask import Response, abort, g, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _

from ..enums import CaseStatus, DocumentKind, SignerRole
from ..extensions import db
from ..models import Agreement, Case, CaseAgent, CaseParty, Transcript
from ..roles import Portal
from ..security import active_portal, current_scope
from ..serving import external_url
from ..transactions import writes
from ..workflows import DomainError, agreements, case_lifecycle
from .base import run_step
from .cases import current_actor, load_visible_case

CONTENT_FIELDS = ("disputed_items", "liability", "terms", "performance_manner", "performance_place",
                  "performance_deadline")


def _kind(value: str) -> DocumentKind:
    if value not in DocumentKind.__members__:
        abort(404)
    return DocumentKind[value]


def _case_document(case: Case, kind: DocumentKind, doc_id: int):
    model = Agreement if kind is DocumentKind.AGREEMENT else Transcript
    document = db.session.get(model, doc_id)
    if document is None or document.case_id != case.id:
        abort(404)
    return document


def file_response(data: bytes, content_type: str, file_name: str) -> Response:
    """A download keeping the original Chinese file name (RFC 5987)."""
    resp = Response(data, mimetype=content_type)
    ascii_name = "document" + (("." + file_name.rsplit(".", 1)[-1]) if "." in file_name else "")
    resp.headers["Content-Disposition"] = f"attachment; filename={ascii_name}; filename*=UTF-8''{quote(file_name)}"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def signed_package(document) -> bytes:
    """The document with a final page: every signature, its time, IP and the hash signed."""
    from ..documents.agreement import signature_page

    lines, images = [], []
    for s in sorted(document.signatures, key=lambda s: s.signed_at):
        role = s.role.label
        if s.role is SignerRole.AGENT and s.party is not None:
            role = _("%(role)s of %(party)s", role=role, party=s.party.name)
        lines.append({"role": role, "name": s.signer_name, "time": s.signed_at.strftime("%Y-%m-%d %H:%M:%S"),
                      "sha256": s.document_sha256, "ip": s.ip or ""})
        images.append(s.image)
    base = document.data if document.content_type.endswith("wordprocessingml.document") else None
    return signature_page(lines, images, base)


def _client():
    ip = request.headers.get("X-Forwarded-For", request.remote_addr or "").split(",")[0].strip() or None
    return ip, request.headers.get("User-Agent", "")


def _uploaded_file() -> tuple[str, bytes]:
    """The request's `file` as (name, content); empty when none was sent (the workflow says so)."""
    upload = request.files.get("file")
    return (upload.filename, upload.read()) if upload else ("", b"")


class DocumentView(BaseView):
    route_base = "/case"

    def _mediator_case(self, pk) -> Case:
        case = load_visible_case(pk)
        if not current_actor().is_mediator_of(case):
            abort(403)
        return case

    def _back(self, pk):
        return redirect(url_for("CaseDetailView.detail", pk=pk, tab="documents"))

    @expose("/<int:pk>/agreement/new", methods=["GET", "POST"])
    @has_access
    @permission_name("write_documents")
    def generate(self, pk):
        case = self._mediator_case(pk)
        latest = agreements.latest_agreement(case)
        content = dict(latest.content or {}) if latest and latest.content else {}
        if request.method == "POST":
            content = {f: request.form.get(f, "").strip() for f in CONTENT_FIELDS}
            if run_step(agreements.generate, case, content, g.user.id,
                         success=_("Agreement generated.")) is not None:
                return self._back(pk)
            case = load_visible_case(pk)
        return self.render_template("court/agreement_form.html", title=_("Generate mediation agreement"),
                                    case=case, content=content,
                                    missing=agreements.missing_for_generation(case, {"terms": "x"}))

    @expose("/<int:pk>/agreement/upload", methods=["POST"])
    @has_access
    @permission_name("write_documents")
    def upload_agreement(self, pk):
        case = self._mediator_case(pk)
        run_step(agreements.upload, case, *_uploaded_file(), g.user.id, success=_("Agreement uploaded."))
        return self._back(pk)

    @expose("/<int:pk>/agreement/<int:doc_id>/push", methods=["POST"])
    @has_access
    @permission_name("write_documents")
    def push(self, pk, doc_id):
        case = self._mediator_case(pk)
        document = _case_document(case, DocumentKind.AGREEMENT, doc_id)
        run_step(agreements.push_preview, document,
                  success=_("Pushed to the parties for reading."))
        return self._back(pk)

    @expose("/<int:pk>/transcript/upload", methods=["POST"])
    @has_access
    @permission_name("write_documents")
    def upload_transcript(self, pk):
        case = self._mediator_case(pk)
        run_step(agreements.upload_transcript, case, *_uploaded_file(), success=_("Transcript uploaded."))
        return self._back(pk)

    @expose("/<int:pk>/transcript/<int:doc_id>/confirm", methods=["POST"])
    @has_access
    @permission_name("write_documents")
    def confirm_transcript(self, pk, doc_id):
        case = self._mediator_case(pk)
        document = _case_document(case, DocumentKind.TRANSCRIPT, doc_id)
        run_step(agreements.start_transcript_confirmation, document,
                  success=_("Sent to the parties for confirmation."))
        return self._back(pk)

    @expose("/<int:pk>/sign-qr/<kind>/<int:doc_id>")
    @has_access
    @permission_name("write_documents")
    @writes
    def sign_qr(self, pk, kind, doc_id):
        """The QR code the mediator scans to sign on a phone [FAQ 3.9(3)]."""
        case = self._mediator_case(pk)
        kind = _kind(kind)
        document = _case_document(case, kind, doc_id)
        raw = run_step(agreements.issue_mediator_token, case, current_scope().mediator_id, kind, document)
        if raw is None:
            return self._back(pk)
        url = external_url("SigningView.sign", token=raw)  # EXTERNAL_BASE_URL: the phone must reach it
        svg = segno.make(url, error="m").svg_inline(scale=5)
        return self.render_template("court/sign_qr.html", title=_("Scan to sign"), case=case, document=document,
                                    kind=kind, svg=svg, url=url, minutes=agreements.TOKEN_MINUTES,
                                    signed=agreements.mediator_signed(document))

    @expose("/<int:pk>/sign-status/<kind>/<int:doc_id>")
    @has_access
    @permission_name("write_documents")
    def sign_status(self, pk, kind, doc_id):
        case = self._mediator_case(pk)
        document = _case_document(case, _kind(kind), doc_id)
        return jsonify(signed=agreements.mediator_signed(document))

    @expose("/<int:pk>/document/<kind>/<int:doc_id>")
    @has_access
    @permission_name("read_documents")
    def download(self, pk, kind, doc_id):
        case = load_visible_case(pk)
        document = _case_document(case, _kind(kind), doc_id)
        return file_response(document.data, document.content_type, document.file_name)

    @expose("/<int:pk>/document/<kind>/<int:doc_id>/signed")
    @has_access
    @permission_name("read_documents")
    def download_signed(self, pk, kind, doc_id):
        case = load_visible_case(pk)
        document = _case_document(case, _kind(kind), doc_id)
        name = document.file_name.rsplit(".", 1)[0] + "（签署版）.docx"
        return file_response(signed_package(document), agreements.CONTENT_TYPES["docx"], name)


class SigningView(BaseView):
    """No login: the QR token is single use, 10 minutes, bound to one document version."""

    route_base = "/sign"

    @expose("/<token>", methods=["GET", "POST"])
    def sign(self, token):
        error, done = None, False
        try:
            signing = agreements.find_token(token)
        except DomainError as exc:
            return self.render_template("court/sign_pad.html", title=_("Sign"), error=exc.message, done=False,
                                        document=None, case=None, action=None)
        model = Agreement if signing.kind is DocumentKind.AGREEMENT else Transcript
        document = db.session.get(model, signing.document_id)
        if request.method == "POST":
            ip, agent = _client()
            try:
                image = agreements.decode_signature(request.form.get("signature", ""))
                agreements.sign_with_token(token, image, ip, agent)
            except DomainError as exc:
                db.session.rollback()
                error = exc.message
            else:
                db.session.commit()
                done = True
        return self.render_template("court/sign_pad.html", title=_("Sign"), error=error, done=done,
                                    document=document, case=document.case if document else None,
                                    action=url_for(".sign", token=token), signer=_("Mediator"))


def _portal_identity() -> tuple[str, bool]:
    """(phone, as_agent) of the logged-in party or agent."""
    portal = active_portal()
    if portal not in (Portal.PARTY, Portal.AGENT):
        abort(403)
    return g.user.username, portal is Portal.AGENT


def portal_cases(phone: str, as_agent: bool):
    if as_agent:
        party_ids = sa.select(CaseAgent.party_id).where(CaseAgent.phone == phone)
        case_ids = sa.select(CaseParty.case_id).where(CaseParty.id.in_(party_ids))
    else:
        case_ids = sa.select(CaseParty.case_id).where(CaseParty.phone == phone)
    return db.session.scalars(sa.select(Case).where(Case.id.in_(case_ids)).order_by(Case.id.desc())).all()


class PartyPortalView(BaseView):
    """当事人端 / 代理人端: own cases and 待签材料 [FAQ 3.14]."""

    route_base = "/portal"
    default_view = "index"

    def _case(self, pk) -> Case:
        phone, as_agent = _portal_identity()
        case = next((c for c in portal_cases(phone, as_agent) if c.id == pk), None)
        if case is None:
            abort(404)
        return case

    @expose("/")
    @has_access
    def index(self):
        phone, as_agent = _portal_identity()
        items = []
        for case in portal_cases(phone, as_agent):
            docs = []
            for document in db.session.scalars(sa.select(Agreement).where(Agreement.case_id == case.id)
                                               .order_by(Agreement.version.desc())):
                if document.pushed_at or document.for_signature_at:
                    docs.append((DocumentKind.AGREEMENT, document))
                    break  # the latest visible version
            for document in db.session.scalars(sa.select(Transcript).where(Transcript.case_id == case.id)):
                if document.confirmation_started_at:
                    docs.append((DocumentKind.TRANSCRIPT, document))
            items.append((case, [(k, d, agreements.signable_for(case, k, d),
                                  self._signed_for_me(case, d, phone, as_agent)) for k, d in docs]))
        return self.render_template("court/portal_index.html", title=_("My cases and documents to sign"),
                                    items=items, as_agent=as_agent)

    @staticmethod
    def _signed_for_me(case, document, phone, as_agent) -> bool:
        identities = agreements.signer_identities(case, phone, as_agent)
        return bool(identities) and all(agreements.party_signed(document, p) for p, _a in identities)

    @expose("/case/<int:pk>/<kind>/<int:doc_id>")
    @has_access
    def read(self, pk, kind, doc_id):
        case = self._case(pk)
        kind = _kind(kind)
        document = _case_document(case, kind, doc_id)
        if not (getattr(document, "pushed_at", None) or getattr(document, "for_signature_at", None)
                or getattr(document, "confirmation_started_at", None)):
            abort(404)
        return file_response(document.data, document.content_type, document.file_name)

    @expose("/case/<int:pk>/<kind>/<int:doc_id>/sign", methods=["GET", "POST"])
    @has_access
    def sign(self, pk, kind, doc_id):
        phone, as_agent = _portal_identity()
        case = self._case(pk)
        kind = _kind(kind)
        document = _case_document(case, kind, doc_id)
        error, done = None, False
        try:
            agreements.signing_identities(case, kind, document, phone, as_agent)
            can_sign = True
        except DomainError as exc:
            error, can_sign = exc.message, False
        if request.method == "POST" and can_sign:
            ip, agent = _client()
            try:
                image = agreements.decode_signature(request.form.get("signature", ""))
                case_lifecycle.party_signs(case, kind, document, phone, as_agent, image, ip, agent)
            except DomainError as exc:
                db.session.rollback()
                error = exc.message
            else:
                db.session.commit()
                done = True
        return self.render_template("court/sign_pad.html", title=_("Sign"), error=error, done=done,
                                    document=document, case=case, signer=_("Agent") if as_agent else _("Party"),
                                    action=url_for(".sign", pk=pk, kind=kind.name, doc_id=doc_id) if can_sign
                                    else None,
                                    back=url_for(".index"), status_note=case.status.label
                                    if case.status is CaseStatus.ENDED else None)
