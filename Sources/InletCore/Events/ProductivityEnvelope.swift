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
    public static let knownTypes: Set<String> = [EventType.employeeCreated, .employeeUpdated, .employeeDeactivated].map(\.rawValue).reduce(into: []) { $0.insert($1) }

    public let id: String?
    public let type: String

    public init(json root: JSONNode, acceptUnknownTypes: Bool) throws(JSONError) {
        let type = try root.requiredString("type")
        guard Self.knownTypes.contains(type) || acceptUnknownTypes else {
            throw .wrongType("type", expected: "one of \(Self.knownTypes.sorted().joined(separator: ", ")) (got \(type))")
        }
        self.type = type
        self.id = try root.string("id")
        // The handlers' own rules (``Employee``), so that an event answered 202 is never
        // dead-lettered later for a shape checked here.
        switch EventType(type) {
        case .employeeCreated, .employeeUpdated, .employeeDeactivated:
            guard let data = try root.object("data") else { throw .missingField("data") }
            do {
                if EventType(type) == .employeeDeactivated {
                    _ = try Employee.id(in: data)
                } else {
                    _ = try Employee(json: data)
                }
            } catch {
                throw .wrongType("data", expected: "a valid employee record (\(error.message))")
            }
        default:
            break
        }
    }
}
