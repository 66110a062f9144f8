internal import Foundation

public struct OutboundResponse: Sendable {
    public let status: Int
    /// Response headers in order, names lower-cased, values trimmed.
    public let headers: [(String, String)]
    public let body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of the header `name` (case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        let name = name.lowercased()
        return self.headers.first { $0.0 == name }?.1
    }
}

