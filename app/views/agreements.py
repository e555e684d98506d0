"""Agreements, transcripts and signing: the screens [FAQ 3.9–3.11, 3.14].

- `AgreementView` (court and mediator, the case page's tab 协议与笔录):
  generate, upload, push, the QR for the mediator's signature, transcripts,
  downloads. The court reads and downloads.
- `SigningView` (no login): the page the mediator's phone opens from the QR;
  the single-use token names the mediator.
- `PartyPortalView` (当事人 / 代理人): 待签材料 — read what was pushed, sign
  what was sent for signature. Mobile first.

Every operation is app/workflows/agreements.py with the acting `Actor`, and
every button comes from its `available_document_actions`; the templates only
loop. Each state-changing handler runs through the request edge.
"""
from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import quote

import segno
import sqlalchemy as sa
from flask import Response, abort, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..clock import shown
from .. import uploads
from ..documents.agreement import MEDIATOR_ROLE, signature_line, signature_page
from ..documents.reading import docx_blocks
from ..enums import DocumentKind, SignerRole
from ..extensions import db
from ..models import Agreement, Case, Transcript
from ..roles import Portal

from ..storage import file_store, read_bytes
from ..serving import client_ip, external_url, sensitive
from ..transactions import outside_transaction, writes
from ..workflows import agreements, case_lifecycle, identity
from .edge import edge
from .scope import current_actor, load_portal_case, load_visible_case, portal_cases, portal_identity

CONTENT_FIELDS = ("disputed_items", "liability", "terms", "performance_manner", "performance_place",
                  "performance_deadline")


@dataclass(frozen=True)
class DocumentButton:
    """One button of the agreements tab or the portal: `method` get (a link), post (a form
    button) or upload (a form with a file input accepting `accept`)."""

    label: str
    url: str
    css: str = "btn-default"
    method: str = "get"
    accept: str = ""
    element_id: str = ""


@dataclass(frozen=True)
class DocumentRow:
    """A document as the case page lists it."""

    title: str
    created_at: dt.datetime
    stage: str
    superseded: bool
    signers: list[tuple[str, bool]]
    buttons: list[DocumentButton] = field(default_factory=list)


@dataclass(frozen=True)
class PortalDocument:
    """A document as the party portal lists it."""

    title: str
    read_url: str
    download_url: str
    signed: bool
    buttons: list[DocumentButton]


@dataclass(frozen=True)
class Reading:
    """A document as the browser shows it before signing [issue 15 item 19]: the paragraphs of a .docx,
    an image (a transcript photographed), or a PDF the phone opens itself — always of the stored bytes,
    whose SHA-256 (`sha256`, computed here from what is shown) is what a signature binds to."""

    blocks: list[dict]
    image: str | None  # a data: URL
    pdf_url: str | None
    sha256: str
    unreadable: bool = False  # a .doc, or a .docx that fails the upload checks: download only


def reading(document, pdf_url: str | None = None) -> Reading:
    data = read_bytes(document.file_key)
    digest = agreements.sha256(data)
    kind = agreements.sniff(data)
    if kind == "docx":
        try:  # a document stored before uploads were inspected is checked before python-docx opens it
            uploads.inspect_zip(data)
        except uploads.Refused:
            return Reading([], None, None, digest, unreadable=True)
        return Reading(docx_blocks(data), None, None, digest)
    if kind in ("png", "jpg"):
        image = f"data:{agreements.CONTENT_TYPES[kind]};base64,{base64.b64encode(data).decode()}"
        return Reading([], image, None, digest)
    if kind == "pdf" and pdf_url:
        return Reading([], None, pdf_url, digest)
    return Reading([], None, None, digest, unreadable=True)


# --- the buttons: the workflow says which, this says where they go --------------------

#: the operations on the case's documents as a whole: where they go, the files an upload accepts, the
#: button's id (an operation whose hint asks for a `file` is an upload form, the others a link)
CASE_BUTTONS = {
    "generate": (lambda case: url_for("AgreementView.generate", pk=case.id), "", "generate-agreement"),
    "upload": (lambda case: url_for("AgreementView.upload_agreement", pk=case.id), ".doc,.docx,.pdf", ""),
    "upload_transcript": (lambda case: url_for("AgreementView.upload_transcript", pk=case.id),
                          ".doc,.docx,.png,.jpg,.jpeg", ""),
}
#: the operations on one document: where they go, and whether that is a link or a form posting to it
DOCUMENT_BUTTONS = {
    "issue_qr": (lambda case, kind, doc: url_for("AgreementView.sign_qr", pk=case.id, kind=kind, doc_id=doc.id),
                 "get"),
    "push": (lambda case, kind, doc: url_for("AgreementView.push", pk=case.id, doc_id=doc.id), "post"),
    "confirm_transcript": (lambda case, kind, doc: url_for("AgreementView.confirm_transcript", pk=case.id,
                                                           doc_id=doc.id), "post"),
    "sign_agreement": (lambda case, kind, doc: url_for("PartyPortalView.sign", pk=case.id, kind=kind,
                                                       doc_id=doc.id), "get"),
    "sign_transcript": (lambda case, kind, doc: url_for("PartyPortalView.sign", pk=case.id, kind=kind,
                                                        doc_id=doc.id), "get"),
}
#: where a button reads differently from the operation's name
BUTTON_LABELS = {
    # [FAQ 3.9(2)] 调解协议可选择系统【自动生成】或调解员【手动上传】 (the file input says which types)
    "generate": _l("Generate automatically"),
    "upload": _l("Upload manually"),
    "upload_transcript": _l("Upload transcript (DOC/DOCX/PNG/JPG)"),
    "sign_agreement": _l("Sign"),
    "sign_transcript": _l("Sign"),
}


def _label(action) -> str:
    return str(BUTTON_LABELS.get(action.event, action.label))


def case_buttons(case: Case, actor) -> list[DocumentButton]:
    """Generate and upload, for whoever may now."""
    buttons = []
    for action in agreements.available_document_actions(case, actor):
        url, accept, element_id = CASE_BUTTONS[action.event]
        method = "upload" if "file" in action.fields else "get"
        buttons.append(DocumentButton(_label(action), url(case), action.css, method, accept, element_id))
    return buttons


def document_buttons(case: Case, actor, document) -> list[DocumentButton]:
    kind = agreements.kind_of(document).name
    buttons = []
    for action in agreements.available_document_actions(case, actor, document):
        url, method = DOCUMENT_BUTTONS[action.event]
        buttons.append(DocumentButton(_label(action), url(case, kind, document), action.css, method))
    return buttons


def _downloads(case: Case, document) -> list[DocumentButton]:
    kind = agreements.kind_of(document).name
    buttons = [DocumentButton(_("Download"), url_for("AgreementView.download", pk=case.id, kind=kind,
                                                     doc_id=document.id))]
    if document.signatures:
        buttons.append(DocumentButton(_("Download signed version"), url_for(
            "AgreementView.download_signed", pk=case.id, kind=kind, doc_id=document.id)))
    return buttons


def document_rows(case: Case, actor) -> list[DocumentRow]:
    """The agreements (newest version first), then the transcripts, with what `actor` may do to each."""
    documents = list(db.session.scalars(sa.select(Agreement).where(Agreement.case_id == case.id)
                                        .order_by(Agreement.version.desc())))
    documents += db.session.scalars(sa.select(Transcript).where(Transcript.case_id == case.id)
                                    .order_by(Transcript.id.desc()))
    rows = []
    for document in documents:
        is_agreement = isinstance(document, Agreement)
        signers = [(_("Mediator"), agreements.mediator_signed(document))]
        signers += [(p.role.label_for(case.case_type) + p.name, agreements.party_signed(document, p))
                    for p in case.parties]
        rows.append(DocumentRow(
            title=f"{agreements.kind_of(document).label} · {document.file_name}",
            created_at=document.created_at if is_agreement else document.uploaded_at,
            stage=agreements.stage_label(document),
            superseded=not agreements.is_latest(case, document),
            signers=signers,
            buttons=_downloads(case, document) + document_buttons(case, actor, document),
        ))
    return rows


# --- responses --------------------------------------------------------------------

def _kind(value: str) -> DocumentKind:
    if value not in DocumentKind.__members__:
        abort(404)
    return DocumentKind[value]


def _case_document(case: Case, kind: DocumentKind, doc_id: int):
    document = db.session.get(agreements.MODELS[kind], doc_id)
    if document is None or document.case_id != case.id:
        abort(404)
    return document


#: what a browser shows itself when asked to (`inline`): the rest is always a download
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


def file_response(data, content_type: str, file_name: str, inline: bool = False) -> Response:
    """A download keeping the original Chinese file name (RFC 5987); `inline` opens a PDF or an
    image in the browser instead."""
    resp = Response(data, mimetype=content_type)
    ascii_name = "document" + (("." + file_name.rsplit(".", 1)[-1]) if "." in file_name else "")
    disposition = "inline" if inline and content_type in INLINE_TYPES else "attachment"
    resp.headers["Content-Disposition"] = f"{disposition}; filename={ascii_name}; filename*=UTF-8''{quote(file_name)}"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def stored_response(document, inline: bool = False) -> Response:
    """A document's file streamed from the store in chunks, never read whole into the worker."""
    resp = file_response(file_store().iter_range(document.file_key), document.content_type, document.file_name,
                         inline=inline)
    resp.headers["Content-Length"] = str(document.size)
    return resp


def signed_package(document) -> bytes:
    """The document with each signature on its signature line, and a final page: every signature,
    its time, IP and the hash signed."""
    lines, images = [], []
    case_type = document.case.case_type
    for s in sorted(document.signatures, key=lambda s: s.signed_at):
        # the 签署记录 row names the signer as the signature line does: 申请人：张三（委托代理人王律师代签）
        role, name, note = MEDIATOR_ROLE, s.signer_name, ""
        if s.party is not None:
            role, name = s.party.role.label_for(case_type), s.party.name
            if s.role is SignerRole.AGENT:
                note = _("(signed by the agent %(name)s)", name=s.signer_name)
        line = signature_line(role, name)
        lines.append({"role": role, "name": name, "time": shown(s.signed_at, seconds=True),
                      "sha256": s.document_sha256, "ip": s.ip or "", "line": line, "note": note})
        images.append(read_bytes(s.image_key))
    base = read_bytes(document.file_key) if document.content_type.endswith("wordprocessingml.document") else None
    if base is not None:
        try:  # a document stored before uploads were inspected is checked before python-docx opens it
            uploads.inspect_zip(base)
        except uploads.Refused:
            base = None  # the signature page alone; it names the SHA-256 of the document signed
    return signature_page(lines, images, base)


def _client():
    return client_ip(), request.headers.get("User-Agent", "")


def _uploaded_file() -> tuple[str, bytes]:
    """The request's `file` as (name, content); empty when none was sent (the workflow says so)."""
    upload = request.files.get("file")
    return (upload.filename, upload.read()) if upload else ("", b"")


def _inspect(data: bytes, allowed: tuple[str, ...]) -> None:
    """Look inside the upload before the write transaction (issue 16 item 3): the workflow's guard then
    finds the verdict kept for the request and answers at once."""
    with outside_transaction():
        agreements.upload_problem(data, allowed)


def _drawn_signature() -> bytes | None:
    return agreements.image_from_data_url(request.form.get("signature", ""))


class AgreementView(BaseView):
    route_base = "/case"

    def _to_documents(self, pk, exc=None, **_kwargs):
        return redirect(url_for("CaseDetailView.detail", pk=pk, tab="documents"))

    def _generate_form(self, case, content):
        return self.render_template("agreements/form.html", title=_("Generate mediation agreement"),
                                    case=case, content=content,
                                    missing=agreements.missing_for_generation(case, {"terms": "x"}))

    @expose("/<int:pk>/agreement/new", methods=["GET"])
    @has_access
    @permission_name("write_agreements")
    def generate(self, pk):
        case = load_visible_case(pk)
        if not any(a.event == "generate" for a in agreements.available_document_actions(case, current_actor())):
            flash(_("This operation is not available for the case now."), "danger")
            return self._to_documents(pk)
        latest = agreements.latest_agreement(case)
        return self._generate_form(case, dict(latest.content) if latest and latest.content else {})

    @expose("/<int:pk>/agreement/new", methods=["POST"])
    @has_access
    @permission_name("write_agreements")
    @edge(refused="_generate_refused")
    def generate_post(self, pk):
        agreements.generate(load_visible_case(pk), current_actor(), self._posted_content())
        flash(_("Agreement generated."), "success")
        return self._to_documents(pk)

    @staticmethod
    def _posted_content() -> dict:
        return {f: request.form.get(f, "").strip() for f in CONTENT_FIELDS}

    def _generate_refused(self, pk, exc):
        case = load_visible_case(pk)
        if not any(a.event == "generate" for a in agreements.available_document_actions(case, current_actor())):
            return self._to_documents(pk)
        return self._generate_form(case, self._posted_content())

    @expose("/<int:pk>/agreement/upload", methods=["POST"])
    @has_access
    @permission_name("write_agreements")
    @edge(refused="_to_documents")
    def upload_agreement(self, pk):
        name, data = _uploaded_file()
        _inspect(data, agreements.AGREEMENT_TYPES)
        agreements.upload(load_visible_case(pk), current_actor(), name, data)
        flash(_("Agreement uploaded."), "success")
        return self._to_documents(pk)

    @expose("/<int:pk>/agreement/<int:doc_id>/push", methods=["POST"])
    @has_access
    @permission_name("write_agreements")
    @edge(refused="_to_documents")
    def push(self, pk, doc_id):
        case = load_visible_case(pk)
        agreements.push_preview(case, current_actor(), _case_document(case, DocumentKind.AGREEMENT, doc_id))
        flash(_("Pushed to the parties for reading."), "success")
        return self._to_documents(pk)

    @expose("/<int:pk>/transcript/upload", methods=["POST"])
    @has_access
    @permission_name("write_agreements")
    @edge(refused="_to_documents")
    def upload_transcript(self, pk):
        name, data = _uploaded_file()
        _inspect(data, agreements.TRANSCRIPT_TYPES)
        agreements.upload_transcript(load_visible_case(pk), current_actor(), name, data)
        flash(_("Transcript uploaded."), "success")
        return self._to_documents(pk)

    @expose("/<int:pk>/transcript/<int:doc_id>/confirm", methods=["POST"])
    @has_access
    @permission_name("write_agreements")
    @edge(refused="_to_documents")
    def confirm_transcript(self, pk, doc_id):
        case = load_visible_case(pk)
        agreements.start_transcript_confirmation(case, current_actor(),
                                                 _case_document(case, DocumentKind.TRANSCRIPT, doc_id))
        flash(_("Sent to the parties for confirmation."), "success")
        return self._to_documents(pk)

    @expose("/<int:pk>/sign-qr/<kind>/<int:doc_id>")
    @has_access
    @permission_name("write_agreements")
    @edge(refused="_to_documents")
    @writes  # issuing the token is a write on a GET
    @sensitive
    def sign_qr(self, pk, kind, doc_id):
        """The QR code the mediator scans to sign on a phone [FAQ 3.9(3)]; showing it issues a token."""
        case = load_visible_case(pk)
        kind = _kind(kind)
        document = _case_document(case, kind, doc_id)
        actor = current_actor()
        raw = agreements.issue_mediator_token(case, actor, document)
        url = external_url("SigningView.sign", token=raw)  # EXTERNAL_BASE_URL: the phone must reach it
        svg = segno.make(url, error="m").svg_inline(scale=5)
        # after signing the agreement, the next step is 申请结案 [FAQ 3.11]
        next_steps = [a for a in case_lifecycle.available_events(case, actor)
                      if kind is DocumentKind.AGREEMENT and a.event == "apply_close"]
        return self.render_template("agreements/sign_qr.html", title=_("Scan to sign"), case=case,
                                    document=document, svg=svg, url=url, minutes=agreements.TOKEN_MINUTES,
                                    signed=agreements.mediator_signed(document),
                                    status_url=url_for(".sign_status", pk=case.id, kind=kind.name, doc_id=doc_id),
                                    next_steps=[DocumentButton(a.label, url_for(
                                        "CaseDetailView.transition", pk=case.id, event=a.event), "btn-primary",
                                        element_id="apply-close") for a in next_steps])

    @expose("/<int:pk>/sign-status/<kind>/<int:doc_id>")
    @has_access
    @permission_name("write_agreements")
    @edge(api=True)
    def sign_status(self, pk, kind, doc_id):
        """What the QR page polls until the phone has signed."""
        case = load_visible_case(pk)
        document = _case_document(case, _kind(kind), doc_id)
        return jsonify(signed=agreements.mediator_signature_done(case, current_actor(), document))

    @expose("/<int:pk>/document/<kind>/<int:doc_id>")
    @has_access
    @permission_name("read_agreements")
    def download(self, pk, kind, doc_id):
        case = load_visible_case(pk)
        document = _case_document(case, _kind(kind), doc_id)
        return stored_response(document)

    @expose("/<int:pk>/document/<kind>/<int:doc_id>/signed")
    @has_access
    @permission_name("read_agreements")
    def download_signed(self, pk, kind, doc_id):
        case = load_visible_case(pk)
        document = _case_document(case, _kind(kind), doc_id)
        name = document.file_name.rsplit(".", 1)[0] + "（签署版）.docx"
        return file_response(signed_package(document), agreements.CONTENT_TYPES["docx"], name)


class SigningView(BaseView):
    """No login: the QR token is single use, 10 minutes, bound to one document version."""

    route_base = "/sign"

    def _pad(self, token: str, done: bool = False, show_problem: bool = True):
        signing = agreements.token_of(token)
        document = agreements.token_document(signing) if signing is not None else None
        problem = None if done else agreements.token_problem(signing)
        action = None if done or problem else url_for(".sign", token=token)
        return self.render_template("agreements/sign_pad.html", title=_("Sign"), done=done,
                                    error=problem if show_problem else None, document=document,
                                    case=document.case if document is not None else None,
                                    action=action, signer=_("Mediator"),
                                    reading=reading(document) if action else None)

    @expose("/<token>", methods=["GET"])
    @sensitive
    def sign(self, token):
        return self._pad(token)

    @expose("/<token>", methods=["POST"])
    @edge(refused="_sign_refused")
    @sensitive
    def sign_post(self, token):
        ip, user_agent = _client()
        agreements.sign_with_token(token, _drawn_signature(), ip, user_agent)
        return self._pad(token, done=True)

    def _sign_refused(self, token, exc):
        return self._pad(token, show_problem=False)  # the refusal is flashed


class PartyPortalView(BaseView):
    """当事人端 / 代理人端: own cases and 待签材料 [FAQ 3.14]."""

    route_base = "/portal"
    default_view = "index"

    def _case(self, pk) -> Case:
        return load_portal_case(pk)

    @expose("/")
    @has_access
    def index(self):
        phone, as_agent = portal_identity()
        actor = current_actor()
        items = []
        for case in portal_cases(phone, as_agent):
            items.append((case, [PortalDocument(
                title=f"{agreements.kind_of(d).label}：{d.file_name}",
                read_url=url_for(".view", pk=case.id, kind=agreements.kind_of(d).name, doc_id=d.id),
                download_url=url_for(".read", pk=case.id, kind=agreements.kind_of(d).name, doc_id=d.id),
                signed=agreements.signed_for(case, d, actor),
                buttons=document_buttons(case, actor, d),
            ) for d in agreements.documents_for_parties(case)]))
        return self.render_template("agreements/portal.html", title=_("My cases and documents to sign"),
                                    items=items, as_agent=as_agent)

    def _open_document(self, pk, kind, doc_id):
        """The case's document, if the parties may read it (else 404, as for another case's)."""
        case = self._case(pk)
        document = _case_document(case, _kind(kind), doc_id)
        if not agreements.open_to_parties(document):
            abort(404)
        return case, document

    @staticmethod
    def _pdf_url(case, document) -> str:
        return url_for(".read", pk=case.id, kind=agreements.kind_of(document).name, doc_id=document.id, inline=1)

    @expose("/case/<int:pk>/<kind>/<int:doc_id>")
    @has_access
    def read(self, pk, kind, doc_id):
        """The file itself: a download, or (`?inline=1`) a PDF or image opened in the browser."""
        _case, document = self._open_document(pk, kind, doc_id)
        return stored_response(document, inline=request.args.get("inline") == "1")

    @expose("/case/<int:pk>/<kind>/<int:doc_id>/view")
    @has_access
    @permission_name("read")
    def view(self, pk, kind, doc_id):
        """The document read on the phone before signing [issue 15 item 19; FAQ 3.14]."""
        case, document = self._open_document(pk, kind, doc_id)
        return self.render_template(
            "agreements/read.html", title=_("Read document"), case=case, document=document,
            reading=reading(document, self._pdf_url(case, document)),
            download_url=url_for(".read", pk=pk, kind=kind, doc_id=doc_id),
            buttons=document_buttons(case, current_actor(), document), back=url_for(".index"))

    def _pad(self, pk, kind, doc_id, done=False, show_problems=True):
        case = self._case(pk)
        kind = _kind(kind)
        document = _case_document(case, kind, doc_id)
        actor = current_actor()
        problems = [] if done else agreements.why_not(case, actor, agreements.SIGN_EVENTS[kind], document)
        action = None if done or problems else url_for(".sign", pk=pk, kind=kind.name, doc_id=doc_id)
        return self.render_template(
            "agreements/sign_pad.html", title=_("Sign"), error=" ".join(problems) if show_problems else None,
            done=done, document=document, case=case,
            signer=_("Agent") if actor.scope.portal is Portal.AGENT else _("Party"),
            action=action, back=url_for(".index"),
            reading=reading(document, self._pdf_url(case, document)) if action else None,
            verify_url=None if done or identity.is_verified(actor.user_id) else url_for("IdentityView.index"))

    @expose("/case/<int:pk>/<kind>/<int:doc_id>/sign", methods=["GET"])
    @has_access
    @sensitive
    def sign(self, pk, kind, doc_id):
        return self._pad(pk, kind, doc_id)

    @expose("/case/<int:pk>/<kind>/<int:doc_id>/sign", methods=["POST"])
    @has_access
    @permission_name("sign")
    @edge(refused="_sign_refused")
    @sensitive
    def sign_post(self, pk, kind, doc_id):
        case = self._case(pk)
        document = _case_document(case, _kind(kind), doc_id)
        ip, user_agent = _client()
        case_lifecycle.party_signs(case, current_actor(), document, _drawn_signature(), ip, user_agent)
        return self._pad(pk, kind, doc_id, done=True)

    def _sign_refused(self, pk, kind, doc_id, exc):
        return self._pad(pk, kind, doc_id, show_problems=False)  # the refusal is flashed
