public import InletCore
internal import PostgresNIO

/// An error of the PostgreSQL store. One that says ``isUnavailable`` (the connection was
/// lost or never made, PostgreSQL is shutting down or restarting, a call ran past its
/// deadline, a serialization failure) is answered 503 with `Retry-After`: the request may
/// be repeated, and the store recovers by itself once PostgreSQL answers again.
///
/// Its description names the failure and PostgreSQL's SQLSTATE and message, never a
/// query's parameters (they may be personal data) nor the password.
public struct PostgresStoreError: StorageFailure, CustomStringConvertible {
    public let description: String
    public let isUnavailable: Bool
    /// PostgreSQL's SQLSTATE, when the server answered with an error.
    public let sqlState: String?

    init(_ description: String, unavailable: Bool, sqlState: String? = nil) {
        self.description = description
        self.isUnavailable = unavailable
        self.sqlState = sqlState
    }

    /// A call that got no connection, or no answer, within its deadline.
    static func timedOut(after timeout: Duration) -> PostgresStoreError {
        PostgresStoreError("PostgreSQL did not answer within \(timeout)", unavailable: true)
    }


    /// SQLSTATE classes that say "try again": connection exception (08), transaction
    /// rollback (40: serialization failure, deadlock), insufficient resources (53),
    /// operator intervention (57: admin shutdown, cannot connect now), system error (58).
    private static let transientClasses: Set<Substring> = ["08", "40", "53", "57", "58"]

    /// The store's error for anything a call threw.
    static func wrapping(_ error: any Error) -> PostgresStoreError {
        switch error {
        case let error as PostgresStoreError:
            return error
        case let error as PostgresTransactionError:
            // BEGIN's, the body's or COMMIT's error (a failed rollback adds nothing).
            guard let cause = error.commitError ?? error.closureError ?? error.beginError else {
                return PostgresStoreError("a PostgreSQL transaction failed", unavailable: true)
            }
            return Self.wrapping(cause)
        case let error as PSQLError:
            if error.code == .server, let state = error.serverInfo?[.sqlState] {
                let message = error.serverInfo?[.message] ?? "no message"
                return PostgresStoreError(
                    "PostgreSQL refused the statement: \(message) (SQLSTATE \(state))",
                    unavailable: Self.transientClasses.contains(state.prefix(2)), sqlState: state
                )
            }
            // Every other code is about the connection (refused, closed, TLS, pool closed).
            return PostgresStoreError("PostgreSQL connection failed: \(error.code)", unavailable: true)
        case is CancellationError:
            return PostgresStoreError("the PostgreSQL call was cancelled", unavailable: true)
        case let error as PostgresDecodingError:
            return PostgresStoreError("a PostgreSQL column could not be read: \(error.code) in \(error.columnName)", unavailable: false)
        default:
            // NIO's channel and connect errors: the network.
            return PostgresStoreError("PostgreSQL connection failed: \(error)", unavailable: true)
        }
    }

    /// Unique violation (a concurrent insert of the same key).
    var isUniqueViolation: Bool { self.sqlState == "23505" }
}
