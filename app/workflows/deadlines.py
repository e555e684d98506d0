"""The case's current clock (SPEC §8, Rules arts 10, 12, 24).

3 working days to designate a mediator or to accept; 30 days of mediation
before filing, 15 (7 under simple procedure) after, counted from the
mediator's acceptance, plus the extensions the parties agreed to.
"""
from __future__ import annotations

import datetime as dt

from ..enums import CaseStatus as S
from ..enums import CaseType
from ..models import Case
from ..workdays import add_working_days

DESIGNATION_WORKING_DAYS = 3  # Rules art 10
ACCEPTANCE_WORKING_DAYS = 3  # Rules art 12
PRE_FILING_DAYS = 30  # Rules art 24
AFTER_FILING_DAYS = 15
SIMPLE_PROCEDURE_DAYS = 7


def refresh_deadline(case: Case) -> None:
    """Set `case.deadline` from its state, its clock's start day and its extensions; none once ended."""
    start = case.clock_started_on or case.received_on
    if case.status in (S.TO_ASSIGN, S.TO_ACCEPT):
        days = DESIGNATION_WORKING_DAYS if case.status is S.TO_ASSIGN else ACCEPTANCE_WORKING_DAYS
        case.deadline = add_working_days(start, days)
    elif case.status is S.MEDIATING:
        if case.case_type is CaseType.IN_LITIGATION:
            period = SIMPLE_PROCEDURE_DAYS if case.simple_procedure else AFTER_FILING_DAYS
        else:
            period = PRE_FILING_DAYS
        case.deadline = start + dt.timedelta(days=period + (case.extended_days or 0))
    else:
        case.deadline = None
