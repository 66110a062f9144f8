/// The request headers kept with an event, for the event detail: an allow-list of
/// harmless ones. Never `Authorization`, tokens, signatures or cookies; a header not
/// listed here is not stored.
///
/// ```swift
/// let kept = StoredHeaders.filter([("Content-Type", "application/json"), ("Authorization", "Bearer x")])
/// // [("content-type", "application/json")]
/// ```
public enum StoredHeaders {
    /// Lower-case names of the headers kept.
    public static let allowed: Set<String> = [
        "content-type", "user-agent", "webhook-id", "webhook-timestamp", "svix-id", "svix-timestamp", "x-request-id",
    ]

    /// The most bytes of one value kept.
    public static let maxValueBytes = 512

    /// The allowed headers of `headers`, names lower-cased, values cut to
    /// ``maxValueBytes``, in the order given.
    public static func filter(_ headers: some Sequence<(String, String)>) -> [(String, String)] {
        headers.compactMap { name, value in
            let lower = name.lowercased()
            guard allowed.contains(lower) else { return nil }
            return (lower, AttemptRecord.excerpt(value, maxBytes: maxValueBytes))
        }
    }

    /// The headers as stored: a JSON object of name to value, or nil when there are none.
    package static func encode(_ headers: [(String, String)]) -> String? {
        guard !headers.isEmpty else { return nil }
        return JSONValue.object(headers.map { ($0.0, .string($0.1)) }).serializedString
    }

    /// The stored text decoded (nothing for nil or text that is not a JSON object of strings).
    package static func decode(_ text: String?) -> [(String, String)] {
        guard let text, let document = try? JSONDocument.parse(text), case .object(let members) = document.root.value else { return [] }
        return members.compactMap { name, value in value.stringValue.map { (name, $0) } }
    }
}
