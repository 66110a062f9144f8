internal import InletCore

/// JSON as an operator reads it: two-space indentation, members in the order received.
/// Scalars are written by jansson (``JSONValue/serializedString``), so strings keep the
/// escaping every other answer of Inlet uses.
enum PrettyJSON {
    static func format(_ value: JSONValue, indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1)
        let close = String(repeating: "  ", count: indent)
        switch value {
        case .array(let items):
            guard !items.isEmpty else { return "[]" }
            return "[\n" + items.map { pad + format($0, indent: indent + 1) }.joined(separator: ",\n") + "\n\(close)]"
        case .object(let members):
            guard !members.isEmpty else { return "{}" }
            return "{\n"
                + members.map { pad + JSONValue.string($0.0).serializedString + ": " + format($0.1, indent: indent + 1) }
                .joined(separator: ",\n") + "\n\(close)}"
        default:
            return value.serializedString
        }
    }

    /// The payload pretty-printed when it is JSON, else as stored.
    static func payload(of event: Event) -> String {
        guard let document = try? event.json() else { return event.payload }
        return format(document.root.value)
    }
}
