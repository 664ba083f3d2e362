"""Aftersales' commands: each runs in its own unit of work and commits once, except
record_replacement_dispatch, which runs in the event consumer's (the runner commits)."""

from lvyue.aftersales.commands.context import CaseContext
from lvyue.aftersales.commands.decide import Approve, Reject, approve, reject
from lvyue.aftersales.commands.errors import (
    CaseNotFound,
    OrderNotFound,
    OrderNotShipped,
    RefundConflict,
)
from lvyue.aftersales.commands.intake import OpenCase, Opened, open_case
from lvyue.aftersales.commands.refund import IssueRefund, refund
from lvyue.aftersales.commands.replacement import (
    RecordReplacementDispatch,
    record_replacement_dispatch,
)
from lvyue.aftersales.commands.returns import ReceiveReturn, receive_return

__all__ = [
    "Approve",
    "CaseContext",
    "CaseNotFound",
    "IssueRefund",
    "OpenCase",
    "Opened",
    "OrderNotFound",
    "OrderNotShipped",
    "ReceiveReturn",
    "RecordReplacementDispatch",
    "RefundConflict",
    "Reject",
    "approve",
    "open_case",
    "receive_return",
    "record_replacement_dispatch",
    "refund",
    "reject",
]
