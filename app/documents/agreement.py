"""调解协议书: `agreement_context(case, content) -> dict`, `render_agreement(ctx) -> bytes` (STYLE §9).

The wording is the template file (Jinja2 text with a few line marks, see the
file's header), which the platform admin may replace; this module only lays it
out in Chinese document style: A4, 宋体 title, 仿宋 body, 28 pt line spacing.
"""
from __future__ import annotations

import datetime as dt
import functools
import io
import os
import re

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..clock import today
from ..enums import PartyKind

TEMPLATE_DIR = os.path.join(os.path.dirname(__file__), "templates")
DEFAULT_TEMPLATE = os.path.join(TEMPLATE_DIR, "agreement.txt.j2")
CN_DIGITS = "〇一二三四五六七八九"
#: the mediator's role on its signature line: the document's own wording, whatever the screen's locale
MEDIATOR_ROLE = "调解员"


def _number(n: int) -> str:
    """0–99 in Chinese numerals: 九, 十, 十一, 二十, 二十九."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


def chinese_date(day: dt.date) -> str:
    """二〇二六年十一月二十九日, as dates are written on court documents."""
    year = "".join(CN_DIGITS[int(d)] for d in str(day.year))
    return f"{year}年{_number(day.month)}月{_number(day.day)}日"


def chinese_count(n: int) -> str:
    """How many copies, as a document writes it: 一式两份, 一式三份, 一式十一份 (Arabic past 99)."""
    if n == 2:
        return "两"
    return _number(n) if 0 < n < 100 else str(n)


def signature_line(role: str, name: str) -> str:
    """The text of a signature line, 申请人（签字）：张三: the template prints it, and the signed version
    finds it again to put that signer's image there (`signature_page`)."""
    return f"{role}（签字）：{name}"


def _gender_and_birth(id_number: str | None) -> tuple[str, str]:
    if not id_number or len(id_number) != 18:
        return "", ""
    gender = "男" if int(id_number[16]) % 2 else "女"
    birth = f"{id_number[6:10]}年{int(id_number[10:12])}月{int(id_number[12:14])}日"
    return gender, birth


#: a clause's own leading number (一、 （二） 3. 4、), which the agreement's numbering replaces;
#: "10.5万元" is an amount, not a number
OWN_NUMBER = re.compile(r"^\s*(?:[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+[、.．]|\d+[、.．)）](?!\d))\s*")


def own_number_dropped(term: str) -> str:
    """A clause as typed, without the number the mediator typed before it (the document numbers clauses)."""
    return OWN_NUMBER.sub("", term.strip(), count=1).strip() or term.strip()


def agreement_context(case, content: dict, on: dt.date | None = None) -> dict:
    """Plain values for the template: no ORM objects leave this function. Dated `on`, else today
    in Beijing (an agreement generated at 01:00 Beijing time carries that day, not yesterday's)."""
    parties = []
    for p in case.parties:
        gender, birth = _gender_and_birth(p.id_number)
        role = p.role.label_for(case.case_type)
        parties.append({
            "role": role,
            "signature_line": signature_line(role, p.name),
            "kind": "person" if p.kind is PartyKind.PERSON else "organisation",
            "name": p.name,
            "gender": gender,
            "birth": birth,
            "id_number": p.id_number or "",
            "credit_code": p.credit_code or "",
            "legal_representative": p.legal_representative or "",
            "address": p.address or "",
            "phone": p.phone or "",
            "agents": [{"name": a.name, "type": a.agent_type.label, "law_firm": a.law_firm or ""}
                       for a in p.agents],
        })
    organisation = case.organisation.name if case.organisation else ""
    mediator = case.mediator.name if case.mediator else ""
    terms = [own_number_dropped(t) for t in (content.get("terms") or "").splitlines() if t.strip()]
    return {
        "number": case.number or "",
        "court": case.court.name if case.court else "",
        "cause": case.cause,
        "received_on": chinese_date(case.received_on),
        "organisation": organisation,
        "mediator": mediator,
        "mediation_body": organisation or f"调解员{mediator}",
        "mediator_signature_line": signature_line(MEDIATOR_ROLE, mediator),
        "parties": parties,
        "summary": (case.summary or "").strip(),
        "disputed_items": (content.get("disputed_items") or "").strip(),
        "liability": (content.get("liability") or "").strip(),
        "terms": terms,
        "performance_manner": (content.get("performance_manner") or "").strip(),
        "performance_place": (content.get("performance_place") or "").strip(),
        "performance_deadline": (content.get("performance_deadline") or "").strip(),
        "copies": chinese_count(len(parties) + 1),
        "date": chinese_date(on or today()),
    }


#: the agreement's paragraph kinds as Word styles: (font, size pt, bold, alignment, first-line indent,
#: space before pt). A style set once per document, rather than fonts set on every run, is what a
#: clerk editing the file in Word expects, and it keeps generation near python-docx's open+save.
STYLES = {
    "协议正文": ("仿宋", 16.0, False, None, True, 0),
    "协议标题": ("宋体", 22.0, True, WD_ALIGN_PARAGRAPH.CENTER, False, 0),
    "协议小标题": ("黑体", 16.0, False, None, True, 0),
    "协议右对齐": ("仿宋", 16.0, False, WD_ALIGN_PARAGRAPH.RIGHT, False, 0),
    "协议落款": ("仿宋", 16.0, False, None, False, 12),
    "签署记录标题": ("宋体", 18.0, True, WD_ALIGN_PARAGRAPH.CENTER, False, 0),
    "签署记录": ("仿宋", 12.0, False, None, False, 0),
    "签署记录小字": ("仿宋", 10.0, False, None, False, 0),
}


def _add_styles(doc) -> None:
    for name, (font, size, bold, align, indent, before) in STYLES.items():
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = doc.styles["Normal"]
        style.font.name = font
        style.font.size = Pt(size)
        style.font.bold = bold
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        fmt = style.paragraph_format
        fmt.line_spacing = Pt(28)
        fmt.space_after = Pt(0)
        if before:
            fmt.space_before = Pt(before)
        if indent:
            fmt.first_line_indent = Pt(size * 2)
        if align is not None:
            fmt.alignment = align


@functools.lru_cache(maxsize=1)
def _blank() -> bytes:
    """An empty A4 document with the agreement's page setup and styles, built once."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    _add_styles(doc)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def new_document() -> Document:
    return Document(io.BytesIO(_blank()))


def _ensure_styles(doc) -> None:
    """An uploaded .docx being signed has none of our styles: add them."""
    if "签署记录" not in [s.name for s in doc.styles]:
        _add_styles(doc)


def render_lines(doc, lines) -> None:
    """Lay out template lines; see the template header for the marks."""
    # The style ids, looked up once: python-docx resolves a style given by name or object
    # by scanning every style of the document for each paragraph (most of the time spent).
    ids = {name: doc.styles[name].style_id for name in ("协议标题", "协议小标题", "协议右对齐", "协议落款", "协议正文")}

    def add(text: str, style: str) -> None:
        doc.add_paragraph(text)._p.style = ids[style]

    for line in lines:
        if not line.strip():
            continue
        if line.startswith("# "):
            add(line[2:].strip(), "协议标题")
        elif line.startswith("## "):
            add(line[3:].strip(), "协议小标题")
        elif line.startswith("> "):
            add(line[2:].strip(), "协议右对齐")
        elif line.startswith("= "):
            add(line[2:].strip(), "协议落款")
        elif line.strip() == "---":
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        else:
            add(line.strip(), "协议正文")


@functools.lru_cache(maxsize=8)
def _environment(folder: str) -> Environment:
    """One environment per template folder: Jinja then compiles a template once and
    recompiles it only when the file changes (FileSystemLoader checks the mtime)."""
    return Environment(loader=FileSystemLoader(folder), undefined=StrictUndefined, autoescape=False,
                       keep_trailing_newline=True)


def render_agreement(ctx: dict, template_path: str | None = None) -> bytes:
    path = template_path or DEFAULT_TEMPLATE
    text = _environment(os.path.dirname(path)).get_template(os.path.basename(path)).render(**ctx)
    doc = new_document()
    render_lines(doc, text.splitlines())
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _sign_on_lines(doc, lines: list[dict], images: list[bytes | None]) -> None:
    """Each signer's image on its own signature line (the paragraph reading `line["line"]`, e.g.
    申请人（签字）：张三), as ink on paper would be; an agent's says for whom it signed. A document
    without such a line (most uploads) keeps its signatures on the 签署记录 page only."""
    paragraphs = {}
    for paragraph in doc.paragraphs:
        paragraphs.setdefault(paragraph.text.strip(), paragraph)
    for line, image in zip(lines, images):
        paragraph = paragraphs.get(line.get("line") or "")
        if paragraph is None or not image:
            continue
        paragraph.add_run("　")
        paragraph.add_run().add_picture(io.BytesIO(image), height=Cm(1.3))
        if line.get("note"):
            paragraph.add_run(line["note"])


def signature_page(lines: list[dict], images: list[bytes | None], base: bytes | None) -> bytes:
    """The signed agreement: the document (when it is .docx) with each signature on its signature
    line, plus a final page (签署记录) listing each signature with its image, time and the document hash."""
    doc = Document(io.BytesIO(base)) if base else new_document()
    _ensure_styles(doc)
    if base:
        _sign_on_lines(doc, lines, images)
    if base:
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_paragraph("签署记录", style="签署记录标题")
    for line, image in zip(lines, images):
        doc.add_paragraph(f"{line['role']}：{line['name']}{line.get('note', '')}　签署时间：{line['time']}（北京时间）", style="签署记录")
        doc.add_paragraph(f"文件SHA-256：{line['sha256']}　IP：{line['ip']}", style="签署记录小字")
        if image:
            doc.add_picture(io.BytesIO(image), width=Cm(5))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
