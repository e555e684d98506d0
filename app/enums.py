"""Enumerations with their Chinese labels next to them (STYLE §2).

The database stores the member name (an ASCII code) behind a CHECK constraint
(`db_enum` in app/model_support.py); `str(member)` is the translated label, so
FAB lists, selects and templates show Chinese without a formatter per column. FAB's EnumField labels a choice with
`str(member.value)`, which is why the value is a `Choice` (a str whose `str()`
is the label) rather than a plain string.
"""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from markupsafe import escape


class Choice(str):
    """A code string whose `str()` is its translated label."""

    def __new__(cls, code: str, label):
        obj = str.__new__(cls, code)
        obj.label = label
        return obj

    def __str__(self) -> str:
        return str(self.label)


class LabelledEnum(enum.Enum):
    @property
    def label(self) -> str:
        return str(self.value.label)

    @property
    def code(self) -> str:
        """The stored code as a plain string (`str(member.value)` is the label)."""
        return str.__str__(self.value)

    def __str__(self) -> str:
        return self.label

    def __html__(self) -> str:
        return str(escape(self.label))


class CourtLevel(LabelledEnum):
    SUPREME = Choice("supreme", _l("Supreme court"))
    HIGH = Choice("high", _l("High court"))
    INTERMEDIATE = Choice("intermediate", _l("Intermediate court"))
    BASIC = Choice("basic", _l("Basic court"))


class MediatorIdentity(LabelledEnum):
    INVITED = Choice("invited", _l("Invited mediator"))
    JUDGE = Choice("judge", _l("Judge"))
    OTHER = Choice("other", _l("Other"))


class OrganisationType(LabelledEnum):
    PEOPLES = Choice("peoples", _l("People's mediation committee"))
    INDUSTRY = Choice("industry", _l("Industry or professional mediation organisation"))
    COMMERCIAL = Choice("commercial", _l("Commercial mediation organisation"))
    LAWYER = Choice("lawyer", _l("Lawyer mediation organisation"))
    OTHER = Choice("other", _l("Other"))


class CertificationStatus(LabelledEnum):
    """Mediator↔court and organisation↔court certification [FAQ 3.2, 6.7]."""

    PENDING = Choice("pending", _l("Pending certification"))
    CERTIFIED = Choice("certified", _l("Certified"))
    REJECTED = Choice("rejected", _l("Rejected"))


class BindingState(LabelledEnum):
    """Whether an organisation is bound to a ministry [FAQ 6.1]: derived from its `ministry_id`, not stored."""

    UNBOUND = Choice("unbound", _l("Not bound to a ministry"))
    BOUND = Choice("bound", _l("Bound to a ministry"))


class CertificationPath(LabelledEnum):
    """Who starts an organisation's court certification for a ministry [FAQ 6.7]."""

    MINISTRY_APPLIES = Choice("ministry_applies", _l("Ministry side applies to the court"))
    COURT_ADDS = Choice("court_adds", _l("Court adds, ministry binds"))


class AuditAction(LabelledEnum):
    CREATE = Choice("create", _l("Create"))
    UPDATE = Choice("update", _l("Update"))
    DELETE = Choice("delete", _l("Delete"))
    PASSWORD = Choice("password", _l("Password set"))
    LOGIN = Choice("login", _l("Login"))
    TRANSITION = Choice("transition", _l("Status change"))


class SmsStatus(LabelledEnum):
    QUEUED = Choice("queued", _l("Queued"))
    SENT = Choice("sent", _l("Sent"))
    FAILED = Choice("failed", _l("Failed"))


class SmsKind(LabelledEnum):
    INITIAL_PASSWORD = Choice("initial_password", _l("Initial password"))
    RESET_CODE = Choice("reset_code", _l("Password reset code"))
    PASSWORD_CHANGED = Choice("password_changed", _l("Password changed"))
    NOTICE = Choice("notice", _l("Notice"))
    LOGIN_CODE = Choice("login_code", _l("Login or registration code"))


class CaseType(LabelledEnum):
    """Case types [FAQ 5.1]; `number_code` is the type code of the platform number [FAQ 5.2]."""

    PRE_LITIGATION = Choice("pre_litigation", _l("Pre-litigation delegated mediation"))
    IN_LITIGATION = Choice("in_litigation", _l("In-litigation mediation"))
    INTERNET = Choice("internet", _l("Internet mediation"))

    @property
    def number_code(self) -> str:
        return "民诉前调"


class CaseSource(LabelledEnum):
    COURT = Choice("court", _l("Entered by the court"))
    INTRANET = Choice("intranet", _l("Pushed from the intranet"))
    INTERNET = Choice("internet", _l("Internet application"))
    GRASSROOTS = Choice("grassroots", _l("Grassroots handoff"))
    HISTORICAL = Choice("historical", _l("Historical backfill"))


class CaseStatus(LabelledEnum):
    """SPEC §3.1."""

    TO_ASSIGN = Choice("to_assign", _l("To assign"))
    TO_ACCEPT = Choice("to_accept", _l("To accept"))
    MEDIATING = Choice("mediating", _l("Mediating"))
    CLOSE_REQUESTED = Choice("close_requested", _l("Close requested"))
    ENDED = Choice("ended", _l("Mediation ended"))
    TERMINATED = Choice("terminated", _l("Mediation terminated"))


class TerminationReason(LabelledEnum):
    """Rules art 25."""

    WITHDRAWN = Choice("withdrawn", _l("The applicant withdrew"))
    UNREACHABLE = Choice("unreachable", _l("A party could not be reached within the period"))
    REFUSES_MEDIATION = Choice("refuses_mediation", _l("A party refuses mediation"))
    TOO_FAR_APART = Choice("too_far_apart", _l("The positions are too far apart"))
    EXPIRED = Choice("expired", _l("The period expired without extension"))
    REFUSES_SIGN = Choice("refuses_sign", _l("A party refuses to sign the agreement"))
    OTHER = Choice("other", _l("Other"))


class PartyRole(LabelledEnum):
    APPLICANT = Choice("applicant", _l("Applicant"))
    RESPONDENT = Choice("respondent", _l("Respondent"))

    def label_for(self, case_type: "CaseType") -> str:
        """原告/被告 once the case is filed (立案调解), 申请人/被申请人 before."""
        if case_type is CaseType.IN_LITIGATION:
            return str(_l("Plaintiff") if self is PartyRole.APPLICANT else _l("Defendant"))
        return self.label


class PartyKind(LabelledEnum):
    PERSON = Choice("person", _l("Natural person"))
    ORGANISATION = Choice("organisation", _l("Legal person or organisation"))


class AgentType(LabelledEnum):
    """CPL art 62: only a special authorisation lets an agent settle and sign [FAQ 3.14(3)]."""

    GENERAL = Choice("general", _l("General agent"))
    SPECIAL = Choice("special", _l("Specially authorised agent"))


class SignerRole(LabelledEnum):
    MEDIATOR = Choice("mediator", _l("Mediator"))
    PARTY = Choice("party", _l("Party"))
    AGENT = Choice("agent", _l("Specially authorised agent"))


class IdentityStatus(LabelledEnum):
    """实名认证 [FAQ 3.13, Rules art 17]; a person with no verification row is 未认证."""

    UNVERIFIED = Choice("unverified", _l("Not verified"))
    PENDING = Choice("pending", _l("To review"))
    VERIFIED = Choice("verified", _l("Identity verified"))
    REJECTED = Choice("rejected", _l("Rejected"))


class MessageAuthor(LabelledEnum):
    """Who left a 留言 on a case."""

    MEDIATOR = Choice("mediator", _l("Mediator"))
    PARTY = Choice("party", _l("Party"))
    AGENT = Choice("agent", _l("Agent"))


class DocumentKind(LabelledEnum):
    AGREEMENT = Choice("agreement", _l("Mediation agreement"))
    TRANSCRIPT = Choice("transcript", _l("Mediation transcript"))


class DisputeType(LabelledEnum):
    FAMILY = Choice("family", _l("Marriage and family dispute"))
    NEIGHBOUR = Choice("neighbour", _l("Neighbourhood dispute"))
    CONTRACT = Choice("contract", _l("Contract dispute"))
    LABOUR = Choice("labour", _l("Labour dispute"))
    PROPERTY = Choice("property", _l("Property management dispute"))
    DAMAGE = Choice("damage", _l("Damage compensation dispute"))
    OTHER = Choice("other", _l("Other dispute"))


class DisputeStatus(LabelledEnum):
    """纠纷化解 [FAQ 7.4; SPEC §5]."""

    PROCESSING = Choice("processing", _l("Processing"))
    RESOLVED = Choice("resolved", _l("Resolved"))
    UNRESOLVED = Choice("unresolved", _l("Not resolved"))
    HANDED_OFF = Choice("handed_off", _l("Handed to online mediation"))


class OutboxStatus(LabelledEnum):
    PENDING = Choice("pending", _l("Waiting to be sent"))
    SENT = Choice("sent", _l("Delivered"))
    FAILED = Choice("failed", _l("Delivery failed"))


class ApplicationKind(LabelledEnum):
    """After mediation [SPEC §3.3; FAQ 3.4–3.6, 3.15, 3.16]."""

    JUDICIAL_CONFIRMATION = Choice("confirmation", _l("Judicial confirmation"))
    MEDIATION_DOCUMENT = Choice("mediation_document", _l("Mediation document"))
    FILING = Choice("filing", _l("Online filing"))


class ApplicationStatus(LabelledEnum):
    """An application's way through the court and the intranet (app/workflows/after_mediation.py)."""

    AWAITING_CONSENT = Choice("awaiting_consent", _l("Awaiting the other side's consent"))
    PENDING = Choice("pending", _l("To accept"))
    ACCEPTED = Choice("accepted", _l("Accepted"))
    CONFIRMED = Choice("confirmed", _l("Confirmed"))
    REJECTED = Choice("rejected", _l("Rejected"))
    ISSUED = Choice("issued", _l("Mediation document issued"))
    FILED = Choice("filed", _l("Filed"))
    WITHDRAWN = Choice("withdrawn", _l("Withdrawn"))

    def label_for(self, kind: "ApplicationKind") -> str:
        """待受理 is 待立案 for filings [FAQ 3.5]."""
        if kind is ApplicationKind.FILING and self is ApplicationStatus.PENDING:
            return str(_l("To file"))
        return self.label


class HandlingPlatform(LabelledEnum):
    """Where the court handles an accepted application [FAQ 3.4–3.6]: 内网办案系统."""

    INTRANET = Choice("intranet", _l("Intranet case-handling system"))


class ExportStatus(LabelledEnum):
    """A background export (我的导出). Own msgids: "Queued"/"Failed" name an SMS's states (待发送/发送失败)."""

    QUEUED = Choice("queued", _l("Export waiting in the queue"))
    RUNNING = Choice("running", _l("Export being written"))
    DONE = Choice("done", _l("Export ready"))
    FAILED = Choice("failed", _l("Export failed"))


class ImportStatus(LabelledEnum):
    """A 批量导入 job (app/workflows/bulk_import.py). Own msgids: "Queued"/"Failed" also name an SMS's states."""

    QUEUED = Choice("queued", _l("Import waiting in the queue"))
    RUNNING = Choice("running", _l("Import in progress"))
    DONE = Choice("done", _l("Import completed"))
    FAILED = Choice("failed", _l("Import refused, nothing imported"))


# --- hearings: video rooms, recordings, 多路视频 (SPEC §3.5, FAQ 4.1–4.2) -----------------

class HearingStatus(LabelledEnum):
    """A video room (app/workflows/hearings.py). NEW lives only inside the transaction that calls."""

    NEW = Choice("new", _l("Not started"))
    OPEN = Choice("open", _l("In progress"))
    ENDED = Choice("ended", _l("Ended"))


class HearingRole(LabelledEnum):
    """Who a room participant is."""

    MEDIATOR = Choice("mediator", _l("Mediator"))
    PARTY = Choice("party", _l("Party"))
    AGENT = Choice("agent", _l("Agent"))


class RecordingStatus(LabelledEnum):
    """A recording (app/workflows/recordings.py). NEW lives only inside the transaction that creates it."""

    NEW = Choice("new", _l("Not started"))
    RECORDING = Choice("recording", _l("Recording"))
    READY = Choice("ready", _l("Ready"))


class RecordingSource(LabelledEnum):
    RECORDED = Choice("recorded", _l("Recorded in the hearing"))
    UPLOADED = Choice("uploaded", _l("Uploaded"))


class MultiVideoStatus(LabelledEnum):
    """多路视频申请 [FAQ 4.1 注意(3)]. NEW lives only inside the transaction that submits."""

    NEW = Choice("new", _l("Not started"))
    PENDING = Choice("pending", _l("To review"))
    APPROVED = Choice("approved", _l("Approved"))
    REJECTED = Choice("rejected", _l("Rejected"))


# --- 互联网调解: the party's application, evidence, changing the mediator (FAQ 5.1(3); Rules arts 4, 8, 12–14) ---

class InternetStatus(LabelledEnum):
    """An internet-mediation application (app/workflows/internet.py)."""

    CHOOSING = Choice("choosing", _l("Choosing a mediator"))
    WAITING = Choice("waiting", _l("Waiting for the mediator to accept"))
    ACCEPTED = Choice("accepted", _l("Waiting for the other side to confirm"))
    CONFIRMED = Choice("confirmed", _l("The other side agreed to mediation"))
    REFUSED = Choice("refused", _l("The other side refused mediation"))


class EvidenceStatus(LabelledEnum):
    """A piece of evidence (app/workflows/evidence.py)."""

    SUBMITTED = Choice("submitted", _l("To verify"))
    VERIFIED = Choice("verified", _l("Verified"))


class MediatorChangeStatus(LabelledEnum):
    """A party's request for another mediator (Rules art 14; app/workflows/mediator_change.py)."""

    PENDING = Choice("pending", _l("To decide"))
    APPROVED = Choice("approved", _l("Mediator changed"))
    REJECTED = Choice("rejected", _l("Not granted"))
    REFUSAL = Choice("refusal", _l("Counted as refusing mediation"))
