public import PostgresNIO

/// Where the PostgreSQL database is: `INLET_DATABASE` when it is a `postgres://` (or
/// `postgresql://`) URL, `postgres://user[:password]@host[:port]/database?sslmode=MODE`.
///
/// The password may be in the URL, but belongs in `INLET_DATABASE_PASSWORD` (or its
/// `_FILE`): it is never part of ``description``, nor of any error.
///
/// ```swift
/// var location = try PostgresLocation(url: "postgres://inlet@db.internal/inlet?sslmode=verify-full")
/// location.password = secret
/// ```
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// How the connection uses TLS (libpq's `sslmode` names).
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without checking its certificate.
        case prefer
        /// TLS, without checking the server's certificate.
        case require
        /// TLS, with the certificate checked against the system's roots and the host name.
        case verifyFull = "verify-full"
    }

    /// A URL that is not a usable PostgreSQL location; the message never holds a password.
    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
    }

    public var host: String
    public var port: Int
    public var username: String
    public var database: String
    public var password: String?
    public var tls: TLSMode

    public init(host: String, port: Int = 5432, username: String, database: String? = nil, password: String? = nil, tls: TLSMode = .prefer) {
        self.host = host
        self.port = port
        self.username = username
        self.database = database ?? username
        self.password = password
        self.tls = tls
    }

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses a `postgres://` URL (percent-encoded user, password and database).
    public init(url: String) throws(Error) {
        guard Self.isPostgresURL(url) else {
            throw Error(description: "a PostgreSQL URL starts with postgres:// or postgresql://")
        }
        var rest = url.drop { $0 != ":" }.dropFirst(3)
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        guard let at = rest.lastIndex(of: "@") else {
            throw Error(description: "the PostgreSQL URL names no user (postgres://USER@HOST/DATABASE)")
        }
        let userInfo = rest[..<at]
        let hostPort = rest[rest.index(after: at)...]
        let user: Substring
        var password: String?
        if let colon = userInfo.firstIndex(of: ":") {
            user = userInfo[..<colon]
            password = try Self.decode(userInfo[userInfo.index(after: colon)...], part: "password")
        } else {
            user = userInfo
        }
        let username = try Self.decode(user, part: "user")
        guard !username.isEmpty else { throw Error(description: "the PostgreSQL URL names no user (postgres://USER@HOST/DATABASE)") }

        var host = hostPort
        var port = 5432
        if hostPort.hasPrefix("[") {
            // An IPv6 literal: [::1]:5432
            guard let close = hostPort.firstIndex(of: "]") else { throw Error(description: "the PostgreSQL URL's host is not closed by ]") }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { port = try Self.port(after.dropFirst()) } else if !after.isEmpty {
                throw Error(description: "the PostgreSQL URL has text after its host")
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            port = try Self.port(hostPort[hostPort.index(after: colon)...])
        }
        guard !host.isEmpty else { throw Error(description: "the PostgreSQL URL names no host") }
        let database = try Self.decode(path, part: "database")
        guard !database.contains("/") else { throw Error(description: "the PostgreSQL URL's path must be one database name") }

        var tls = TLSMode.prefer
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let key = String(parts[0])
            let value = parts.count > 1 ? try Self.decode(parts[1], part: key) : ""
            switch key {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw Error(description: "sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", ")); got \(value)")
                }
                tls = mode
            default:
                throw Error(description: "the PostgreSQL URL has an unknown parameter \(key) (only sslmode is read)")
            }
        }
        self.init(host: String(host), port: port, username: username, database: database.isEmpty ? nil : database, password: password, tls: tls)
    }

    private static func port(_ text: Substring) throws(Error) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw Error(description: "the PostgreSQL URL's port must be a number from 1 to 65535")
        }
        return port
    }

    /// Percent-decodes one part of the URL; `part` names it in the error (the text itself is
    /// not repeated: it may be a password).
    private static func decode(_ text: Substring, part: String) throws(Error) -> String {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%") {
                let first = utf8.index(after: index)
                guard first != utf8.endIndex, utf8.index(after: first) != utf8.endIndex,
                    let high = Self.hex(utf8[first]), let low = Self.hex(utf8[utf8.index(after: first)])
                else { throw Error(description: "the PostgreSQL URL's \(part) has a bad percent escape") }
                bytes.append(high << 4 | low)
                index = utf8.index(first, offsetBy: 2)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The URL without its password.
    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "postgres://\(self.username)@\(host):\(self.port)/\(self.database)?sslmode=\(self.tls.rawValue)"
    }

    /// The client configuration of this location.
    func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch self.tls {
        case .disable:
            tls = .disable
        case .prefer, .require:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            tls = self.tls == .prefer ? .prefer(configuration) : .require(configuration)
        case .verifyFull:
            tls = .require(.makeClientConfiguration())
        }
        return PostgresClient.Configuration(
            host: self.host, port: self.port, username: self.username, password: self.password, database: self.database, tls: tls
        )
    }
}
