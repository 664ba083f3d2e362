"""What every webhook route shares, whatever the service or platform: reading the body within
its limits, the media type, JSON decoding that is bounded before it builds anything, the
errors each step answers with, and readers for platform payload fields.

The order of the checks is the order of the work: size (413), media type and encoding (415:
JSON in UTF-8, sent uncompressed), JSON within its limits (422), and only then the signature
(401) and the fields and delivery-id header (422).
"""

from lvyue.common.bounded_json import JsonLimits
from lvyue.common.platform_signing import SignatureError
from lvyue.common.webhooks.binding import relaying, secret_key
from lvyue.common.webhooks.errors import WebhookRejected, unprocessable
from lvyue.common.webhooks.headers import MAX_DELIVERY_ID, delivery_id
from lvyue.common.webhooks.json_body import (
    decode_json,
    decode_json_document,
    peek_text,
)
from lvyue.common.webhooks.request import (
    MAX_BODY_BYTES,
    read_body,
    read_json_document_request,
    read_json_request,
)

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_DELIVERY_ID",
    "JsonLimits",
    "SignatureError",
    "WebhookRejected",
    "decode_json",
    "decode_json_document",
    "delivery_id",
    "peek_text",
    "read_body",
    "read_json_document_request",
    "read_json_request",
    "relaying",
    "secret_key",
    "unprocessable",
]
