"""A year of concluded 朝阳 cases (新增历史案件), so the report and the dashboard have a past (SPEC §6).

Deterministic; the parties are invented people, not the demo accounts. Each is
entered as a historical case and worked through the case machine like any
other — assigned, then ended (an agreement the mediator signed, 申请结案, 结案)
or terminated — and its dates are then moved back to when it happened. Seeded
before the other demo cases, so lists (newest first) open on those.
"""
from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from ..clock import today
from ..enums import CaseSource, TerminationReason
from ..extensions import db
from ..models import Case, Court, Organisation
from ..validation import id_check_char
from ..workflows.deadlines import refresh_deadline
from .cases import act, new_case, signed_agreement
from .common import court_admin, get, mediator

# causes the other demo cases do not use, so tests that look cases up by cause stay exact
CAUSES = ["追索劳动报酬纠纷", "相邻关系纠纷", "赡养纠纷", "物权保护纠纷", "储蓄存款合同纠纷", "提供劳务者受害责任纠纷"]
SURNAMES, GIVEN = "王李张刘陈杨赵黄周吴", ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇"]


def _id_number(serial: int, side: int) -> str:
    body = f"110105{1960 + serial % 30}{serial % 12 + 1:02d}{serial % 28 + 1:02d}{side}{serial % 100:02d}"
    return body + id_check_char(body)


def seed_history() -> None:
    chaoyang = get(Court, code="京0105")
    if db.session.scalar(sa.select(sa.func.count()).select_from(Case).where(
            Case.court_id == chaoyang.id, Case.source == CaseSource.HISTORICAL)) > 1:
        return  # seeded before (the one other historical case comes with the demo cases)
    rng = random.Random(2026)
    court = court_admin("13800000001")
    chen, liu = mediator("13900000001"), mediator("13900000002")
    commercial = get(Organisation, name="朝阳区商事调解中心")
    serial = 0
    for months_ago in range(11, 0, -1):
        for _n in range(rng.randint(3, 6)):
            serial += 1
            days_ago = months_ago * 30 + rng.randint(0, 25)
            names = [rng.choice(SURNAMES) + rng.choice(GIVEN) for _i in range(2)]
            parties = [("APPLICANT", names[0], f"151{serial:08d}", _id_number(serial, 1), []),
                       ("RESPONDENT", names[1], f"152{serial:08d}", _id_number(serial, 2), [])]
            case = new_case(chaoyang, rng.choice(CAUSES), parties, days_ago=days_ago, source=CaseSource.HISTORICAL,
                            summary="历史案件补录。", plan="按调解协议履行。")
            who = rng.random()
            if who < 0.5:
                act(case, "assign", court, mediator_id=chen.scope.mediator_id)
                by = chen
            elif who < 0.8:
                act(case, "assign", court, mediator_id=liu.scope.mediator_id)
                by = liu
            else:
                act(case, "assign", court, organisation_id=commercial.id)
                by = chen  # a mediator of the organisation
            if rng.random() < 0.7:
                signed_agreement(case, by, "一、双方按调解协议履行。")
                act(case, "apply_close", by)
                act(case, "close", by)
            else:
                act(case, "terminate", by, termination_reason=rng.choice([TerminationReason.TOO_FAR_APART,
                                                                          TerminationReason.REFUSES_MEDIATION]))
            # when it happened: assigned the day it came in, closed some days later
            closed_on = min(case.received_on + dt.timedelta(days=rng.randint(3, 40)), today())
            case.assigned_at = dt.datetime.combine(case.received_on, dt.time(9, 0))
            case.clock_started_on = case.received_on
            case.closed_at = dt.datetime.combine(closed_on, dt.time(16, 30))
            refresh_deadline(case)
    db.session.flush()
