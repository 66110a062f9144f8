/// Who an event is about, for search by employee id or email: extracted once at append
/// (by ``EventIntake``) and stored beside the event, so a search looks them up in an index
/// instead of scanning payloads.
///
/// An employee event (`{"type", "data": {"employee_id", "email", ...}}`, from the
/// productivity system or the admin routes) yields its employee id and email, lower-cased.
///
/// ```swift
/// EventSubjects.of(type: .employeeCreated, payload: body)   // ["42", "ada@example.com"]
/// ```
public enum EventSubjects {
    /// The longest subject stored (longer values are not searchable).
    public static let maxLength = 320

    /// The subjects of an event's payload; none for types that are not about an employee
    /// or a payload that is not the expected JSON.
    public static func of(type: EventType, payload: String) -> [String] {
        guard type.rawValue.hasPrefix("employee."), let document = try? JSONDocument.parse(payload) else { return [] }
        return Self.of(type: type, root: document.root)
    }

    /// The same from a payload already parsed (the webhook route has parsed it): no second parse.
    public static func of(type: EventType, root: JSONNode) -> [String] {
        guard type.rawValue.hasPrefix("employee."), let data = (try? root.object("data")) ?? nil else { return [] }
        var subjects: [String] = []
        if let id = try? Employee.id(in: data) { subjects.append(normalised(id.id)) }
        if let email = (try? data.string("email")) ?? nil { subjects.append(normalised(email)) }
        return Array(Set(subjects.filter { !$0.isEmpty && $0.utf8.count <= maxLength })).sorted()
    }

    /// A search term or subject as compared: trimmed of spaces and lower-cased.
    public static func normalised(_ text: String) -> String {
        trimmed(text).lowercased()
    }

    /// `text` without leading or trailing spaces and tabs.
    public static func trimmed(_ text: String) -> String {
        var characters = Substring(text)
        while let first = characters.first, first == " " || first == "\t" { characters = characters.dropFirst() }
        while let last = characters.last, last == " " || last == "\t" { characters = characters.dropLast() }
        return String(characters)
    }
}
