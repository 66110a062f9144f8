import Foundation
import InletCore
import InletSQLite
import Testing

/// Rows are read by column name; a read that does not fit the row throws an error naming
/// the column instead of making up a value.
@Suite struct SQLiteRowTests {
    static func withConnection(_ body: (SQLiteConnection) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-row-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let connection = try SQLiteConnection(path: folder + "/rows.sqlite", synchronous: .normal)
        try connection.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, active INTEGER, state TEXT)")
        try connection.execute("INSERT INTO people (id, email, active, state) VALUES (1, NULL, 1, 'pending'), (2, 'b@example.com', 0, 'gone')")
        try body(connection)
    }

    @Test func columnsAreReadByNameWithTheirTypes() throws {
        try Self.withConnection { connection in
            let rows = try connection.query("SELECT state, email, id AS person, active FROM people ORDER BY id")
            #expect(rows.count == 2)
            #expect(try rows[1].int64("person") == 2)
            #expect(try rows[1].int("person") == 2)
            #expect(try rows[1].string("email") == "b@example.com")
            #expect(try rows[0].optionalString("email") == nil)
            #expect(try rows[0].bool("active") == true)
            #expect(try rows[1].bool("active") == false)
            #expect(try rows[0].string("state", as: DeliveryState.self) == .pending)
            #expect(try rows[0].value("email") == .null)
            let count = try connection.requiredRow("SELECT count(*) AS count FROM people WHERE id > ?", [.integer(5)])
            #expect(try count.int("count") == 0)
            #expect(try connection.row("SELECT id FROM people WHERE id > ?", [.integer(5)]) == nil)
        }
    }

    @Test func aMissingColumnThrowsAnErrorNamingIt() throws {
        try Self.withConnection { connection in
            let row = try #require(try connection.row("SELECT id, state FROM people WHERE id = 1"))
            let error = #expect(throws: SQLiteError.self) { try row.string("email") }
            #expect(error?.column == "email")
            #expect(error?.message.contains("\"email\"") == true)
            #expect(error?.sql == "SELECT id, state FROM people WHERE id = 1")
            // Also for the optional reads: a missing column is never taken for a NULL.
            #expect(throws: SQLiteError.self) { try row.optionalString("email") }
        }
    }

    @Test func aNullInARequiredColumnThrowsAnErrorNamingIt() throws {
        try Self.withConnection { connection in
            let row = try #require(try connection.row("SELECT id, email FROM people WHERE id = 1"))
            let error = #expect(throws: SQLiteError.self) { try row.string("email") }
            #expect(error?.column == "email")
            #expect(error?.message.contains("\"email\" is NULL") == true)
            #expect(try row.optionalString("email") == nil)
        }
    }

    @Test func aValueOfAnotherTypeThrowsAnErrorNamingTheColumn() throws {
        try Self.withConnection { connection in
            let row = try #require(try connection.row("SELECT id, email, active, state FROM people WHERE id = 2"))
            #expect(throws: SQLiteError.self) { try row.int64("email") }
            #expect(throws: SQLiteError.self) { try row.optionalInt("email") }
            let text = #expect(throws: SQLiteError.self) { try row.string("id") }
            #expect(text?.column == "id")
            let state = #expect(throws: SQLiteError.self) { try row.string("state", as: DeliveryState.self) }
            #expect(state?.column == "state")
            #expect(state?.message.contains("gone") == true)
            try connection.execute("UPDATE people SET active = 2 WHERE id = 2")
            let flag = #expect(throws: SQLiteError.self) {
                try connection.requiredRow("SELECT active FROM people WHERE id = 2").bool("active")
            }
            #expect(flag?.column == "active")
        }
    }

    @Test func twoColumnsOfOneNameAreRefusedAsAmbiguous() throws {
        try Self.withConnection { connection in
            let row = try #require(try connection.row("SELECT a.id, b.id, a.state FROM people a JOIN people b ON b.id = a.id + 1"))
            let error = #expect(throws: SQLiteError.self) { try row.int64("id") }
            #expect(error?.column == "id")
            #expect(try row.string("state") == "pending")
        }
    }

    @Test func aStoreReadOfACorruptRowThrowsInsteadOfDefaulting() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-row-\(UUID().uuidString)/inlet.sqlite").path
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let store = try await SQLiteStore.open(path: path, options: .init(synchronous: .normal))
        let event = NewEvent(source: .auth0, id: "evt_1", type: .userLogin, payload: "{}")
        _ = try await store.recordLogin(UserLogin(auth0ID: "auth0|a"), event: event)
        #expect(try await store.user(auth0ID: "auth0|a")?.loginsCount == 1)
        // Text that is no number stays text in an INTEGER column.
        try await store.write { try $0.execute("UPDATE users SET logins_count = 'many' WHERE auth0_id = 'auth0|a'") }
        await #expect {
            try await store.user(auth0ID: "auth0|a")
        } throws: { error in
            (error as? SQLiteError)?.column == "logins_count"
        }
        await store.close()
    }

    /// A cached statement that SQLite re-prepares after a schema change reads the new
    /// column names, even when their number did not change.
    @Test func aRenamedColumnIsReadByItsNewNameFromACachedStatement() throws {
        try Self.withConnection { connection in
            let sql = "SELECT * FROM people WHERE id = 2"
            #expect(try connection.row(sql)?.string("email") == "b@example.com")
            try connection.execute("ALTER TABLE people RENAME COLUMN email TO address")
            let row = try #require(try connection.row(sql))
            #expect(try row.string("address") == "b@example.com")
            let error = #expect(throws: SQLiteError.self) { try row.string("email") }
            #expect(error?.column == "email")
        }
    }
}
