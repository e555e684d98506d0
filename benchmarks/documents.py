"""调解协议书 generation per document vs python-docx open+save (the floor).

The app builds the .docx from a text template (app/documents/agreement.py:
`render_agreement(agreement_context(case, content))`, what
`workflows.agreements.generate` calls), so the floor is python-docx opening
and saving, untouched, the very document the app produced once: same size,
same parts, no layout work.
"""
from __future__ import annotations

import io

import sqlalchemy as sa

from .core import Bench, Context

CONTENT = {
    "disputed_items": "货款本金及逾期付款利息",
    "liability": "被申请人未按约定期限支付货款，应承担违约责任。",
    "terms": "\n".join([
        "被申请人于2026年12月31日前向申请人支付货款人民币50,000元；",
        "被申请人于2027年1月31日前向申请人支付逾期付款利息人民币2,000元；",
        "如被申请人未按期足额履行上述任何一期付款义务，申请人有权就全部未付款项申请强制执行；",
        "案件受理费减半收取，由被申请人负担；",
        "双方就本纠纷再无其他争议。",
    ]),
    "performance_manner": "银行转账",
    "performance_place": "北京市朝阳区",
    "performance_deadline": "2027年1月31日前",
}


def load_case(ctx: Context):
    """A 调解中 case of the court with a mediator and its two parties (ORM, as the workflow has it)."""
    from app.extensions import db
    from app.models import Case

    case = db.session.scalar(
        sa.select(Case).where(Case.court_id == ctx.court_id, Case.status == "MEDIATING",
                              Case.mediator_id.is_not(None)).order_by(Case.id.desc()).limit(1))
    if case is None or not case.parties:
        raise RuntimeError("no 调解中 case with parties: generate the data set with parties")
    return case


def benches(ctx: Context) -> list[Bench]:
    from docx import Document

    from app.documents.agreement import agreement_context, render_agreement

    with ctx.app.app_context():
        case = load_case(ctx)
        ctx_dict = agreement_context(case, CONTENT)  # warm the ORM attributes once
        produced = render_agreement(ctx_dict)

    def app_fn():
        # the case stays loaded, as in the request that generates it
        return render_agreement(agreement_context(case, CONTENT))

    def floor_fn():
        buf = io.BytesIO()
        Document(io.BytesIO(produced)).save(buf)
        return buf

    return [Bench(f"agreement .docx per document ({len(produced) // 1024} KB)", app_fn, floor_fn, 1.5, inner=5)]
