"""Schemathesis hooks of the contract test: Standard Webhooks signatures.

The `webhookSignature` scheme puts a placeholder in `webhook-signature`; just before the
request goes out, this hook fixes the exact bytes of the body, stamps `webhook-timestamp`
with the current time, adds a `webhook-id` when the case has none, and signs
`<id>.<timestamp>.<body>` with PRODUCTIVITY_WEBHOOK_SECRET (HMAC-SHA256), as the
productivity system would. A case sent without the signature header (schemathesis
checking that authentication is enforced) is left unsigned.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import time
import uuid

import schemathesis

TIMESTAMP = re.compile(r"[0-9]{1,12}")
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


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path != "/hooks/productivity" or not case.headers:
        return
    if "webhook-signature" not in case.headers:
        return
    body = raw_body(case)
    if body is None:
        return
    if case.media_type is not None:
        case.body = body
    message_id = case.headers.setdefault("webhook-id", f"ct_{uuid.uuid4().hex}")
    # A timestamp generated outside the description stays, to be refused; a valid one
    # becomes the current time, to be accepted.
    timestamp = case.headers.get("webhook-timestamp", "")
    if not timestamp or TIMESTAMP.fullmatch(timestamp):
        timestamp = str(int(time.time()))
        case.headers["webhook-timestamp"] = timestamp
    mac = hmac.new(SECRET, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    case.headers["webhook-signature"] = "v1," + base64.b64encode(mac).decode()
