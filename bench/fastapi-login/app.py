"""The login endpoint of Inlet (`POST /internal/auth/sync-user`) as a FastAPI + uvicorn app,
with the same durability: SQLite in WAL mode with `synchronous=FULL`, the user upserted and
the `auth0.user.login` event stored in one transaction, the answer sent after COMMIT (whose
fsync of the WAL makes it durable). Only for `Benchmarks/load.sh`'s side-by-side run.

    INTERNAL_API_TOKEN=... LOGIN_DB=/tmp/x.sqlite uvicorn app:app --workers 2 --host 127.0.0.1 --port 8090

Each worker process opens one connection; the endpoint is `async def` and runs its
transaction on the event loop (one request at a time per worker, as a SQLite connection
allows). The two workers take turns through an flock on a file beside the database, held
from BEGIN IMMEDIATE to COMMIT: SQLite's own busy handler polls with sleeps of 1 to 100 ms,
which left this app at a few hundred logins/s with a p50 of 260 ms; the lock wakes the other
worker as soon as the commit is done. The durability is SQLite's: COMMIT returns after the
fsync of the WAL.
"""
import fcntl
import hmac
import json
import os
import secrets
import sqlite3
import time

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

TOKEN = os.environ["INTERNAL_API_TOKEN"].encode()
DB = os.environ["LOGIN_DB"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, auth0_id TEXT NOT NULL UNIQUE, email TEXT, name TEXT, picture TEXT,
    email_verified INTEGER NOT NULL DEFAULT 0, logins_count INTEGER NOT NULL DEFAULT 0, last_ip TEXT,
    last_login_at INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, source TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
    payload TEXT NOT NULL, received_at INTEGER NOT NULL, UNIQUE (source, id));
"""


def connect() -> sqlite3.Connection:
    connection = sqlite3.connect(DB, isolation_level=None, check_same_thread=False, timeout=5.0)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA busy_timeout = 5000")
    connection.executescript(SCHEMA)
    return connection


app = FastAPI()
db = connect()
turn = open(DB + ".turn", "a")


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


@app.post("/internal/auth/sync-user")
async def sync_user(request: Request):
    given = request.headers.get("authorization", "")
    if not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].encode(), TOKEN):
        raise HTTPException(status_code=401, detail="unauthorized")
    raw = await request.body()
    try:
        body = json.loads(raw)
    except ValueError:
        raise HTTPException(status_code=400, detail="the body is not JSON")
    auth0_id = body.get("auth0Id") if isinstance(body, dict) else None
    if not isinstance(auth0_id, str) or not auth0_id:
        raise HTTPException(status_code=400, detail="auth0Id must be a non-empty string")
    now = int(time.time() * 1000)
    fcntl.flock(turn, fcntl.LOCK_EX)
    try:
        return transaction(auth0_id, body, raw, now)
    finally:
        fcntl.flock(turn, fcntl.LOCK_UN)


def transaction(auth0_id: str, body: dict, raw: bytes, now: int) -> JSONResponse:
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute("SELECT id FROM users WHERE auth0_id = ?", (auth0_id,)).fetchone()
        fields = (body.get("email"), body.get("name"), body.get("picture"), 1 if body.get("emailVerified") else 0,
                  int(body.get("loginsCount") or 0), body.get("ip"), now, now)
        if row is None:
            user_id = db.execute(
                "INSERT INTO users (auth0_id, email, name, picture, email_verified, logins_count, last_ip, last_login_at,"
                " updated_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (auth0_id, *fields, now)).lastrowid
            created = True
        else:
            user_id = row[0]
            db.execute(
                "UPDATE users SET email = ?, name = ?, picture = ?, email_verified = ?, logins_count = ?, last_ip = ?,"
                " last_login_at = ?, updated_at = ? WHERE id = ?", (*fields, user_id))
            created = False
        db.execute("INSERT INTO events (source, id, type, payload, received_at) VALUES ('auth0', ?, 'auth0.user.login', ?, ?)",
                   (f"evt_{secrets.token_hex(12)}", raw.decode(), now))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return JSONResponse({"success": True, "user_id": user_id, "created": created})
