"""The console's settings: where the services answer, and how the pages behave.

The console has no database and no broker of its own: of the kernel's settings it uses the
tokens (roles), the business and shop timezones, the warehouses' cut-offs and the logging.
"""

from pydantic import Field, SecretStr

from lvyue.common.settings import KernelSettings


class ConsoleSettings(KernelSettings):
    service_name: str = "console"
    http_port: int = 8106
    order_review_url: str = Field(
        default="http://127.0.0.1:8101", description="Where order-review's API answers."
    )
    inventory_url: str = Field(default="http://127.0.0.1:8102")
    fulfilment_url: str = Field(default="http://127.0.0.1:8103")
    aftersales_url: str = Field(default="http://127.0.0.1:8104")
    upstream_timeout_s: float = Field(
        default=5.0, gt=0, description="How long a page waits for a service before saying so."
    )
    console_refresh_s: float = Field(
        default=5.0, ge=1, description="How often an open page reloads its list (htmx polling)."
    )
    console_page_size: int = Field(default=50, ge=1, le=200, description="Rows per page.")
    console_secret: SecretStr | None = Field(
        default=None,
        description="Signs the forms' CSRF tokens; the same on every console replica. Unset: "
        "a random one per process (forms open before a restart must be reloaded).",
    )
    console_secure_cookies: bool | None = Field(
        default=None,
        description="Mark cookies Secure (HTTPS only). Default: on in production, off in dev.",
    )

    @property
    def secure_cookies(self) -> bool:
        return (
            not self.is_dev
            if self.console_secure_cookies is None
            else (self.console_secure_cookies)
        )
