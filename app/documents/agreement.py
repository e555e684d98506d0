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

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ..enums import PartyKind

TEMPLATE_DIR = os.path.join(os.path.dirname(__file__), "templates")
DEFAULT_TEMPLATE = os.path.join(TEMPLATE_DIR, "agreement.txt.j2")
CN_DIGITS = "〇一二三四五六七八九"


def chinese_date(day: dt.date) -> str:
    """二〇二六年十一月二十九日, as dates are written on court documents."""

    def number(n: int) -> str:
        if n < 10:
            return CN_DIGITS[n]
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")

    year = "".join(CN_DIGITS[int(d)] for d in str(day.year))
    return f"{year}年{number(day.month)}月{number(day.day)}日"


def _gender_and_birth(id_number: str | None) -> tuple[str, str]:
    if not id_number or len(id_number) != 18:
        return "", ""
    gender = "男" if int(id_number[16]) % 2 else "女"
    birth = f"{id_number[6:10]}年{int(id_number[10:12])}月{int(id_number[12:14])}日"
    return gender, birth


def agreement_context(case, content: dict, today: dt.date | None = None) -> dict:
    """Plain values for the template: no ORM objects leave this function."""
    parties = []
    for p in case.parties:
        gender, birth = _gender_and_birth(p.id_number)
        parties.append({
            "role": p.role.label_for(case.case_type),
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
    terms = [t.strip() for t in (content.get("terms") or "").splitlines() if t.strip()]
    return {
        "number": case.number or "",
        "court": case.court.name if case.court else "",
        "cause": case.cause,
        "received_on": chinese_date(case.received_on),
        "organisation": organisation,
        "mediator": mediator,
        "mediation_body": organisation or f"调解员{mediator}",
        "parties": parties,
        "summary": (case.summary or "").strip(),
        "disputed_items": (content.get("disputed_items") or "").strip(),
        "liability": (content.get("liability") or "").strip(),
        "terms": terms,
        "performance_manner": (content.get("performance_manner") or "").strip(),
        "performance_place": (content.get("performance_place") or "").strip(),
        "performance_deadline": (content.get("performance_deadline") or "").strip(),
        "copies": len(parties) + 1,
        "date": chinese_date(today or dt.date.today()),
    }


def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _paragraph(doc, text: str, *, font="仿宋", size=16.0, bold=False, align=None, indent=True):
    para = doc.add_paragraph()
    fmt = para.paragraph_format
    fmt.line_spacing = Pt(28)
    fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    if align is not None:
        para.alignment = align
    _font(para.add_run(text), font, size, bold)
    return para


def new_document() -> Document:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    return doc


def render_lines(doc, lines) -> None:
    """Lay out template lines; see the template header for the marks."""
    for line in lines:
        if not line.strip():
            continue
        if line.startswith("# "):
            _paragraph(doc, line[2:].strip(), font="宋体", size=22, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
                       indent=False)
        elif line.startswith("## "):
            _paragraph(doc, line[3:].strip(), font="黑体", size=16, indent=True)
        elif line.startswith("> "):
            _paragraph(doc, line[2:].strip(), align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
        elif line.startswith("= "):
            _paragraph(doc, line[2:].strip(), indent=False).paragraph_format.space_before = Pt(12)
        elif line.strip() == "---":
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        else:
            _paragraph(doc, line.strip())


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


def signature_page(lines: list[dict], images: list[bytes | None], base: bytes | None) -> bytes:
    """The signed agreement: the document (when it is .docx) plus a final page
    listing each signature with its image, time and the document hash."""
    doc = Document(io.BytesIO(base)) if base else new_document()
    if base:
        doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    _paragraph(doc, "签署记录", font="宋体", size=18, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    for line, image in zip(lines, images):
        _paragraph(doc, f"{line['role']}：{line['name']}　签署时间：{line['time']}（UTC）", indent=False, size=12)
        _paragraph(doc, f"文件SHA-256：{line['sha256']}　IP：{line['ip']}", indent=False, size=10)
        if image:
            doc.add_picture(io.BytesIO(image), width=Cm(5))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
