// swift-tools-version:6.2
import PackageDescription

/// The same settings as Inlet's own targets: Swift 6 language mode plus the upcoming
/// features that keep imported types out of public API by accident.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// A team's own `inlet`: Inlet's command line, server and store, the built-in handlers it
/// wants, and one handler of its own, without forking Inlet.
///
/// Inlet comes in by path here (this folder lives inside Inlet's repository); a package of
/// its own would name it by URL instead:
/// `.package(url: "https://git.example.com/platform/inlet.git", branch: "main")`.
let package = Package(
    name: "custom-inlet",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "inlet", path: "../.."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // The team's handler: a library that sees Inlet's handler kit (InletCore) only.
        .target(
            name: "StarterLogHandler",
            dependencies: [
                .product(name: "InletCore", package: "inlet"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/StarterLog",
            swiftSettings: swiftSettings
        ),
        // The team's `inlet`: one call of InletCommand.main with the handlers it registers.
        .executableTarget(
            name: "custom-inlet",
            dependencies: [
                "StarterLogHandler",
                .product(name: "InletCommand", package: "inlet"),
                .product(name: "InletCore", package: "inlet"),
                .product(name: "AuditHandler", package: "inlet"),
                .product(name: "ForwardHandler", package: "inlet"),
            ],
            swiftSettings: swiftSettings
        ),
        // The handler on its own, then the built executable end to end: `serve` on
        // loopback, a real webhook over HTTP, the real dispatcher, SIGTERM.
        .testTarget(
            name: "CustomInletTests",
            dependencies: [
                "StarterLogHandler",
                .product(name: "InletCore", package: "inlet"),
                .product(name: "InletHTTPClient", package: "inlet"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
