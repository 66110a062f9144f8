// swift-tools-version:6.2
import PackageDescription

/// One list of settings for every target (as Hummingbird's own Package.swift does):
/// Swift 6 language mode plus the upcoming features that keep C types out of public API.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "inlet",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "inlet", targets: ["inlet"]),
        // The handler kit (what a handler may touch), the command line as a library, and
        // the built-in handlers: what a package that builds its own `inlet` depends on.
        .library(name: "InletCore", targets: ["InletCore"]),
        .library(name: "InletCommand", targets: ["InletCommand"]),
        .library(name: "InletHTTPClient", targets: ["InletHTTPClient"]),
        .library(name: "AuditHandler", targets: ["AuditHandler"]),
        .library(name: "CommandHandler", targets: ["CommandHandler"]),
        .library(name: "ForwardHandler", targets: ["ForwardHandler"]),
        .library(name: "ProvisioningHandler", targets: ["ProvisioningHandler"]),
        .library(name: "MetadataSyncHandler", targets: ["MetadataSyncHandler"]),
        .library(name: "Auth0Management", targets: ["Auth0Management"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // The operator console's HTML templates (escaping by default).
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        // Tests only: TLS for the fake Auth0 tenant that a real `inlet serve` reaches over
        // https (already in the graph through postgres-nio).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // C libraries, by Debian package: module map and shim header only.
        .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // glibc's GNU extensions (pipe2, posix_spawn_file_actions_addclosefrom_np), which
        // Swift's Glibc module leaves out: a C file compiled with _GNU_SOURCE.
        .target(name: "CSpawn"),

        // Where an event goes: a route (InletServer) hands it to the EventIntake (InletCore),
        // which writes it with its deliveries through the store protocols (implemented by
        // InletSQLite) and wakes the Dispatcher (InletCore), whose workers run the handlers
        // (Handlers/). A handler sees InletCore only, plus what it asks for.

        // The handler kit: events, the handler protocol and registry, the intake and the
        // dispatcher, the store protocols and records, settings, JSON, crypto, time.
        .target(
            name: "InletCore",
            dependencies: [
                "CJansson", "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The worker thread (named, sized, joinable from async code) and the work queue of the
        // classes that own a thread: the SQLite executor and its commit syncer, the curl
        // multi loop, the command handler's supervisor. No dependencies.
        .target(name: "InletThreads", swiftSettings: swiftSettings),
        // Outbound HTTP on libcurl's multi interface (handlers that call out, Auth0), with
        // swift-http-types' method and field types.
        .target(
            name: "InletHTTPClient",
            dependencies: ["CCurl", "InletThreads", .product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: swiftSettings
        ),
        // The SQLite store: connection, writer thread with group commit, commit syncer,
        // checkpoints, the process lock, migrations.
        .target(
            name: "InletSQLite",
            dependencies: ["InletCore", "InletThreads", "CSQLite3", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The PostgreSQL store (postgres-nio): the same protocols on a database that several
        // inlet processes share; migrations under an advisory lock, claims with SKIP LOCKED,
        // wake-ups by LISTEN/NOTIFY.
        .target(
            name: "InletPostgres",
            dependencies: [
                "InletCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Auth0 access tokens for /auth/*: JWT, JWKS and its cache.
        .target(
            name: "AccessTokens",
            dependencies: [
                "InletCore", "InletHTTPClient", "COpenSSL",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Auth0 Management API client: token manager, rate limiter, errors, settings.
        .target(
            name: "Auth0Management",
            dependencies: [
                "InletCore", "InletHTTPClient",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP edge and routes (Hummingbird): authenticate, read, validate, hand to the
        // intake, answer.
        .target(
            name: "InletServer",
            dependencies: [
                "InletCore", "InletSQLite", "InletPostgres", "InletHTTPClient", "AccessTokens", "Auth0Management",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            // A link to docs/openapi.yaml, served at GET /openapi.yaml; the console's
            // templates, stylesheet and script, compiled into the binary (no files to ship).
            resources: [
                .embedInCode("openapi.yaml"),
                .embedInCode("Console/Templates/layout.mustache"),
                .embedInCode("Console/Templates/sign-in.mustache"),
                .embedInCode("Console/Templates/overview.mustache"),
                .embedInCode("Console/Templates/events.mustache"),
                .embedInCode("Console/Templates/event.mustache"),
                .embedInCode("Console/Templates/dead-letters.mustache"),
                .embedInCode("Console/Templates/handlers.mustache"),
                .embedInCode("Console/Templates/employees.mustache"),
                .embedInCode("Console/Templates/message.mustache"),
                .embedInCode("Console/Static/console.css"),
                .embedInCode("Console/Static/console.js"),
            ],
            swiftSettings: swiftSettings
        ),
        // The `inlet` command line as a library: `InletCommand.main(handlers:)`.
        .target(
            name: "InletCommand",
            dependencies: [
                "InletCore", "InletServer", "InletSQLite", "InletPostgres", "InletHTTPClient", "AccessTokens", "Auth0Management",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Built-in handlers: each sees InletCore and what it calls, never the server or SQLite.
        .target(
            name: "Auth0HandlerSupport",
            dependencies: ["InletCore", "Auth0Management"],
            path: "Handlers/Auth0Support",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ProvisioningHandler",
            dependencies: [
                "InletCore", "Auth0Management", "Auth0HandlerSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Handlers/Provisioning",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MetadataSyncHandler",
            dependencies: ["InletCore", "Auth0Management", "Auth0HandlerSupport", .product(name: "Logging", package: "swift-log")],
            path: "Handlers/MetadataSync",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AuditHandler",
            dependencies: ["InletCore", .product(name: "Logging", package: "swift-log")],
            path: "Handlers/Audit",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CommandHandler",
            dependencies: ["InletCore", "InletThreads", "CSpawn", .product(name: "Logging", package: "swift-log")],
            path: "Handlers/Command",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ForwardHandler",
            dependencies: [
                "InletCore", "InletHTTPClient", .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Handlers/Forward",
            swiftSettings: swiftSettings
        ),
        // `inlet`: the command line with the built-in handlers.
        .executableTarget(
            name: "inlet",
            dependencies: [
                "InletCommand", "InletCore", "Auth0Management", "AuditHandler", "CommandHandler", "ForwardHandler",
                "ProvisioningHandler", "MetadataSyncHandler",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "inlet-json-bench",
            dependencies: ["InletCore", "CJansson"],
            path: "Benchmarks/JSONBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "inlet-drain-bench",
            dependencies: ["InletCore", "InletSQLite", "InletPostgres", "AuditHandler", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/DrainBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "inlet-jwt-bench",
            dependencies: ["AccessTokens", "InletCore", "COpenSSL"],
            path: "Benchmarks/JWTBench",
            swiftSettings: swiftSettings
        ),
        // Fuzzing (docs/fuzzing.md): the entries, shared by the libFuzzer driver and the
        // corpus replay test; the driver replays files when built without -DFUZZING.
        .target(
            name: "InletFuzzEntries",
            dependencies: ["InletCore", "AccessTokens", "COpenSSL"],
            path: "Fuzz/Entries",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "inlet-fuzz",
            dependencies: ["InletFuzzEntries"],
            path: "Fuzz/Driver",
            swiftSettings: swiftSettings
        ),
        // Support code shared by the test targets: log capture, RSA test keys, loopback
        // HTTP servers, a movable clock, polling, a real `inlet serve` process, databases in
        // the tests' PostgreSQL. A regular target (no `import Testing`), linked only into
        // the tests.
        .target(
            name: "InletTestSupport",
            dependencies: [
                "InletCore", "InletHTTPClient", "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/InletTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FuzzCorpusTests",
            dependencies: ["InletFuzzEntries"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InletThreadsTests",
            dependencies: ["InletThreads"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InletCoreTests",
            dependencies: ["InletCore", "InletTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InletSQLiteTests",
            dependencies: ["InletCore", "InletSQLite", "CSQLite3", "InletTestSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // One suite of every store operation, run against each backend (SQLite, and
        // PostgreSQL in the cluster `make test` starts: scripts/test-postgres.sh).
        .testTarget(
            name: "StoreConformanceTests",
            dependencies: [
                "InletCore", "InletSQLite", "InletPostgres", "InletTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InletHTTPClientTests",
            dependencies: [
                "InletHTTPClient", "InletTestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AccessTokensTests",
            dependencies: [
                "InletCore", "InletHTTPClient", "AccessTokens", "InletTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Management API client and the handlers built on it (provisioning,
        // metadata-sync), against a fake tenant on loopback.
        .testTarget(
            name: "Auth0ManagementTests",
            dependencies: [
                "InletCore", "InletSQLite", "InletHTTPClient", "Auth0Management", "Auth0HandlerSupport",
                "ProvisioningHandler", "MetadataSyncHandler", "InletTestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HandlerTests",
            dependencies: [
                "InletCore", "InletSQLite", "InletHTTPClient", "AuditHandler", "CommandHandler", "ForwardHandler",
                "InletTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Several real `inlet serve` processes on one PostgreSQL database (the cluster
        // `make test` starts): traffic spread over them, an instance killed, PostgreSQL
        // stopped and started under load.
        .testTarget(
            name: "ClusterTests",
            dependencies: [
                "InletCore", "InletHTTPClient", "InletTestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InletServerTests",
            dependencies: [
                "InletCore", "InletServer", "InletSQLite", "InletPostgres", "AccessTokens", "Auth0Management", "CSQLite3", "AuditHandler",
                "ProvisioningHandler", "MetadataSyncHandler", "InletTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
