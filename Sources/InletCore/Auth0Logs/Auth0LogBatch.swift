/// A batch from an Auth0 custom-webhook log stream, in any of its three content formats:
/// a JSON array of entries, JSON lines (one entry a line), or a single entry object.
///
/// Each entry is `{"log_id": "900…", "data": {"date", "type", "user_id", …}}`. An entry
/// that cannot be stored as an event (no usable `log_id`, no `type` or `date`, no
/// `user_id` on a type that changes a user, a JSON line that does not parse) is kept as
/// ``Entry/rejected(reason:text:)`` so the rest of the batch still goes in. Only a body
/// in which nothing is JSON throws.
///
/// ```swift
/// let entries = try Auth0LogBatch.parse(bytes, limits: limits)
/// ```
package enum Auth0LogBatch {
    /// One entry of a batch.
    package enum Entry: Sendable {
        case valid(Auth0LogEntry)
        /// Why it was refused, and its text (as sent, shortened to ``maxRejectedText`` bytes).
        case rejected(reason: String, text: String)
    }

    /// Longest text of a rejected entry that is kept.
    package static let maxRejectedText = 8192

    /// The entries of `bytes`; throws when the body is not JSON in any of the formats.
    package static func parse(_ bytes: UnsafeRawBufferPointer, limits: JSONDocument.Limits) throws(JSONError) -> [Entry] {
        let whole: JSONDocument
        do {
            whole = try JSONDocument.parse(bytes, limits: limits)
        } catch where error.isSyntax {
            return try Self.lines(bytes, limits: limits, wholeError: error)
        }
        let root = whole.root
        if root.isArray { return root.elements.map(Self.entry) }
        guard root.isObject else { throw .wrongType("", expected: "a JSON array, JSON lines or an object of log entries") }
        return [Self.entry(root)]
    }

    /// JSON lines: each non-blank line one entry; a line that does not parse is rejected,
    /// unless none parses (then the body is not JSON lines either).
    private static func lines(_ bytes: UnsafeRawBufferPointer, limits: JSONDocument.Limits, wholeError: JSONError) throws(JSONError) -> [Entry] {
        var entries: [Entry] = []
        var parsed = 0
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            let line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            start = end + 1
            guard line.contains(where: { ![UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r")].contains($0) }) else { continue }
            do {
                let document = try JSONDocument.parse(line, limits: limits)
                parsed += 1
                entries.append(document.root.isObject ? Self.entry(document.root) : .rejected(reason: "a log entry must be a JSON object", text: Self.text(line)))
            } catch {
                entries.append(.rejected(reason: error.message, text: Self.text(line)))
            }
        }
        guard parsed > 0 else { throw wholeError }
        return entries
    }

    private static func text(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes.prefix(Self.maxRejectedText), as: UTF8.self)
    }

    /// One entry, judged. Reads the fields it needs through the parsed tree (no copy of
    /// the whole entry into Swift values: a batch of 1,000 would make them all).
    static func entry(_ node: JSONNode) -> Entry {
        let serialized = node.serialized()
        func reject(_ reason: String) -> Entry { .rejected(reason: reason, text: String(decoding: serialized.prefix(Self.maxRejectedText), as: UTF8.self)) }
        guard node.isObject else { return reject("a log entry must be a JSON object") }
        // `{log_id, data}`; a bare log event (type and date at the top) is read as its own data.
        let data: JSONNode
        if node.contains("data") {
            guard let inner = try? node.object("data") else { return reject("data must be an object") }
            data = inner
        } else {
            data = node
        }
        func string(_ object: JSONNode, _ key: String) -> String? { (try? object.string(key)) ?? nil }
        guard let logID = string(node, "log_id") ?? string(data, "log_id") ?? string(data, "_id") else {
            return reject("the entry has no log_id")
        }
        guard EventID.isValid(logID) else { return reject("log_id must be 1 to 256 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'") }
        guard let type = string(data, "type"), Self.isValidType(type) else {
            return reject("data.type must be a log event type such as s, ss, f or du")
        }
        guard let dateText = string(data, "date"), let date = Timestamp(rfc3339: dateText) else {
            return reject("data.date must be an RFC 3339 time")
        }
        var change: Auth0UserChange?
        if let kind = Auth0UserChange.kind(ofLogType: type) {
            guard let userID = string(data, "user_id"), !userID.isEmpty, userID.utf8.count <= UserLogin.maxIDLength else {
                return reject("data.user_id is required on a \(type) entry")
            }
            let userName = string(data, "user_name")
            let stats = ((try? data.object("details")) ?? nil).flatMap { (try? $0.object("stats")) ?? nil }
            change = Auth0UserChange(
                auth0ID: userID, kind: kind, at: date, email: userName.flatMap { $0.contains("@") ? $0 : nil },
                loginsCount: stats.flatMap { (try? $0.int("loginsCount")) ?? nil }, ip: string(data, "ip")
            )
        }
        return .valid(Auth0LogEntry(logID: logID, type: type, date: date, payload: String(decoding: serialized, as: UTF8.self), change: change))
    }

    /// 1 to 64 of `a-z A-Z 0-9 _` (Auth0's types are short codes: `s`, `fp`, `limit_wc`).
    static func isValidType(_ type: String) -> Bool {
        (1...64).contains(type.utf8.count) && type.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"): true
            default: false
            }
        }
    }
}

/// A valid log entry: its id, type and date, the entry as JSON, and what it changes about a user.
package struct Auth0LogEntry: Sendable {
    package let logID: String
    package let type: String
    package let date: Timestamp
    /// The entry, serialised.
    package let payload: String
    package let change: Auth0UserChange?

    /// Its event type: `auth0.log.<type>`.
    package var eventType: EventType { EventType("auth0.log." + self.type) }
}
