"""Headers a webhook's sender sets beside its signature, read one way by every webhook route:
the delivery id (X-Lvyue-Delivery, X-Shopify-Webhook-Id) that de-duplicates deliveries."""

from __future__ import annotations

import re
from collections.abc import Mapping

from lvyue.common.platform_signing import header
from lvyue.common.webhooks.errors import PayloadError

MAX_DELIVERY_ID = 128
# Printable ASCII, the Idempotency-Key rule: the id is the key of webhook_deliveries, compared
# as text, and no platform signs it (a header of 6,000 characters was a btree error, a 500).
_DELIVERY_ID = re.compile(rf"[ -~]{{1,{MAX_DELIVERY_ID}}}")


def delivery_id(headers: Mapping[str, str], name: str) -> str | None:
    """The sender's delivery id in header `name`, stripped; None when it sent none. Raises
    PayloadError naming the header unless the id is 1 to 128 printable ASCII characters."""
    value = header(headers, name)
    if value is None or _DELIVERY_ID.fullmatch(value):
        return value
    wrong = next((char for char in value if not " " <= char <= "~"), None)
    why = (
        f"U+{ord(wrong):04X} is not printable ASCII"
        if wrong is not None
        else f"got {len(value)} characters"
    )
    rule = f"1 to {MAX_DELIVERY_ID} printable ASCII characters, e.g. a UUID"
    raise PayloadError([(name, f"header {name}: {rule} ({why})")])
