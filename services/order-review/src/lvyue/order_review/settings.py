"""Order-review's settings."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from lvyue.common.security import Role
from lvyue.common.settings import KernelSettings
from lvyue.order_review.domain.rules.acceptance import DEFAULT_ACCEPTANCE_ROLES, AcceptancePolicy
from lvyue.order_review.domain.rules.findings import Reason

# whose order search lvyue speaks, and of those, whose calls are signed with the app's secret
PULL_PLATFORMS = frozenset({"shopify", "douyin", "pinduoduo", "taobao", "jd"})
SIGNED_PLATFORMS = frozenset({"douyin", "pinduoduo", "taobao", "jd"})


class ShopPull(BaseModel):
    """How lvyue pulls one shop's orders from its platform (reconciliation)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = Field(
        description="The shop's API root, e.g. https://my-shop.myshopify.com or "
        "https://openapi-fxg.jinritemai.com"
    )
    access_token: SecretStr = Field(description="The app's access token for this shop.")
    app_key: str = Field(
        default="", description="The app's key (抖店: app_key; 拼多多: client_id)."
    )
    app_secret: SecretStr = Field(
        default=SecretStr(""), description="The app's secret: signs every API call."
    )
    api_version: str = Field(default="2025-01", pattern=r"^\d{4}-\d{2}$")
    message_url: str = Field(
        default="wss://message-api.pinduoduo.com",
        description="拼多多: the message service the app connects to for its notifications.",
    )
    message_group: str = Field(
        default="default",
        min_length=1,
        max_length=64,
        description="淘宝: the message service's group the app's trade messages are read from.",
    )
    token_expires_at: datetime | None = Field(
        default=None, description="When the token stops working: warned about before, in logs."
    )


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

    order_pull_shops: dict[str, ShopPull] = Field(
        default_factory=dict,
        description="Shops whose orders are pulled to catch what notifications missed, by "
        '"<platform>/<shop_id>" (shopify, douyin, pinduoduo, taobao, jd): '
        '{"shopify/my-shop.myshopify.com": {"base_url": "https://my-shop.myshopify.com", '
        '"access_token": "..."}}.',
    )
    order_pull_interval_s: float = Field(default=60.0, gt=0, description="Between pulls.")
    order_pull_overlap_s: float = Field(
        default=300.0,
        ge=0,
        description="Each pull reaches this far before the last one's end "
        "(the platform's clock and late index updates).",
    )
    order_pull_lookback_s: float = Field(
        default=86_400.0, gt=0, description="How far back a shop's first pull reaches."
    )
    order_pull_page_size: int = Field(default=250, ge=1, le=250)
    order_pull_timeout_s: float = Field(default=10.0, gt=0, description="One API call at most.")
    notification_fetch_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="How often notifications received are looked at: their orders fetched.",
    )
    message_poll_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="淘宝: how often the message service's queue is read while it is empty.",
    )
    notification_fetch_batch: int = Field(
        default=100, ge=1, le=1000, description="Notifications taken at a time."
    )

    @field_validator("order_pull_shops")
    @classmethod
    def _known_pull_platforms(cls, value: dict[str, ShopPull]) -> dict[str, ShopPull]:
        for key in value:
            platform, slash, shop = key.partition("/")
            if not slash or not shop or platform not in PULL_PLATFORMS:
                raise ValueError(
                    f'order_pull_shops: {key!r} is not "<platform>/<shop_id>" of a platform '
                    f"lvyue pulls from ({', '.join(sorted(PULL_PLATFORMS))})"
                )
            signed = value[key]
            if platform in SIGNED_PLATFORMS and not (
                signed.app_key and signed.app_secret.get_secret_value()
            ):
                raise ValueError(f"order_pull_shops: {key!r} needs app_key and app_secret")
        return value

    @field_validator("review_acceptance_roles")
    @classmethod
    def _acceptable(cls, value: dict[Reason, frozenset[Role]]) -> dict[Reason, frozenset[Role]]:
        AcceptancePolicy({rule: frozenset(map(str, roles)) for rule, roles in value.items()})
        return value

    def app_secret(self, platform: str, app_key: str) -> str | None:
        """The secret a platform signs its pushes with for this app: a pulled shop's app_secret
        (the app's own), else the webhook secret configured for the key."""
        for key, shop in self.order_pull_shops.items():
            if key.startswith(f"{platform}/") and shop.app_key == app_key:
                return shop.app_secret.get_secret_value() or None
        return self.webhook_secret(platform, app_key)

    def acceptance_policy(self) -> AcceptancePolicy:
        return AcceptancePolicy(
            {
                rule: frozenset(map(str, roles))
                for rule, roles in self.review_acceptance_roles.items()
            }
        )
