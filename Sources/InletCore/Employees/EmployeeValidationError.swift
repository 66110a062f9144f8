internal import Foundation

/// Why an employee record was refused.
public struct EmployeeValidationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}
