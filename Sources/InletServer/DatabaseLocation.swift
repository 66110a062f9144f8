public import InletCore
public import InletPostgres

/// Which database Inlet keeps its events in: a SQLite file (one process writes it) or a
/// PostgreSQL database (any number of processes share it). `INLET_DATABASE` holds either a
/// path or a `postgres://` URL.
///
/// ```swift
/// let location = try DatabaseLocation(parsing: "postgres://inlet@db.internal/inlet", setting: "INLET_DATABASE")
/// if case .postgres(let server) = location { print(server) }   // no password in it
/// ```
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// A `postgres://` or `postgresql://` URL, or a SQLite file path; `setting` names where
    /// the text came from in the error (which never quotes the text: a URL may hold a
    /// password).
    public init(parsing text: String, setting: String) throws(ConfigurationError) {
        if PostgresLocation.isPostgresURL(text) {
            do {
                self = .postgres(try PostgresLocation(url: text))
            } catch {
                throw ConfigurationError("\(setting) is not a usable PostgreSQL URL: \(error.description)")
            }
            return
        }
        guard !text.isEmpty else { throw ConfigurationError("\(setting) is empty; give a SQLite file path or a postgres:// URL") }
        if let scheme = text.firstRange(of: "://"), text[..<scheme.lowerBound].allSatisfy({ $0.isASCII && $0.isLetter }) {
            throw ConfigurationError("\(setting) must be a SQLite file path or a postgres:// (postgresql://) URL; no other URL scheme is known")
        }
        self = .sqlite(path: text)
    }

    /// The path, or the URL without its password: safe to log and to print.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let location): location.description
        }
    }
}
