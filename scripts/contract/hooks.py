"""Schemathesis hooks of the contract test: Standard Webhooks signatures.

The `webhookSignature` scheme puts a placeholder in `webhook-signature`; just before the
request goes out, this hook fixes the exact bytes of the body, stamps `webhook-timestamp`
with the current time, adds a `webhook-id` when the case has none, and signs
`<id>.<timestamp>.<body>` with PRODUCTIVITY_WEBHOOK_SECRET (HMAC-SHA256), as the
productivity system would. A case sent without the signature header (schemathesis
checking that authentication is enforced) or with headers generated outside the
description (to be refused) is left unsigned.
"""

import base64
import hashlib
import hmac
import json
import os
import time
import uuid

import schemathesis
from schemathesis.core.parameters import ParameterLocation

# What schemathesis.toml puts in `webhook-signature` for this hook to replace.
PLACEHOLDER = "v1,placeholder"
SECRET = base64.b64decode(os.environ["INLET_CT_WEBHOOK_SECRET"].removeprefix("whsec_"))


def raw_body(case) -> bytes | None:
    """The bytes the transport would send for a JSON body; None when it is not JSON."""
    if case.media_type is None:
        return b""
    if not case.media_type.startswith("application/") or not case.media_type.endswith("json"):
        return None
    body = case.body
    if isinstance(body, bytes):
        return body
    if body is None:
        return b"null"
    return json.dumps(body).encode()


_clients = iter(range(1, 1 << 24))


@schemathesis.hook
def before_call(context, case, kwargs):
    # Each request from a client of its own (see run.py: the failure guard).
    n = next(_clients)
    case.headers = {**(case.headers or {}), "X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}
    if case.operation.path != "/hooks/productivity" or case.headers.get("webhook-signature") != PLACEHOLDER:
        return  # no signature, or one schemathesis made up to probe authentication: sent as is
    body = raw_body(case)
    if body is None:
        return
    if case.media_type is not None:
        case.body = body
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        return  # headers outside the description: sent as generated, to be refused
    message_id = case.headers.setdefault("webhook-id", f"ct_{uuid.uuid4().hex}")
    timestamp = str(int(time.time()))
    case.headers["webhook-timestamp"] = timestamp
    mac = hmac.new(SECRET, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    case.headers["webhook-signature"] = "v1," + base64.b64encode(mac).decode()
