/// Dead deliveries of one handler that died of the same cause: their errors are equal
/// once numbers, ids and quoted values are normalised (``errorKey(_:)``), so "timeout
/// after 3012 ms on user 81" and "timeout after 2998 ms on user 7" are one group.
///
/// ```swift
/// for group in try await store.deadLetterGroups(limit: 100) {
///     print(group.handler, group.count, group.sampleError)
/// }
/// let replayed = try await intake.replayDead(handler: group.handler, errorKey: group.errorKey)
/// ```
public struct DeadLetterGroup: Sendable, Equatable {
    public let handler: String
    /// The normalised error shared by the group.
    public let errorKey: String
    /// One of the group's errors as recorded.
    public let sampleError: String
    public let count: Int
    public let firstSeen: Timestamp
    public let lastSeen: Timestamp

    public init(handler: String, errorKey: String, sampleError: String, count: Int, firstSeen: Timestamp, lastSeen: Timestamp) {
        self.handler = handler
        self.errorKey = errorKey
        self.sampleError = sampleError
        self.count = count
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }

    public var json: JSONValue {
        [
            "handler": .string(self.handler), "error_key": .string(self.errorKey), "sample_error": .string(self.sampleError),
            "count": .int(self.count), "first_seen": .string(self.firstSeen.description), "last_seen": .string(self.lastSeen.description),
        ]
    }

    /// The longest key kept (errors are cut first).
    public static let maxKeyBytes = 512

    /// `error` with its variable parts replaced: quoted values by `"…"`, UUIDs by `<uuid>`,
    /// runs of hex of 8 or more by `<hex>`, numbers (and words holding digits, such as ids)
    /// by `<n>`; white space collapsed; at most ``maxKeyBytes``.
    public static func errorKey(_ error: String) -> String {
        var out = ""
        var token = ""
        func flushToken() {
            guard !token.isEmpty else { return }
            out += normalisedWord(token)
            token = ""
        }
        var iterator = Array(error.unicodeScalars)[...]
        var lastWasSpace = false
        while let scalar = iterator.popFirst() {
            if scalar == "\"" || scalar == "'" || scalar == "`" {
                // A quoted value, up to its closing quote (or the end).
                flushToken()
                if let close = iterator.firstIndex(of: scalar) {
                    iterator = iterator[iterator.index(after: close)...]
                    out += "\(scalar)…\(scalar)"
                    lastWasSpace = false
                    continue
                }
                out.unicodeScalars.append(scalar)
                continue
            }
            if isWordScalar(scalar) {
                token.unicodeScalars.append(scalar)
                lastWasSpace = false
                continue
            }
            flushToken()
            if scalar.properties.isWhitespace {
                if !lastWasSpace { out += " " }
                lastWasSpace = true
            } else {
                out.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
        }
        flushToken()
        return AttemptRecord.excerpt(String(out.drop { $0 == " " }), maxBytes: maxKeyBytes)
    }

    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-"
    }

    /// A word: kept unless it holds a digit (a number, an id, hex, a UUID).
    private static func normalisedWord(_ word: String) -> String {
        guard word.unicodeScalars.contains(where: { ("0"..."9").contains($0) }) else { return word }
        let scalars = Array(word.unicodeScalars)
        let isHex = { (s: Unicode.Scalar) in ("0"..."9").contains(s) || ("a"..."f").contains(s) || ("A"..."F").contains(s) }
        if scalars.count == 36, scalars.enumerated().allSatisfy({ [8, 13, 18, 23].contains($0.offset) ? $0.element == "-" : isHex($0.element) }) {
            return "<uuid>"
        }
        if scalars.allSatisfy({ ("0"..."9").contains($0) }) { return "<n>" }
        if scalars.count >= 8, scalars.allSatisfy(isHex) { return "<hex>" }
        // An id such as usr_81x or auth0|123: its letters before the first digit, then <n>.
        let prefix = String(String.UnicodeScalarView(scalars.prefix { !("0"..."9").contains($0) }))
        return prefix + "<n>"
    }
}
