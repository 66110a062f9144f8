#!/usr/bin/env python3
"""Checks docs/openapi.yaml against a live `inlet serve` with schemathesis.

    python3 scripts/contract/run.py [--binary .build/debug/inlet] [--max-examples 25] [--time-limit 300]

Starts, on loopback only: a JWKS endpoint (an RSA key made here with the openssl command)
and `inlet serve` on an ephemeral port with a database in a temporary folder, long
distinct tokens and a webhook secret. Then runs schemathesis with the credentials of
schemathesis.toml and the signing hook of hooks.py, and requires: no 5xx other than the
described 503s, every status, header, content type and body as described, every answer
within the response-time bound. Stops the server and exits non-zero on any failure.
"""

import argparse
import base64
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DOMAIN = "contract-test.invalid"
AUDIENCE = "https://inlet.contract-test.invalid/api"
SUBJECT = "auth0|contract-test"
# The employee that POST /admin/employees/{employee_id}/provision is called with
# (schemathesis.toml): stored before the server starts, as a handler would have stored it.
EMPLOYEE = "EMP-CONTRACT"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=data, check=True, capture_output=True).stdout


def signing_key(folder: Path) -> tuple[Path, dict]:
    """A new RSA key and the JWKS that publishes it."""
    key = folder / "jwks-key.pem"
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key))
    modulus = openssl("rsa", "-in", str(key), "-noout", "-modulus").decode().strip().split("=", 1)[1]
    jwk = {"kty": "RSA", "kid": "contract", "use": "sig", "alg": "RS256",
           "n": b64url(bytes.fromhex(modulus)), "e": b64url((65537).to_bytes(3, "big"))}
    return key, {"keys": [jwk]}


def access_token(key: Path) -> str:
    """An RS256 access token as the tenant would issue it, valid for an hour."""
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": "contract"}
    claims = {"iss": f"https://{DOMAIN}/", "aud": [AUDIENCE], "sub": SUBJECT, "iat": now, "exp": now + 3600}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = openssl("dgst", "-sha256", "-sign", str(key), data=signing_input.encode())
    return f"{signing_input}.{b64url(signature)}"


def serve_jwks(jwks: dict) -> ThreadingHTTPServer:
    body = json.dumps(jwks).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def seed_employee(binary: str, env: dict, database: Path) -> None:
    subprocess.run([binary, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO employees (employee_id, name, email, department, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            (EMPLOYEE, "Contract Test", "contract.test@example.com", "Production", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        )
    db.close()


def wait_for_port(log: Path, process: subprocess.Popen, deadline: float) -> int:
    """The port `inlet serve` logs once it listens."""
    pattern = re.compile(r"address=127\.0\.0\.1:(\d+).*listening|listening.*address=127\.0\.0\.1:(\d+)")
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if match := pattern.search(line):
                return int(match.group(1) or match.group(2))
        if process.poll() is not None:
            raise RuntimeError(f"inlet serve exited with {process.returncode}")
        time.sleep(0.05)
    raise RuntimeError("inlet serve did not report its address in time")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build/debug/inlet"))
    parser.add_argument("--max-examples", type=int, default=25, help="examples per operation and phase")
    parser.add_argument("--time-limit", type=float, default=300, help="seconds before the run counts as hung")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="inlet-contract-") as folder_name:
        folder = Path(folder_name)
        key, jwks = signing_key(folder)
        jwks_server = serve_jwks(jwks)
        credentials = {
            "INLET_CT_INTERNAL_TOKEN": secrets.token_urlsafe(36),
            "INLET_CT_ADMIN_TOKEN": secrets.token_urlsafe(36),
            "INLET_CT_PRODUCTIVITY_TOKEN": secrets.token_urlsafe(36),
            "INLET_CT_LOG_STREAM_TOKEN": secrets.token_urlsafe(36),
            "INLET_CT_WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "INLET_CT_ACCESS_TOKEN": access_token(key),
        }
        # Only what this run sets: no setting of the caller's environment leaks in.
        prefixes = ("INLET_", "AUTH0_", "INTERNAL_API", "ADMIN_API", "PRODUCTIVITY_")
        server_env = {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}
        server_env.update({
            "INLET_LISTEN": "127.0.0.1:0",
            "INLET_DATABASE": str(folder / "inlet.sqlite"),
            "INLET_DB_SYNCHRONOUS": "normal",
            "INLET_AUTH_RATE_LIMIT": "0",
            # Schemathesis sends many requests with no or a wrong credential, and expects
            # 401 for each: it is the one client here, so the failure guard would answer 429
            # after 20 a minute. Through a trusted "proxy" (loopback), each request names a
            # client of its own in X-Forwarded-For (hooks.py). The guard has its own tests.
            "INLET_TRUSTED_PROXIES": "127.0.0.1/32",
            "INTERNAL_API_TOKEN": credentials["INLET_CT_INTERNAL_TOKEN"],
            "ADMIN_API_TOKEN": credentials["INLET_CT_ADMIN_TOKEN"],
            "AUTH0_LOG_STREAM_TOKEN": credentials["INLET_CT_LOG_STREAM_TOKEN"],
            "PRODUCTIVITY_WEBHOOK_SECRET": credentials["INLET_CT_WEBHOOK_SECRET"],
            "AUTH0_DOMAIN": DOMAIN,
            "AUTH0_API_IDENTIFIER": AUDIENCE,
            "AUTH0_JWKS_URL": f"http://127.0.0.1:{jwks_server.server_address[1]}/.well-known/jwks.json",
        })
        seed_employee(args.binary, server_env, folder / "inlet.sqlite")
        log = folder / "inlet.log"
        with open(log, "wb") as log_file:
            server = subprocess.Popen([args.binary, "serve"], env=server_env, stdout=log_file, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)
        try:
            port = wait_for_port(log, server, time.monotonic() + 30)
            st_env = dict(os.environ, **credentials, SCHEMATHESIS_HOOKS="hooks",
                          PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
            command = [
                sys.executable, "-m", "schemathesis.cli", "--config-file", str(HERE / "schemathesis.toml"), "--no-color",
                "run", str(ROOT / "docs/openapi.yaml"), "--url", f"http://127.0.0.1:{port}",
                *(["--checks", os.environ["INLET_CT_CHECKS"]] if os.environ.get("INLET_CT_CHECKS") else []),
                "--max-examples", str(args.max_examples), "--workers", "1",
                "--request-timeout", "10", "--max-response-time", "5", "--generation-database", "none",
                "--suppress-health-check", "all", "--report", "junit", "--report-junit-path", str(folder / "junit.xml"),
            ]
            if args.seed is not None:
                command += ["--seed", str(args.seed)]
            print(f"contract: schemathesis against inlet serve on 127.0.0.1:{port}", flush=True)
            try:
                result = subprocess.run(command, env=st_env, cwd=folder, timeout=args.time_limit)
                status = result.returncode
            except subprocess.TimeoutExpired:
                print(f"contract: schemathesis did not finish within {args.time_limit:.0f} s (a hang?)", file=sys.stderr)
                status = 1
            if server.poll() is not None:
                print(f"contract: inlet serve exited during the run ({server.returncode})", file=sys.stderr)
                status = status or 1
        except Exception as error:
            print(f"contract: {error}", file=sys.stderr)
            status = 1
        finally:
            stop(server)
            jwks_server.shutdown()
        if status != 0:
            print("contract: last lines of the server log:", file=sys.stderr)
            print("\n".join(log.read_text(errors="replace").splitlines()[-40:]), file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
