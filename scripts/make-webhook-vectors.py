#!/usr/bin/env python3
"""Write fixtures/productivity/signature-vectors.json: Standard Webhooks test vectors.

The signatures come from the `standardwebhooks` package on PyPI (the scheme's reference
Python implementation), not from Inlet's own code, so the Swift tests check Inlet
against an independent signer.

    pip install standardwebhooks
    python3 scripts/make-webhook-vectors.py

Each vector: {name, secret, id, timestamp, body, signature, valid}. `body` is the exact
raw body text (UTF-8); `signature` is the whole `webhook-signature` header value. The
secrets are test-only values, used nowhere else.
"""

import base64
import json
from datetime import datetime, timezone
from pathlib import Path

from standardwebhooks import Webhook

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "productivity"

# The example secret from the Standard Webhooks specification (24 bytes).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
# A 32-byte secret whose base64 ends in padding.
SECRET_32 = "whsec_" + base64.b64encode(bytes(range(0x41, 0x61))).decode()
# Another secret, only ever used to make a wrong signature.
OTHER_SECRET = "whsec_" + base64.b64encode(b"not the productivity secret!").decode()


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    when = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return Webhook(secret).sign(msg_id, when, body)


def vector(name, secret, msg_id, timestamp, body, header=None):
    signature = sign(secret, msg_id, timestamp, body)
    if header is not None:
        signature = header(signature)
    return {
        "name": name,
        "secret": secret,
        "id": msg_id,
        "timestamp": str(timestamp),
        "body": body,
        "signature": signature,
        "valid": True,
    }


def main():
    created = (FIXTURES / "employee-created.json").read_text(encoding="utf-8")
    updated = (FIXTURES / "employee-updated.json").read_text(encoding="utf-8")
    deactivated = (FIXTURES / "employee-deactivated.json").read_text(encoding="utf-8")

    compact_created = json.dumps(json.loads(created), ensure_ascii=False, separators=(",", ":"))
    unicode_body = json.dumps(
        {
            "id": "evt_unicode_01",
            "type": "employee.created",
            "occurred_at": "2026-03-03T09:00:00Z",
            "data": {
                "employee_id": "EMP-20931",
                "name": "Zoë Ångström-Łukasiewicz 李小龙 🚀",
                "email": "zoe.angstrom@example.com",
                "department": "Logística e Operações",
                "phone_number": "+351 912 345 678",
            },
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    notes = "Transferred from the night shift; forklift certified; prefers email contact. " * 5
    long_body = json.dumps(
        {
            "id": "evt_long_01",
            "type": "employee.updated",
            "occurred_at": "2026-03-05T22:31:09Z",
            "data": {
                "employee_id": "EMP-30077",
                "name": "Jonathan Oyelaran-Whitfield",
                "email": "jonathan.oyelaran-whitfield@example.com",
                "department": "Warehouse Operations",
                "phone_number": "+44 20 7946 0958",
                "connecteam_id": "ct_10029384",
                "role_code": "warehouse_lead",
                "notes": notes,
            },
        },
        separators=(",", ":"),
    )
    assert 650 <= len(long_body.encode()) <= 800, len(long_body.encode())

    def wrong_then_right(secret, msg_id, timestamp, body):
        wrong = sign(OTHER_SECRET, msg_id, timestamp, body)
        return lambda right: f"{wrong} {right}"

    def v1a_then_right(right):
        fake_ed25519 = base64.b64encode(bytes(range(64))).decode()
        return f"v1a,{fake_ed25519} {right}"

    vectors = [
        vector("employee-created-pretty", SECRET, "msg_2nN8fUqzJd5SAt7nV3nAqGW6mYb", 1772439342, created),
        vector("employee-created-compact", SECRET, "msg_2nN8fUqzJd5SAt7nV3nAqGW6mYc", 1772439343, compact_created),
        vector("employee-updated", SECRET_32, "msg_2nQWJ3xWvQbP6TdXgk8Lz1rRs0e", 1773064927, updated),
        vector("employee-deactivated-bare-secret", SECRET.removeprefix("whsec_"), "msg_2nZ4kT9YpE1cH7uVbN3mQ5wX8rA", 1777571100, deactivated),
        vector("unicode", SECRET, "msg_unicode_1", 1772528400, unicode_body),
        vector("empty-object", SECRET, "msg_empty", 1772528401, "{}"),
        vector("about-700-bytes", SECRET_32, "msg_long_1", 1772749869, long_body),
        vector(
            "rotation-wrong-entry-first",
            SECRET,
            "msg_rotation_1",
            1772600000,
            created,
            header=wrong_then_right(SECRET, "msg_rotation_1", 1772600000, created),
        ),
        vector("v1a-entry-first", SECRET, "msg_v1a_1", 1772600001, compact_created, header=v1a_then_right),
    ]

    # Cross-check: every vector's v1 entry recomputes with the package.
    for v in vectors:
        expected = sign(v["secret"], v["id"], int(v["timestamp"]), v["body"])
        assert expected in v["signature"].split(" "), v["name"]

    out = FIXTURES / "signature-vectors.json"
    out.write_text(json.dumps(vectors, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(vectors)} vectors to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
