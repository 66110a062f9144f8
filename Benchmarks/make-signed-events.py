#!/usr/bin/env python3
"""Writes N productivity events signed by the independent `standardwebhooks` package, one per
line: id, timestamp, signature, body (tab-separated). Used by Benchmarks/productivity.lua.

    make-signed-events.py N SECRET OUT [TYPE]    (TYPE: employee.created unless given)"""
import json, sys, time
from datetime import datetime, timezone
from standardwebhooks import Webhook

count, secret, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
event_type = sys.argv[4] if len(sys.argv) > 4 else "employee.created"
hook = Webhook(secret)
now = datetime.now(tz=timezone.utc)
with open(out, "w") as f:
    for i in range(count):
        event_id = f"msg_bench_{int(time.time())}_{i}"
        body = json.dumps({
            "id": event_id, "type": event_type, "occurred_at": now.isoformat(),
            "data": {
                "employee_id": f"EMP-{i:07d}", "name": "Maria Fernández-Castillo", "email": f"employee{i}@example.com",
                "department": "Production - Line 4 (Assembly and Quality Control)", "phone_number": "+1 555 010 4821",
                "connecteam_id": f"ct_{i:09d}", "role_code": "production_associate",
                "notes": "x" * 260,
            },
        }, separators=(",", ":"))
        f.write(f"{event_id}\t{int(now.timestamp())}\t{hook.sign(event_id, now, body)}\t{body}\n")
