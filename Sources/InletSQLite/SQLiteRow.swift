internal import CSQLite3

/// The result columns of a prepared statement, by name, shared by every row it returns.
///
/// Read once when the statement is prepared (and again if SQLite re-prepares it with a
/// different shape after a schema change), so a row costs one reference to it, not a
/// dictionary of its own. A name is found by a linear search: a statement has a handful
/// of columns, and comparing short names is cheaper than hashing them.
public final class SQLiteColumns: Sendable, CustomStringConvertible {
    /// The column names, in select order (`AS` aliases where the statement gives them).
    public let names: [String]
    /// The statement, for the errors a mismatched read throws.
    public let sql: String
    /// Names more than one column has (`SELECT d.id, e.id`): reading one is refused as
    /// ambiguous. Nearly always empty.
    private let duplicates: Set<String>

    init(names: [String], sql: String) {
        self.names = names
        self.sql = sql
        var seen = Set<String>()
        self.duplicates = Set(names.filter { !seen.insert($0).inserted })
    }

    convenience init(statement: OpaquePointer, sql: String) {
        let count = sqlite3_column_count(statement)
        self.init(
            names: (0..<count).map { index in sqlite3_column_name(statement, index).map { String(cString: $0) } ?? "" },
            sql: sql
        )
    }

    /// The position of the column called `name`; throws naming it when the statement has
    /// no such column or more than one.
    public func index(of name: String) throws(SQLiteError) -> Int {
        guard let index = self.names.firstIndex(of: name) else {
            throw SQLiteError(
                code: SQLITE_RANGE, message: "no column \"\(name)\" in the result (columns: \(self))", sql: self.sql, column: name
            )
        }
        if !self.duplicates.isEmpty && self.duplicates.contains(name) {
            throw SQLiteError(
                code: SQLITE_RANGE, message: "more than one column \"\(name)\" in the result (alias them with AS)", sql: self.sql,
                column: name
            )
        }
        return index
    }

    public var description: String { self.names.joined(separator: ", ") }
}

/// One row of a query's result, read by column name with throwing, typed accessors.
///
/// A read says what it expects: `string` for a column that is never NULL, `optionalString`
/// for one that may be. A column the statement does not have, a NULL where a value is
/// required, or a value of another type throws an ``SQLiteError`` whose ``SQLiteError/column``
/// names the column, never a default that would hide a schema or query mistake.
///
/// ```swift
/// guard let row = try connection.row("SELECT id, email FROM users WHERE auth0_id = ?", [.text(id)]) else { return nil }
/// let userID = try row.int64("id")
/// let email = try row.optionalString("email")
/// ```
public struct SQLiteRow: Sendable, CustomStringConvertible {
    /// The values, in the order of `columns.names`.
    let values: [SQLiteValue]
    /// The statement's columns.
    public let columns: SQLiteColumns

    init(values: [SQLiteValue], columns: SQLiteColumns) {
        self.values = values
        self.columns = columns
    }

    /// The value of the column called `column`, whatever its type (NULL included).
    public func value(_ column: String) throws(SQLiteError) -> SQLiteValue {
        let index = try self.columns.index(of: column)
        return self.values[index]
    }

    // MARK: Integers

    /// An INTEGER column that is never NULL.
    public func int64(_ column: String) throws(SQLiteError) -> Int64 {
        guard let value = try self.optionalInt64(column) else { throw self.null(column, expected: "INTEGER") }
        return value
    }

    /// An INTEGER column, nil when NULL.
    public func optionalInt64(_ column: String) throws(SQLiteError) -> Int64? {
        switch try self.value(column) {
        case .null: return nil
        case .integer(let value): return value
        case let other: throw self.mismatch(column, other, expected: "INTEGER")
        }
    }

    /// An INTEGER column that is never NULL, as an `Int`.
    public func int(_ column: String) throws(SQLiteError) -> Int {
        Int(try self.int64(column))
    }

    /// An INTEGER column as an `Int`, nil when NULL.
    public func optionalInt(_ column: String) throws(SQLiteError) -> Int? {
        try self.optionalInt64(column).map { Int($0) }
    }

    /// A boolean column (INTEGER 0 or 1) that is never NULL.
    public func bool(_ column: String) throws(SQLiteError) -> Bool {
        guard let value = try self.optionalBool(column) else { throw self.null(column, expected: "a boolean (0 or 1)") }
        return value
    }

    /// A boolean column (INTEGER 0 or 1), nil when NULL; any other integer throws.
    public func optionalBool(_ column: String) throws(SQLiteError) -> Bool? {
        switch try self.value(column) {
        case .null: return nil
        case .integer(0): return false
        case .integer(1): return true
        case let other: throw self.mismatch(column, other, expected: "a boolean (0 or 1)")
        }
    }

    // MARK: Text

    /// A TEXT column that is never NULL.
    public func string(_ column: String) throws(SQLiteError) -> String {
        guard let value = try self.optionalString(column) else { throw self.null(column, expected: "TEXT") }
        return value
    }

    /// A TEXT column, nil when NULL.
    public func optionalString(_ column: String) throws(SQLiteError) -> String? {
        switch try self.value(column) {
        case .null: return nil
        case .text(let value): return value
        case let other: throw self.mismatch(column, other, expected: "TEXT")
        }
    }

    /// A TEXT column that is never NULL and holds a raw value of `type` (a state, a
    /// status); a text that is none of its cases throws.
    public func string<T: RawRepresentable>(_ column: String, as type: T.Type) throws(SQLiteError) -> T where T.RawValue == String {
        guard let value = try self.optionalString(column, as: type) else { throw self.null(column, expected: "TEXT") }
        return value
    }

    /// A TEXT column holding a raw value of `type`, nil when NULL.
    public func optionalString<T: RawRepresentable>(_ column: String, as type: T.Type) throws(SQLiteError) -> T? where T.RawValue == String {
        guard let text = try self.optionalString(column) else { return nil }
        guard let value = T(rawValue: text) else {
            // A state or status column: its value names no one, and is the clue worth having.
            throw SQLiteError(
                code: SQLITE_MISMATCH, message: "column \"\(column)\" holds \"\(text.prefix(40))\", expected a \(T.self)",
                sql: self.columns.sql, column: column
            )
        }
        return value
    }

    // MARK: Errors

    private func null(_ column: String, expected: String) -> SQLiteError {
        SQLiteError(
            code: SQLITE_MISMATCH, message: "column \"\(column)\" is NULL, expected \(expected)", sql: self.columns.sql, column: column
        )
    }

    private func mismatch(_ column: String, _ value: SQLiteValue, expected: String) -> SQLiteError {
        SQLiteError(
            code: SQLITE_MISMATCH, message: "column \"\(column)\" holds \(value.summary), expected \(expected)", sql: self.columns.sql,
            column: column
        )
    }

    public var description: String {
        "(" + zip(self.columns.names, self.values).map { "\($0): \($1.summary)" }.joined(separator: ", ") + ")"
    }
}

extension SQLiteValue {
    /// The value for an error message or a test's output: type and a short preview.
    var summary: String {
        switch self {
        case .null: "NULL"
        case .integer(let value): "INTEGER \(value)"
        case .real(let value): "REAL \(value)"
        // Never the text itself: rows hold emails and payloads, and errors reach the logs.
        case .text(let value): "TEXT of \(value.utf8.count) bytes"
        case .blob(let value): "BLOB of \(value.count) bytes"
        }
    }
}
