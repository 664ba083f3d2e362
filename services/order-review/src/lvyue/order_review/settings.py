"""Order-review's settings."""

from pydantic import Field

from lvyue.common.settings import KernelSettings


class OrderReviewSettings(KernelSettings):
    service_name: str = "order-review"
    http_port: int = 8101
    review_remark_keywords: tuple[str, ...] | None = Field(
        default=None,
        description="Remark phrases that need a human (JSON list); default: the built-in list.",
    )
    review_blacklist_buyers: frozenset[str] = Field(
        default=frozenset(), description="Buyer ids or nicknames refused at review."
    )
    review_blacklist_phones: frozenset[str] = Field(default=frozenset())
    review_blacklist_address_fragments: tuple[str, ...] = Field(default=())
    review_phone_region: str = Field(default="CN", description="Region for phone numbers.")
    stalled_after_s: float = Field(
        default=600.0, gt=0, description="An order waiting this long for review counts as stuck."
    )
    stalled_check_interval_s: float = Field(default=30.0, gt=0)
    review_mobile_only: bool = Field(
        default=True, description="Accept only mobile numbers (fixed lines cannot get SMS)."
    )
