import Foundation
import InletCore
import InletSQLite
import Synchronization
import Testing

@Suite struct SQLiteStoreTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("inlet-core-\(UUID().uuidString)/inlet.sqlite").path
    }

    @Test func createsTheSchemaInWALModeAndReopens() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let store = try await SQLiteStore.open(path: path)
        let mode = try await store.read { try $0.row("PRAGMA journal_mode")?.string("journal_mode") }
        #expect(mode == "wal")
        await store.close()
        // Opening again applies nothing new and keeps the version.
        let again = try await SQLiteStore.open(path: path)
        let version = try await again.read { try $0.row("PRAGMA user_version")?.int("user_version") }
        #expect(version == Migrations.latestVersion)
        await again.close()
    }

    @Test func aFailingJobRollsBackOnlyItsOwnChangesInASharedTransaction() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let store = try await SQLiteStore.open(path: path)
        struct Refused: Error {}
        // Many writers at once, so jobs share transactions; every third one fails after writing.
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<300 {
                group.addTask {
                    do {
                        try await store.write { connection in
                            try connection.execute(
                                "INSERT INTO store_meta (key, value) VALUES (?, 'x')", [.text("k\(index)")]
                            )
                            if index % 3 == 0 { throw Refused() }
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 200)
        let stored = try await store.read { try $0.row("SELECT count(*) AS count FROM store_meta WHERE key LIKE 'k%'")?.int("count") }
        #expect(stored == 200)
        await store.close()
    }

    @Test func aConstraintViolationIsReportedWithSQLitesCode() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let store = try await SQLiteStore.open(path: path)
        await #expect(throws: SQLiteError.self) {
            try await store.write { connection in
                try connection.execute("INSERT INTO users (auth0_id, created_at, updated_at) VALUES ('a', 'now', 'now')")
                try connection.execute("INSERT INTO users (auth0_id, created_at, updated_at) VALUES ('a', 'now', 'now')")
            }
        }
        let users = try await store.read { try $0.row("SELECT count(*) AS count FROM users")?.int("count") }
        #expect(users == 0)
        await store.close()
        await #expect(throws: SQLiteError.closed) { try await store.checkWritable() }
    }

    @Test func commitsReachTheDatabaseFileAndCloseEmptiesTheWAL() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        func size(_ file: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int) ?? 0 }
        let store = try await SQLiteStore.open(path: path, options: .init(checkpointFrames: 8))
        let blob = String(repeating: "x", count: 50_000)
        for index in 0..<4 {
            try await store.write { try $0.execute("INSERT INTO store_meta (key, value) VALUES (?, ?)", [.text("big\(index)"), .text(blob)]) }
        }
        // The background checkpointer copies committed pages from the WAL into the file.
        let deadline = Date().addingTimeInterval(10)
        while size(path) < 200_000 && Date() < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(size(path) >= 200_000, "the WAL was not checkpointed into the database file")
        await store.close()
        #expect(size(path + "-wal") == 0)
    }

    @Test func theWALBytesCountedAreTheFramesTheCommitsAppended() async throws {
        func size(_ file: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int) ?? 0 }
        let blob = String(repeating: "x", count: 20_000)
        // No checkpoint: the WAL only grows, so its size is the 32-byte header and every frame.
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let store = try await SQLiteStore.open(path: path, options: .init(checkpointFrames: 1_000_000))
        for index in 0..<5 {
            try await store.write { try $0.execute("INSERT INTO store_meta (key, value) VALUES (?, ?)", [.text("k\(index)"), .text(blob)]) }
        }
        let walSize = size(path + "-wal")
        await store.close()  // the writer has counted every commit once it has stopped
        #expect(walSize > 100_000)
        #expect(store.walBytesWritten == walSize - 32)

        // A checkpoint after every commit: the WAL starts over, and the count goes on past its size.
        let other = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: (other as NSString).deletingLastPathComponent) }
        let restarting = try await SQLiteStore.open(path: other, options: .init(checkpointFrames: 1))
        for index in 0..<5 {
            try await restarting.write { try $0.execute("INSERT INTO store_meta (key, value) VALUES (?, ?)", [.text("k\(index)"), .text(blob)]) }
        }
        let restartedSize = size(other + "-wal")
        await restarting.close()
        #expect(restarting.walBytesWritten > restartedSize)
        #expect(restarting.walBytesWritten >= 5 * 5 * (24 + 4096))  // five commits of at least five pages each
        #expect(restarting.walBytesWritten % (24 + 4096) == 0)
    }

    @Test func aFailedSyncStopsTheWriterForGood() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let failures = Mutex<[SQLiteError]>([])
        let writer = SQLiteExecutor(
            name: "test.writer", mode: .writer(maxBatch: 8, syncWAL: true),
            hooks: .init(onFailure: { error in failures.withLock { $0.append(error) } })
        ) {
            try SQLiteConnection(path: path, synchronous: .normal)
        }
        try await writer.run { try $0.execute("CREATE TABLE t (x)") }
        // The WAL goes away under the writer: its next commit lands in a file that no sync
        // can reach, so the caller hears of it instead of taking the write as durable...
        try FileManager.default.removeItem(atPath: path + "-wal")
        await #expect {
            try await writer.run { try $0.execute("INSERT INTO t VALUES (1)") }
        } throws: { error in
            (error as? SQLiteError)?.message.contains("to sync it") == true
        }
        // ...and nothing is written, nor acknowledged, after it.
        let ran = Mutex(false)
        await #expect {
            try await writer.run { connection in
                ran.withLock { $0 = true }
                try connection.execute("INSERT INTO t VALUES (2)")
            }
        } throws: { error in
            (error as? SQLiteError)?.isUnavailable == true
        }
        #expect(!ran.withLock { $0 })
        #expect(failures.withLock { $0.count } == 1)
        #expect(writer.stoppedBy != nil)
        await writer.close()
    }

    @Test func oneProcessWritesADatabaseFileAndOthersOpenItReadOnly() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let store = try await SQLiteStore.open(path: path)
        await #expect {
            _ = try await SQLiteStore.open(path: path)
        } throws: { error in
            guard let error = error as? DatabaseLockError else { return false }
            return error.holderPID == getpid() && error.message.contains("pid \(getpid())")
        }
        #expect(DatabaseLock.currentHolder(databasePath: path) == getpid())
        _ = try await store.appendEvent(source: "productivity", id: "evt-1", type: "employee.created", payload: "{}", handlers: ["audit"])

        let reader = try await SQLiteStore.openReadOnly(path: path)
        #expect(try await reader.eventRecord(id: "evt-1")?.deliveries.count == 1)
        await #expect {
            _ = try await reader.appendEvent(source: "productivity", id: "evt-2", type: "employee.created", payload: "{}", handlers: [])
        } throws: { error in
            (error as? SQLiteError)?.isReadOnly == true
        }
        await reader.close()

        await store.close()
        #expect(DatabaseLock.currentHolder(databasePath: path) == nil)
        let again = try await SQLiteStore.open(path: path)
        await again.close()
    }

    @Test func aSymlinkedDatabaseKeepsItsWALBesideTheTarget() async throws {
        let folder = (Self.temporaryPath() as NSString).deletingLastPathComponent
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/real", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: folder + "/real/inlet.sqlite", contents: nil)
        try FileManager.default.createSymbolicLink(atPath: folder + "/inlet.sqlite", withDestinationPath: folder + "/real/inlet.sqlite")
        let store = try await SQLiteStore.open(path: folder + "/inlet.sqlite")
        let result = try await store.appendEvent(source: "productivity", id: "evt-1", type: "employee.created", payload: "{}", handlers: ["audit"])
        #expect(!result.duplicate)
        #expect(FileManager.default.fileExists(atPath: folder + "/real/inlet.sqlite-wal"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/inlet.sqlite-wal"))
        #expect(try await store.read { $0.walPath } == folder + "/real/inlet.sqlite-wal")
        await store.close()
    }

    @Test func refusesADatabaseThatCannotBeOpened() async throws {
        await #expect(throws: (any Error).self) {
            _ = try await SQLiteStore.open(path: "/proc/inlet-cannot-create/inlet.sqlite")
        }
    }
}
