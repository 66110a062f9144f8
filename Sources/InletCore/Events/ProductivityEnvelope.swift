/// The productivity system's event envelope:
/// `{"id"?, "type", "occurred_at"?, "data": {"employee_id", "name", "email", "department", ...}}`.
///
/// Validated at the door so that a malformed event is refused with 400 rather than
/// accepted and dead-lettered later.
///
/// ```swift
/// let envelope = try ProductivityEnvelope(json: document.root.requireObject(), acceptUnknownTypes: false)
/// ```
public struct ProductivityEnvelope: Sendable, Equatable {
    public static let knownTypes: Set<String> = ["employee.created", "employee.updated", "employee.deactivated"]

    public let id: String?
    public let type: String

    public init(json root: JSONNode, acceptUnknownTypes: Bool) throws(JSONError) {
        let type = try root.requiredString("type")
        guard Self.knownTypes.contains(type) || acceptUnknownTypes else {
            throw .wrongType("type", expected: "one of \(Self.knownTypes.sorted().joined(separator: ", ")) (got \(type))")
        }
        self.type = type
        self.id = try root.string("id")
        if type.hasPrefix("employee.") {
            guard let data = try root.object("data") else { throw .missingField("data") }
            guard data.contains("employee_id") else { throw .missingField("data.employee_id") }
            // A non-empty string or a whole number; anything else is refused.
            if let text = try? data.string("employee_id") {
                guard !text.isEmpty else { throw .wrongType("data.employee_id", expected: "a non-empty string") }
            } else if (try? data.int("employee_id")) == nil {
                throw .wrongType("data.employee_id", expected: "a string or an integer")
            }
            let email = try data.requiredString("email")
            guard email.contains("@") else { throw .wrongType("data.email", expected: "an email address") }
        }
    }
}
