"""The order review rules: pure functions over a CanonicalOrder, no I/O.

Each check returns the Finding(s) it failed with; review() runs them all and returns every
failure, so an operator sees at once everything that is wrong with an order.
"""

from .address import check_address, parse_cn_address
from .contact import check_blacklist, check_phone, e164_digits
from .findings import DEFAULT_REMARK_KEYWORDS, Finding, Reason, ReviewConfig
from .goods import StockOutcome, check_lines, check_stock
from .remarks import check_remarks
from .review import check_paid, priority, review

__all__ = [
    "DEFAULT_REMARK_KEYWORDS",
    "Finding",
    "Reason",
    "ReviewConfig",
    "StockOutcome",
    "check_address",
    "check_blacklist",
    "check_lines",
    "check_paid",
    "check_phone",
    "check_remarks",
    "check_stock",
    "e164_digits",
    "parse_cn_address",
    "priority",
    "review",
]
