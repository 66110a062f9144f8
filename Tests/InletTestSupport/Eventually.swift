/// Polls `condition` until it holds or `timeout` passes; never a fixed sleep. On timeout
/// it throws ``TimedOut``, which fails the test (Swift Testing records a thrown error as
/// an issue) and stops it there.
///
/// No `import Testing` here: this is a regular target, built by a plain `swift build` too.
///
/// ```swift
/// try await eventually("the delivery") { try count(db, "deliveries") == 1 }
/// ```
public func eventually(timeout: Duration = .seconds(20), _ what: String = "condition", _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TimedOut(what: what, timeout: timeout)
}

/// Thrown by ``eventually(timeout:_:_:)`` when the condition did not hold in time.
public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public let timeout: Duration

    public var description: String { "timed out after \(self.timeout) waiting for \(self.what)" }
}
