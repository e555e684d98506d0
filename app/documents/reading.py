"""A document read in the browser (issue 15 item 19): the paragraphs of the exact .docx bytes being
signed, as plain dicts a template lays out for a phone — `docx_blocks(data) -> list[dict]` (STYLE §9).

Reading the stored bytes, not re-rendering the case, is what makes the page the version signed: its
SHA-256 is the one a signature binds to, and a case edited since (or a template replaced since)
changes nothing here. The agreement's own Word styles (app/documents/agreement.py) say which
paragraph is the title, a heading, a right-aligned line or a signature line; an uploaded .docx
without them reads as body paragraphs, its tables as rows of cells.
"""
from __future__ import annotations

import io

from docx import Document
from docx.oxml.ns import qn

#: the agreement's paragraph styles → how the page shows them
KINDS = {"协议标题": "title", "协议小标题": "heading", "协议右对齐": "right", "协议落款": "signature",
         "签署记录标题": "heading"}


def _paragraph_text(p) -> str:
    return "".join(t.text or "" for t in p.iter(qn("w:t"))).strip()


def docx_blocks(data: bytes) -> list[dict]:
    """[{"kind": title|heading|right|signature|body, "text": …}, …] in document order."""
    doc = Document(io.BytesIO(data))
    styles = {s.style_id: s.name for s in doc.styles}
    blocks = []
    for element in doc.element.body.iterchildren():
        if element.tag == qn("w:p"):
            text = _paragraph_text(element)
            if not text:
                continue
            style = element.find(qn("w:pPr") + "/" + qn("w:pStyle"))
            name = styles.get(style.get(qn("w:val"))) if style is not None else None
            blocks.append({"kind": KINDS.get(name, "body"), "text": text})
        elif element.tag == qn("w:tbl"):
            for row in element.iter(qn("w:tr")):
                cells = [" ".join(_paragraph_text(p) for p in cell.iter(qn("w:p"))).strip()
                         for cell in row.iter(qn("w:tc"))]
                if any(cells):
                    blocks.append({"kind": "body", "text": "　".join(c for c in cells if c)})
    return blocks
