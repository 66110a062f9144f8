internal import Foundation

/// An employee as the productivity system describes one (the `data` of an `employee.*` event).
///
/// ```swift
/// let employee = try Employee(json: document.root.requireObject().object("data")!)
/// ```
public struct Employee: Sendable, Equatable {
    /// The id as text (the row's key); ``employeeIDValue`` gives it back as the sender wrote it.
    public var employeeID: String
    /// The sender gave the id as a JSON number (`42`), not a string (`"42"`).
    public var employeeIDIsNumber: Bool
    public var name: String
    public var email: String
    public var department: String
    public var phoneNumber: String?
    public var connecteamID: String?
    public var roleCode: String?

    public init(
        employeeID: String, name: String, email: String, department: String,
        phoneNumber: String? = nil, connecteamID: String? = nil, roleCode: String? = nil, employeeIDIsNumber: Bool = false
    ) {
        self.employeeID = employeeID
        self.employeeIDIsNumber = employeeIDIsNumber
        self.name = name
        self.email = email
        self.department = department
        self.phoneNumber = phoneNumber
        self.connecteamID = connecteamID
        self.roleCode = roleCode
    }

    /// Reads and validates an employee object: `employee_id` (non-empty string or whole
    /// number), `name`, `email` (address syntax) and `department` are required; the
    /// message names the field and never quotes more than the field's name.
    public init(json node: JSONNode) throws(EmployeeValidationError) {
        do {
            let (id, isNumber) = try Self.id(in: node)
            func required(_ key: String) throws -> String {
                guard let value = try node.string(key).map({ Self.trimmed($0, newlines: true) }), !value.isEmpty else {
                    throw EmployeeValidationError("\(key) is missing or empty")
                }
                return value
            }
            func optional(_ key: String) throws -> String? {
                guard let value = try node.string(key).map({ Self.trimmed($0, newlines: false) }), !value.isEmpty else { return nil }
                return value
            }
            let email = try required("email")
            guard Self.isValidEmail(email) else { throw EmployeeValidationError("email is not a valid email address") }
            self.init(
                employeeID: id, name: try required("name"), email: email, department: try required("department"),
                phoneNumber: try optional("phone_number"), connecteamID: try optional("connecteam_id"), roleCode: try optional("role_code"),
                employeeIDIsNumber: isNumber
            )
        } catch let error as EmployeeValidationError {
            throw error
        } catch let error as JSONError {
            throw EmployeeValidationError(error.message)
        } catch {
            throw EmployeeValidationError("\(error)")
        }
    }

    /// The `employee_id` of an employee object, by the one rule every reader applies: a
    /// string (surrounding spaces removed) or a whole number, 1 to 128 characters.
    public static func id(in node: JSONNode) throws(EmployeeValidationError) -> (id: String, isNumber: Bool) {
        guard node.isObject else { throw EmployeeValidationError("the employee must be a JSON object") }
        let id: String
        var isNumber = false
        if let text = (try? node.string("employee_id")) ?? nil {
            id = Self.trimmed(text, newlines: false)
        } else if let number = (try? node.int("employee_id")) ?? nil {
            id = String(number)
            isNumber = true
        } else if node.contains("employee_id") {
            throw EmployeeValidationError("employee_id must be a string or a whole number")
        } else {
            throw EmployeeValidationError("employee_id is missing")
        }
        guard !id.isEmpty, id.count <= 128 else { throw EmployeeValidationError("employee_id must be 1 to 128 characters") }
        return (id, isNumber)
    }

    /// The id as the sender gave it: a number stays a number, a string a string. Auth0
    /// metadata carries this, so rules that read `employee_id` as a number keep working.
    public var employeeIDValue: JSONValue {
        if self.employeeIDIsNumber, let number = Int(self.employeeID) { return .int(number) }
        return .string(self.employeeID)
    }

    /// Whether `value` (an account's `app_metadata.employee_id`) names this employee, as a
    /// number or as a string.
    public func isIdentified(by value: JSONValue?) -> Bool {
        switch value {
        case .string(let text)?: return text == self.employeeID
        case .int(let number)?: return String(number) == self.employeeID
        default: return false
        }
    }

    /// The employee as a JSON object, in the productivity system's field names.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("employee_id", self.employeeIDValue), ("name", .string(self.name)), ("email", .string(self.email)),
            ("department", .string(self.department)),
        ]
        if let phone = self.phoneNumber { members.append(("phone_number", .string(phone))) }
        if let connecteam = self.connecteamID { members.append(("connecteam_id", .string(connecteam))) }
        if let role = self.roleCode { members.append(("role_code", .string(role))) }
        return .object(members)
    }

    /// A pragmatic address check: one `@`, a non-empty local part, a dotted domain, no
    /// spaces or control characters, at most 254 bytes.
    public static func isValidEmail(_ email: String) -> Bool {
        let bytes = Array(email.utf8)
        guard bytes.count <= 254, !bytes.contains(where: { $0 <= 32 || $0 == 127 }) else { return false }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64 else { return false }
        let domain = parts[1]
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") }) else { return false }
        return domain.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "-", ".": true
            default: scalar.isASCII ? false : Self.domainLetters.contains(scalar)
            }
        }
    }

    /// Letters and digits beyond ASCII (an internationalised domain), made once: building a
    /// `CharacterSet` per call cost more than the rest of the check (every webhook runs it).
    private static let domainLetters = CharacterSet.alphanumerics

    /// `text` without the spaces (`newlines`: and line breaks) around it, as Foundation's
    /// `.whitespaces` (Zs and tab) and `.whitespacesAndNewlines` (White_Space) trim (both
    /// also count U+200B, as Foundation's tables do), without a bridge to `NSString` or a
    /// copy when there is nothing to trim (the usual case).
    static func trimmed(_ text: String, newlines: Bool) -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            if scalar.isASCII {
                return scalar == " " || scalar == "\t" || (newlines && (0x0A...0x0D).contains(scalar.value))
            }
            if scalar == "\u{200B}" { return true }
            return newlines ? scalar.properties.isWhitespace : scalar.properties.generalCategory == .spaceSeparator
        }
        let scalars = text.unicodeScalars
        guard let first = scalars.first, let last = scalars.last, isSpace(first) || isSpace(last) else { return text }
        guard let start = scalars.firstIndex(where: { !isSpace($0) }), let end = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(scalars[start...end])
    }
}
