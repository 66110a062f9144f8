#!/usr/bin/env python3
"""Checks the module boundaries that Package.swift draws (docs/architecture.md), so that a
dependency added in passing cannot undo them:

- InletCore (the handler kit) links no C library but jansson and libcrypto, and no Inlet
  module: the store protocols are its only way to storage;
- InletHTTPClient depends on libcurl (and swift-http-types) only, besides InletThreads;
- InletThreads (the worker thread and work queue) depends on nothing;
- no handler links SQLite, PostgreSQL, the server or the command line; a handler that makes no HTTP
  call does not link libcurl;
- only InletServer and InletCommand see Hummingbird.

Reads `swift package dump-package`; exits non-zero naming every broken rule.
"""
import json
import subprocess
import sys

dump = json.loads(subprocess.run(["swift", "package", "dump-package"], check=True, capture_output=True, text=True).stdout)
targets = {t["name"]: t for t in dump["targets"]}


def direct(name):
    """Target names and external products (as 'package:product') `name` depends on."""
    names = []
    for dependency in targets[name]["dependencies"]:
        if "byName" in dependency:
            names.append(dependency["byName"][0])
        elif "target" in dependency:
            names.append(dependency["target"][0])
        elif "product" in dependency:
            names.append(f"{dependency['product'][1]}:{dependency['product'][0]}")
    return names


def closure(name):
    seen, stack = set(), [name]
    while stack:
        for dependency in direct(stack.pop()):
            if dependency not in seen:
                seen.add(dependency)
                if dependency in targets:
                    stack.append(dependency)
    return seen


failures = []


def forbid(target, forbidden, why):
    reached = closure(target) & set(forbidden)
    if reached:
        failures.append(f"{target} reaches {', '.join(sorted(reached))}: {why}")


c_libraries = {"CJansson", "COpenSSL", "CCurl", "CSQLite3", "CSpawn"}
inlet_modules = {name for name, target in targets.items() if target["type"] == "regular" and name not in c_libraries}

core = closure("InletCore")
for name in core & (c_libraries | inlet_modules):
    if name not in {"CJansson", "COpenSSL"}:
        failures.append(f"InletCore depends on {name}: the handler kit sees JSON and crypto only, and storage only through its protocols")
http_client = set(direct("InletHTTPClient"))
if http_client - {"InletThreads", "swift-http-types:HTTPTypes"} != {"CCurl"}:
    failures.append(f"InletHTTPClient depends on {direct('InletHTTPClient')}: it may use libcurl, swift-http-types and InletThreads only")
if direct("InletThreads"):
    failures.append(f"InletThreads depends on {direct('InletThreads')}: the thread primitives depend on nothing")

handlers = [name for name, target in targets.items() if (target.get("path") or "").startswith("Handlers/")]
if not handlers:
    failures.append("no handler targets found under Handlers/")
calls_out = {"ForwardHandler", "ProvisioningHandler", "MetadataSyncHandler", "Auth0HandlerSupport"}
for handler in handlers:
    forbid(handler, {"CSQLite3", "InletSQLite", "InletPostgres", "postgres-nio:PostgresNIO", "InletServer", "InletCommand",
                     "hummingbird:Hummingbird"},
           "a handler sees InletCore and what it calls, never the store's implementation or the server")
    if handler not in calls_out:
        forbid(handler, {"CCurl", "InletHTTPClient"}, "it makes no HTTP call, so it links no HTTP client")

for name in inlet_modules - {"InletServer", "InletCommand", "InletTestSupport"}:
    if targets[name]["type"] == "regular":
        forbid(name, {"hummingbird:Hummingbird", "hummingbird:HummingbirdCore"}, "only the server and the command line see Hummingbird")

if failures:
    print("architecture check failed:\n  " + "\n  ".join(failures))
    sys.exit(1)
print(f"architecture check passed: {len(targets)} targets, {len(handlers)} handlers")
