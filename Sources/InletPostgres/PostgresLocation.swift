internal import InletCore
internal import PostgresNIO

/// Where the PostgreSQL database is: `INLET_DATABASE` when it is a `postgres://` (or
/// `postgresql://`) URL, `postgres://user[:password]@host[:port]/database?sslmode=MODE`,
/// optionally with libpq's `options=-c search_path=SCHEMA` for a schema other than
/// `public`.
///
/// The password may be in the URL, but belongs in `INLET_DATABASE_PASSWORD` (or its
/// `_FILE`): it is never part of ``description``, nor of any error.
///
/// ```swift
/// var location = try PostgresLocation(url: "postgres://inlet@db.internal/inlet?sslmode=verify-full")
/// location.password = secret
/// ```
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
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

    /// A URL that is not a usable PostgreSQL location: what is wrong, never quoting the URL
    /// (a mistyped URL may have its password where the parser expected something else).
    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
    }

    public var host: String
    public var port: Int
    public var username: String
    public var database: String
    public var password: String?
    public var tls: TLSMode
    /// The schema Inlet's tables are in (created when missing); nil for `public`. From
    /// `?options=-c search_path=SCHEMA` (percent-encoded: `-c%20search_path%3DSCHEMA`), so
    /// that the URL still means the same to `psql`.
    public var schema: String?

    /// The port PostgreSQL listens on unless the URL names another.
    public static let defaultPort = 5432

    public init(
        host: String, port: Int = Self.defaultPort, username: String, database: String? = nil, password: String? = nil, tls: TLSMode = .prefer,
        schema: String? = nil
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.database = database ?? username
        self.password = password
        self.tls = tls
        self.schema = schema
    }

    /// Whether `text` is a PostgreSQL URL (`postgres://` or `postgresql://`, any case)
    /// rather than a SQLite file path.
    public static func isPostgresURL(_ text: String) -> Bool {
        Self.schemeLength(text) != nil
    }

    /// Parses `postgres://user[:password]@host[:port][/database][?sslmode=MODE][&options=-c search_path=SCHEMA]`.
    ///
    /// The user, password and database are percent-decoded (a `@`, `:` or `/` in the
    /// password is written `%40`, `%3A`, `%2F`); an IPv6 host is written in brackets.
    /// Throws ``Error``, whose message says what is wrong without quoting the URL: a
    /// mistyped URL may have the password where the parser expected something else.
    public init(url: String) throws(Error) {
        guard let schemeLength = Self.schemeLength(url) else { throw Error(description: "it must start with postgres:// or postgresql://") }
        let rest = url.dropFirst(schemeLength)
        guard !rest.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) else {
            throw Error(description: "it holds whitespace; percent-encode it (%20)")
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let tail = rest[authorityEnd...]
        // A reserved character left unencoded in the password ends the authority early;
        // the rest of the password then shows up where no `@` belongs.
        guard !tail.contains("@"), authority.count(where: { $0 == "@" }) <= 1 else {
            throw Error(description: "the user name or password holds a reserved character (@ : / ? #); percent-encode it (%40 %3A %2F %3F %23)")
        }
        guard !tail.contains("#") else { throw Error(description: "a fragment (#...) has no meaning here") }

        guard let at = authority.firstIndex(of: "@") else {
            throw Error(description: "it names no user; write postgres://USER@HOST/DATABASE")
        }
        let userInfo = authority[..<at]
        let hostPort = authority[authority.index(after: at)...]
        let encodedUser = userInfo.firstIndex(of: ":").map { userInfo[..<$0] } ?? userInfo
        let encodedPassword = userInfo.firstIndex(of: ":").map { userInfo[userInfo.index(after: $0)...] }
        guard let username = Self.percentDecoded(encodedUser), !username.isEmpty else {
            throw Error(description: encodedUser.isEmpty ? "it names no user; write postgres://USER@HOST/DATABASE" : "the user name is not valid percent-encoded UTF-8")
        }
        var password: String?
        if let encodedPassword, !encodedPassword.isEmpty {
            guard let decoded = Self.percentDecoded(encodedPassword) else { throw Error(description: "the password is not valid percent-encoded UTF-8") }
            password = decoded
        }

        let (host, port) = try Self.hostAndPort(hostPort)

        var database = username
        var path = tail.prefix { $0 != "?" }
        if path.hasPrefix("/") { path = path.dropFirst() }
        if !path.isEmpty {
            guard !path.contains("/") else { throw Error(description: "the database name holds a `/`; write postgres://USER@HOST/DATABASE") }
            guard let decoded = Self.percentDecoded(path), !decoded.isEmpty else {
                throw Error(description: "the database name is not valid percent-encoded UTF-8")
            }
            database = decoded
        }

        var tls = TLSMode.prefer
        var schema: String?
        if let question = tail.firstIndex(of: "?") {
            for parameter in tail[tail.index(after: question)...].split(separator: "&") {
                let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = parts[0]
                let value = parts.count == 2 ? parts[1] : ""
                switch name {
                case "sslmode":
                    guard let mode = TLSMode(rawValue: String(value)) else {
                        throw Error(description: "sslmode must be one of: \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    tls = mode
                case "options":
                    schema = try Self.searchPath(value)
                default:
                    let shown = name.count <= 40 && name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
                    throw Error(description:
                        "\(shown ? "the parameter `\(name)`" : "a parameter") is not understood; only sslmode (disable, prefer, require, verify-full) and options=-c search_path=SCHEMA are"
                    )
                }
            }
        }
        self.init(host: host, port: port, username: username, database: database, password: password, tls: tls, schema: schema)
    }

    // MARK: - Parsing

    /// The length of `postgres://` or `postgresql://` at the start of `text`, any case.
    private static func schemeLength(_ text: String) -> Int? {
        let head = text.prefix(13).lowercased()
        if head.hasPrefix("postgresql://") { return 13 }
        if head.hasPrefix("postgres://") { return 11 }
        return nil
    }

    private static func hostAndPort(_ text: Substring) throws(Error) -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw Error(description: "an IPv6 host must be closed with `]`") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw Error(description: "only `:PORT` may follow an IPv6 host in brackets") }
                portText = after.dropFirst()
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw Error(description: "the host in brackets is not an IPv6 address")
            }
        } else {
            if let colon = text.firstIndex(of: ":") {
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
            } else {
                host = text
            }
            guard !host.isEmpty else { throw Error(description: "it names no host; write postgres://USER@HOST/DATABASE") }
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") }) else {
                throw Error(description: "the host must be a host name or an IP address (one host; IPv6 in brackets)")
            }
        }
        var port = Self.defaultPort
        if let portText {
            guard let number = Int(portText), (1...65_535).contains(number) else {
                throw Error(description: "the port must be a number from 1 to 65535")
            }
            port = number
        }
        return (String(host), port)
    }

    /// The schema of libpq's `options` parameter, which Inlet reads only in the form
    /// `-c search_path=SCHEMA` (or `-csearch_path=SCHEMA`, `--search_path=SCHEMA`): one
    /// schema, a plain identifier.
    private static func searchPath(_ encoded: Substring) throws(Error) -> String {
        let usage = "options must be -c search_path=SCHEMA (percent-encoded: -c%20search_path%3DSCHEMA), one schema of letters, digits and _"
        guard let decoded = Self.percentDecoded(encoded.replacing("+", with: " ")) else { throw Error(description: usage) }
        var text = Substring(decoded.trimmingPrefix(while: { $0 == " " }))
        if text.hasPrefix("--") {
            text = text.dropFirst(2)
        } else if text.hasPrefix("-c") {
            text = text.dropFirst(2).trimmingPrefix(while: { $0 == " " })
        } else {
            throw Error(description: usage)
        }
        guard text.hasPrefix("search_path=") else { throw Error(description: usage) }
        let schema = text.dropFirst("search_path=".count)
        guard let first = schema.first, first.isASCII, first.isLetter || first == "_", schema.count <= 63,
            schema.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else { throw Error(description: usage) }
        return String(schema)
    }

    /// `%XX` sequences decoded; nil when one is malformed or the result is not UTF-8.
    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexDigitValue), let low = iterator.next().flatMap(hexDigitValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// `text` with every byte but RFC 3986's unreserved ones percent-encoded.
    private static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if byte < 0x80 && (character.isLetter || character.isNumber || "-._~".contains(character)) {
                result.append(character)
            } else {
                let digits = Array("0123456789ABCDEF")
                result += "%\(digits[Int(byte >> 4)])\(digits[Int(byte & 0xF)])"
            }
        }
        return result
    }

    /// The URL without its password (for logs): every part spelled out, defaults included.
    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        let schema = self.schema.map { "&options=-c%20search_path%3D\($0)" } ?? ""
        return "postgres://\(Self.percentEncoded(self.username))@\(host):\(self.port)/\(Self.percentEncoded(self.database))?sslmode=\(self.tls.rawValue)\(schema)"
    }

    /// ``description``: `debugPrint` and `String(reflecting:)` show no password either.
    public var debugDescription: String { self.description }

    /// The parts without the password, so that `dump` does not print it.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: ["host": self.host, "port": self.port, "username": self.username, "database": self.database, "tls": self.tls, "schema": self.schema as Any],
            displayStyle: .struct
        )
    }

    /// The client configuration of this location.
    func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch (self.tls, self.tlsConfiguration) {
        case (.prefer, let configuration?): tls = .prefer(configuration)
        case (_, let configuration?): tls = .require(configuration)
        case (_, nil): tls = .disable
        }
        return PostgresClient.Configuration(
            host: self.host, port: self.port, username: self.username, password: self.password, database: self.database, tls: tls
        )
    }

    /// The configuration of one connection (the start-up probe) to this location.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch (self.tls, self.tlsConfiguration) {
        case (.prefer, let configuration?): tls = .prefer(try NIOSSLContext(configuration: configuration))
        case (_, let configuration?): tls = .require(try NIOSSLContext(configuration: configuration))
        case (_, nil): tls = .disable
        }
        return PostgresConnection.Configuration(
            host: self.host, port: self.port, username: self.username, password: self.password, database: self.database, tls: tls
        )
    }

    /// TLS as `sslmode` says (nil: none): the certificate is checked with `verify-full` only.
    private var tlsConfiguration: TLSConfiguration? {
        switch self.tls {
        case .disable:
            return nil
        case .prefer, .require:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            return configuration
        case .verifyFull:
            return .makeClientConfiguration()
        }
    }
}
