"""Order-review's settings."""

from lvyue.common.settings import KernelSettings


class OrderReviewSettings(KernelSettings):
    service_name: str = "order-review"
    http_host: str = "127.0.0.1"
    http_port: int = 8101
