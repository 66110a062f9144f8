#!/usr/bin/env python3
"""Writes the seed inputs of Fuzz/corpus/<target>/ (files named seed-*) from fixtures/.

    python3 scripts/fuzz-seeds.py

Inputs that fuzzing adds are named by their SHA-1 (libFuzzer's names); inputs that once
crashed are named regression-*; neither is touched here. Input formats: see
Fuzz/Entries/Entries.swift.
"""

import base64
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "Fuzz" / "corpus"
VECTORS = json.loads((ROOT / "fixtures/productivity/signature-vectors.json").read_text())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def write(target: str, name: str, data: bytes | str) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"seed-{name}").write_bytes(data.encode() if isinstance(data, str) else data)


def json_seeds() -> None:
    for path in sorted((ROOT / "fixtures").rglob("*.json")):
        write("json", f"{path.parent.name}-{path.stem}", path.read_bytes())
    for vector in VECTORS:
        write("json", f"vector-{vector['name']}", vector["body"])
    write("json", "depth-32", "[" * 32 + "]" * 32)
    write("json", "depth-33", "[" * 33 + "]" * 33)
    write("json", "brackets-in-strings", '{"a":"[[[{\\"","b":["\\\\",{"c":"]]"}]}')
    write("json", "import", json.dumps([{"employee_id": 7, "name": "A", "email": "a@example.com", "department": "D"}, {}]))
    write("json", "scalars", '[1,-0,0.5,1e300,true,false,null,"\\u00e9\\ud83d\\ude00"]')
    write("json", "duplicate-keys", '{"a":1,"a":2}')


def jwt_seeds() -> None:
    header = {"alg": "RS256", "typ": "JWT", "kid": "fuzz"}
    claims = {"iss": "https://tenant.example.auth0.com/", "sub": "auth0|1", "aud": ["https://inlet.example/api", "https://tenant.example.auth0.com/userinfo"],
              "iat": 1771996400, "exp": 1772003600, "scope": "openid profile", "permissions": ["read:me"], "azp": "spa"}
    token = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}.{b64url(bytes(256))}"
    write("jwt", "token", b"\x00" + token.encode())
    none = b64url(json.dumps({"alg": "none"}).encode())
    write("jwt", "token-alg-none", b"\x00" + f"{none}.{b64url(json.dumps(claims).encode())}.".encode())
    hs256 = b64url(json.dumps({"alg": "HS256", "kid": "fuzz"}).encode())
    write("jwt", "token-hs256", b"\x00" + f"{hs256}.{b64url(b'{}')}.AAAA".encode())
    write("jwt", "claims", b"\x01" + json.dumps(claims).encode())
    write("jwt", "claims-single-aud-nbf", b"\x01" + json.dumps(dict(claims, aud="https://inlet.example/api", nbf=1771999000.5)).encode())
    write("jwt", "claims-expired", b"\x01" + json.dumps(dict(claims, exp=1771000000)).encode())
    write("jwt", "header", b"\x02" + json.dumps(header).encode())
    write("jwt", "header-at-jwt", b"\x02" + json.dumps(dict(header, typ="at+jwt")).encode())
    write("jwt", "header-crit", b"\x02" + json.dumps(dict(header, crit=["exp"])).encode())


def webhook_seeds() -> None:
    for vector in VECTORS:
        fields = [vector["secret"], vector["id"], vector["timestamp"], vector["signature"], "0", vector["body"]]
        write("webhooks", vector["name"], "\n".join(fields))
        write("base64", f"secret-{vector['name']}", vector["secret"].removeprefix("whsec_"))
        for entry in vector["signature"].split(" "):
            if entry.startswith("v1,"):
                write("base64", f"signature-{vector['name']}", entry[3:])
    first = VECTORS[0]
    write("webhooks", "stale", "\n".join([first["secret"], first["id"], first["timestamp"], first["signature"], "3600", first["body"]]))
    write("base64", "url-segment", b64url(b'{"alg":"RS256","kid":"k"}'))
    write("base64", "padding", "Zm8=")


def content_type_seeds() -> None:
    for value in ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/cloudevents+json",
                  "text/plain", "application/x-www-form-urlencoded", " application/json ;", "application/+json", "multipart/form-data; boundary=x"]:
        write("content-type", value.replace("/", "_").replace(" ", "").replace(";", "_")[:60] or "blank", value)


if __name__ == "__main__":
    json_seeds()
    jwt_seeds()
    webhook_seeds()
    content_type_seeds()
