"""The Chinese sales platforms' signatures, shared by the services that check or make them.

Taobao (TOP), JD (JOS) and Pinduoduo sign the same way at heart: every parameter except `sign`,
sorted by name and concatenated as name+value (then, for a pushed body, the raw body), is
hashed with the app secret and sent as upper-case hex in the `sign` parameter:
    md5:          HEX_UPPER(md5(secret + k1v1k2v2... + body + secret))
    hmac:         HEX_UPPER(hmac_md5(secret, k1v1k2v2... + body))
    hmac-sha256:  HEX_UPPER(hmac_sha256(secret, k1v1k2v2... + body))
Douyin's push signs the body alone: hex md5(app_key + body + app_secret), lower case.

The primitives (primitives.py) are pure. The verifiers, one module per platform (verify_top,
verify_jos, verify_pdd, verify_douyin_event), take the request's URL parameters and headers as
one mapping, look the app's secret up as (platform, app key) and raise SignatureError saying
what is wrong. Everything is importable from here. pushes.py has the base the services' platform
adapters inherit their `verify` from (TopPush, JosPush, PddPush, DouyinPush).
"""

from lvyue.common.platform_signing.douyin import (
    DOUYIN_API_VERSION,
    DOUYIN_APP_ID_HEADER,
    DOUYIN_SIGN_HEADER,
    DOUYIN_SIGN_METHOD_HEADER,
    douyin_api_sign,
    douyin_param_json,
    verify_douyin_event,
)
from lvyue.common.platform_signing.jd import (
    JOS_BODY_PARAM,
    JOS_SYSTEM_PARAMS,
    jos_call_params,
    verify_jos,
)
from lvyue.common.platform_signing.pinduoduo import (
    PDD_CLIENT_ID,
    PDD_SYSTEM_PARAMS,
    pdd_call_params,
    pdd_message_sign,
    verify_pdd,
)
from lvyue.common.platform_signing.primitives import (
    CHINA,
    CHINA_TIME_FORMAT,
    DEFAULT_TOLERANCE,
    SIGN,
    SIGN_METHODS,
    TIMESTAMP,
    SecretLookup,
    SignatureError,
    SignMethod,
    app_secret,
    check_fresh,
    check_sign,
    china_time_text,
    china_timestamp,
    douyin_event_sign,
    given_sign,
    header,
    hmac_upper,
    md5_upper,
    md5_wrapped,
    normalize_headers,
    parse_china_time,
    required_param,
    sign,
    sorted_params,
    system_params,
    unix_seconds,
)
from lvyue.common.platform_signing.taobao import (
    TOP_SIGN_LIST_HEADER,
    TOP_SYSTEM_PARAMS,
    top_call_params,
    top_signed_params,
    verify_top,
)

__all__ = [
    "CHINA",
    "CHINA_TIME_FORMAT",
    "DEFAULT_TOLERANCE",
    "DOUYIN_API_VERSION",
    "DOUYIN_APP_ID_HEADER",
    "DOUYIN_SIGN_HEADER",
    "DOUYIN_SIGN_METHOD_HEADER",
    "JOS_BODY_PARAM",
    "JOS_SYSTEM_PARAMS",
    "PDD_CLIENT_ID",
    "PDD_SYSTEM_PARAMS",
    "SIGN",
    "SIGN_METHODS",
    "TIMESTAMP",
    "TOP_SIGN_LIST_HEADER",
    "TOP_SYSTEM_PARAMS",
    "SecretLookup",
    "SignMethod",
    "SignatureError",
    "app_secret",
    "check_fresh",
    "check_sign",
    "china_time_text",
    "china_timestamp",
    "douyin_api_sign",
    "douyin_event_sign",
    "douyin_param_json",
    "given_sign",
    "header",
    "hmac_upper",
    "jos_call_params",
    "md5_upper",
    "md5_wrapped",
    "normalize_headers",
    "parse_china_time",
    "pdd_call_params",
    "pdd_message_sign",
    "required_param",
    "sign",
    "sorted_params",
    "system_params",
    "top_call_params",
    "top_signed_params",
    "unix_seconds",
    "verify_douyin_event",
    "verify_jos",
    "verify_pdd",
    "verify_top",
]
