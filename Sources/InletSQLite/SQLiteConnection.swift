public import InletCore
internal import CSQLite3

/// An error from SQLite, with the library's result code, its message and the statement.
///
/// The SQL is kept for logs and operators; the server never puts it in a response.
public struct SQLiteError: StorageFailure, CustomStringConvertible, Sendable, Equatable {
    /// SQLite's (extended) result code.
    public let code: Int32
    public let message: String
    public let sql: String?
    /// The result column a read by name failed on (missing, NULL where required, or of
    /// another type; see ``SQLiteRow``); nil for errors from SQLite itself.
    public let column: String?

    public init(code: Int32, message: String, sql: String? = nil, column: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
        self.column = column
    }

    public var description: String {
        "SQLite error \(self.code): \(self.message)" + (self.sql.map { " in `\($0)`" } ?? "")
    }

    /// The primary result code (the low byte of an extended code).
    public var primaryCode: Int32 { self.code & 0xFF }
    public var isBusy: Bool { self.primaryCode == SQLITE_BUSY || self.primaryCode == SQLITE_LOCKED }
    /// An I/O error: after one on the writer, nothing it wrote since can be trusted.
    public var isIOError: Bool { self.primaryCode == SQLITE_IOERR }
    public var isConstraint: Bool { self.primaryCode == SQLITE_CONSTRAINT }
    public var isReadOnly: Bool { self.primaryCode == SQLITE_READONLY }

    /// The store was closed; no further work is accepted.
    public static let closed = SQLiteError(code: SQLITE_MISUSE, message: "the store is closed")

    /// SQLITE_IOERR_FSYNC (a macro Swift does not import): a sync of the database or its WAL failed.
    public static let fsyncCode = SQLITE_IOERR | (4 << 8)

    /// Whether the store cannot take writes now: busy, read-only, closed, or stopped by an
    /// I/O error (the server answers 503).
    public var isUnavailable: Bool { self.isBusy || self.isReadOnly || self.isIOError || self == .closed }
}

/// A value bound to, or read from, a statement.
public enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public static func text(_ value: String?) -> SQLiteValue { value.map(SQLiteValue.text) ?? .null }
    public static func integer(_ value: Int?) -> SQLiteValue { value.map { .integer(Int64($0)) } ?? .null }
    public static func bool(_ value: Bool?) -> SQLiteValue { value.map { .integer($0 ? 1 : 0) } ?? .null }
}

/// Synchronous durability of a connection, `PRAGMA synchronous`.
public enum SQLiteSynchronous: String, Sendable, CaseIterable {
    /// fsync the WAL at every commit: a committed transaction survives power loss.
    case full
    /// fsync only at checkpoints: a commit survives a crash of the process, not of the machine.
    case normal
}

/// A cached prepared statement and the names of its result columns.
private struct PreparedStatement {
    let handle: OpaquePointer
    var columns: SQLiteColumns
    /// How often SQLite had re-prepared the statement when `columns` was read: a schema
    /// change re-prepares it, and its result columns may have new names or a new order.
    var reprepares: Int32 = 0
}

/// One SQLite connection with a cache of prepared statements.
///
/// Opened with `SQLITE_OPEN_NOMUTEX`: a connection is confined to one thread (the
/// ``SQLiteExecutor`` that owns it), which is what makes `@unchecked Sendable` safe: the
/// value may be handed to that thread, and only that thread ever calls into it.
public final class SQLiteConnection: @unchecked Sendable {
    let handle: OpaquePointer
    private var statements: [String: PreparedStatement] = [:]
    public let path: String
    /// Frames in the WAL after this connection's last commit: what a checkpoint would copy.
    public private(set) var walFrames = 0

    /// Opens (creating if asked) the database at `path`; a read-write connection switches
    /// it to WAL mode unless `setWALMode` is false (a helper connection opened beside the
    /// writer, which sets it).
    public init(
        path: String, readOnly: Bool = false, synchronous: SQLiteSynchronous = .full, busyTimeoutMilliseconds: Int32 = 5_000,
        setWALMode: Bool = true
    ) throws {
        _ = Self.configured
        var handle: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw SQLiteError(code: status, message: "cannot open database at \(path): \(message)")
        }
        self.handle = handle
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
        if !readOnly && setWALMode {
            try self.execute("PRAGMA journal_mode = WAL")
        }
        if !readOnly {
            sqlite3_wal_hook(handle, { context, _, _, frames in
                guard let context else { return SQLITE_OK }
                Unmanaged<SQLiteConnection>.fromOpaque(context).takeUnretainedValue().walFrames = Int(frames)
                return SQLITE_OK
            }, Unmanaged.passUnretained(self).toOpaque())
        }
        try self.execute("PRAGMA synchronous = \(synchronous.rawValue.uppercased())")
        try self.execute("PRAGMA foreign_keys = ON")
        // The writer's per-job savepoints need a statement journal; on disk it would be a
        // file created, grown and unlinked in every transaction.
        try self.execute("PRAGMA temp_store = MEMORY")
    }

    /// SQLite's process-wide settings, applied once before the first connection opens.
    private static let configured: Void = { _ = inlet_sqlite3_configure() }()

    deinit {
        for statement in self.statements.values {
            sqlite3_finalize(statement.handle)
        }
        sqlite3_close_v2(self.handle)
    }

    private func error(_ code: Int32, _ sql: String?) -> SQLiteError {
        SQLiteError(code: code, message: String(cString: sqlite3_errmsg(self.handle)), sql: sql)
    }

    /// A cached prepared statement, reset and with its bindings cleared.
    private func prepare(_ sql: String) throws(SQLiteError) -> PreparedStatement {
        if let statement = self.statements[sql] {
            return statement
        }
        var handle: OpaquePointer?
        let status = sqlite3_prepare_v3(self.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard status == SQLITE_OK, let handle else { throw self.error(status, sql) }
        let statement = PreparedStatement(handle: handle, columns: SQLiteColumns(statement: handle, sql: sql))
        self.statements[sql] = statement
        return statement
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private func bind(_ values: [SQLiteValue], to statement: OpaquePointer, sql: String) throws(SQLiteError) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .null: status = sqlite3_bind_null(statement, index)
            case .integer(let v): status = sqlite3_bind_int64(statement, index, v)
            case .real(let v): status = sqlite3_bind_double(statement, index, v)
            case .text(var v): status = v.withUTF8 { sqlite3_bind_text(statement, index, $0.baseAddress, Int32($0.count), Self.transient) }
            case .blob(let v): status = v.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), Self.transient) }
            }
            guard status == SQLITE_OK else { throw self.error(status, sql) }
        }
    }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard let base = sqlite3_column_text(statement, index) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard let base = sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: base, count: count)))
        default: return .null
        }
    }

    /// Runs one statement and returns its rows, read by column name (``SQLiteRow``).
    ///
    /// ```swift
    /// let seqs = try connection.query("SELECT seq FROM events WHERE type = ?", [.text(type)]).map { try $0.int64("seq") }
    /// ```
    @discardableResult
    public func query(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> [SQLiteRow] {
        var statement = try self.prepare(sql)
        let handle = statement.handle
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        try self.bind(values, to: handle, sql: sql)
        var rows: [SQLiteRow] = []
        while true {
            let status = sqlite3_step(handle)
            if status == SQLITE_DONE { return rows }
            guard status == SQLITE_ROW else { throw self.error(status, sql) }
            let count = sqlite3_column_count(handle)
            let reprepares = sqlite3_stmt_status(handle, SQLITE_STMTSTATUS_REPREPARE, 0)
            if reprepares != statement.reprepares {
                // SQLite re-prepared the statement after a schema change: its result may
                // have other columns (`SELECT *` after `ALTER TABLE ... ADD COLUMN`), or the
                // same number under other names.
                statement.columns = SQLiteColumns(statement: handle, sql: sql)
                statement.reprepares = reprepares
                self.statements[sql] = statement
            }
            rows.append(SQLiteRow(values: (0..<count).map { self.column(handle, $0) }, columns: statement.columns))
        }
    }

    /// Runs one statement for its effect (a write); any rows it returns are dropped.
    public func execute(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) {
        try self.query(sql, values)
    }

    /// The first row of a query, if any.
    ///
    /// ```swift
    /// guard let row = try connection.row("SELECT seq FROM events WHERE id = ?", [.text(id)]) else { return nil }
    /// let seq = try row.int64("seq")
    /// ```
    public func row(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> SQLiteRow? {
        try self.query(sql, values).first
    }

    /// The first row of a query that always returns one (an aggregate, a pragma); throws
    /// when it returned none instead of making up a value.
    ///
    /// ```swift
    /// let version = try connection.requiredRow("PRAGMA user_version").int("user_version")
    /// ```
    public func requiredRow(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> SQLiteRow {
        guard let row = try self.row(sql, values) else {
            throw SQLiteError(code: SQLITE_ERROR, message: "the statement returned no row", sql: sql)
        }
        return row
    }

    /// Runs a script of several statements (migrations), without caching.
    public func executeScript(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(self.handle, sql, nil, nil, &message)
        guard status == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw SQLiteError(code: status, message: text, sql: sql)
        }
    }

    /// The rowid of the last insert on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(self.handle) }
    /// Rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(self.handle)) }
    /// Whether a transaction is open.
    public var isInTransaction: Bool { sqlite3_get_autocommit(self.handle) == 0 }

    /// The WAL file SQLite writes for the main database, as SQLite resolved it (a
    /// symlinked database has its WAL beside the link's target, not beside the link).
    public var walPath: String {
        guard let database = sqlite3_db_filename(self.handle, "main"), let wal = sqlite3_filename_wal(database) else {
            return self.path + "-wal"
        }
        return String(cString: wal)
    }

    /// Leaves the WAL as it is when this connection closes (no checkpoint at close): after
    /// an I/O error, nothing more is written to the database file.
    public func disableCheckpointOnClose() {
        _ = inlet_sqlite3_no_checkpoint_on_close(self.handle)
    }

    /// The version of the SQLite library linked (`3.40.1`).
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }
    /// The library version as a number (3040001 for 3.40.1).
    public static var libraryVersionNumber: Int32 { sqlite3_libversion_number() }
}
