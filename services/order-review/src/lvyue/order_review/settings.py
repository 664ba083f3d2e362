"""Order-review's settings."""

from pydantic import Field, field_validator

from lvyue.common.security import Role
from lvyue.common.settings import KernelSettings
from lvyue.order_review.domain.rules.acceptance import DEFAULT_ACCEPTANCE_ROLES, AcceptancePolicy
from lvyue.order_review.domain.rules.findings import Reason


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
    review_acceptance_roles: dict[Reason, frozenset[Role]] = Field(
        default_factory=lambda: {
            rule: frozenset(Role(r) for r in roles)
            for rule, roles in DEFAULT_ACCEPTANCE_ROLES.items()
        },
        description="Which review findings an operator may accept, and by which bearer roles, "
        'JSON: {"remark_needs_human": ["ops"], "not_paid": ["ops"], "blacklisted": ["ops"]} '
        "(the default). address_incomplete, unknown_sku, invalid_quantity and out_of_stock are "
        "never accepted: the order is corrected or cancelled.",
    )

    @field_validator("review_acceptance_roles")
    @classmethod
    def _acceptable(cls, value: dict[Reason, frozenset[Role]]) -> dict[Reason, frozenset[Role]]:
        AcceptancePolicy({rule: frozenset(map(str, roles)) for rule, roles in value.items()})
        return value

    def acceptance_policy(self) -> AcceptancePolicy:
        return AcceptancePolicy(
            {
                rule: frozenset(map(str, roles))
                for rule, roles in self.review_acceptance_roles.items()
            }
        )
