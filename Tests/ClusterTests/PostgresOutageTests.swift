import Foundation
import InletCore
import InletTestSupport
import Synchronization
import Testing

/// PostgreSQL stopped (as by a crash) and started again under load, on a cluster of the
/// test's own: two instances answer 503 `unavailable` with `Retry-After` during the
/// outage (never a 500, never a hang), lose nothing they acknowledged, and resume — new
/// requests, pending deliveries, readiness — without being restarted.
@Suite(.timeLimit(.minutes(3)))
struct PostgresOutageTests {
    /// One request of the load and what it got.
    struct Sent: Sendable {
        enum Kind: Sendable { case event, login }
        let kind: Kind
        let id: String
        /// The index of the instance it went to.
        let instance: Int
        let answer: Answer
        let sentAt: Double
    }

    /// Requests sent continuously to the instances, `width` at a time, until stopped; each
    /// worker at most one per `pace`, so that instant 503s during the outage do not turn the
    /// load into a busy loop that starves the suites running beside this one.
    final class Load: Sendable {
        static let pace = Duration.milliseconds(25)
        let sent = Mutex<[Sent]>([])
        let stopped = Atomic<Bool>(false)
        let counter = Atomic<Int>(0)

        func run(instances: [InletServeProcess], client: InletTestClient, width: Int) async {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<width {
                    group.addTask {
                        // Bounded: stopped by the test, and never more than 20,000 requests.
                        let clock = ContinuousClock()
                        var next = clock.now
                        while !self.stopped.load(ordering: .relaxed) {
                            // Pacing, not waiting for a condition: the next slot of this worker.
                            try? await clock.sleep(until: next)
                            next = max(next + Self.pace, clock.now)
                            let number = self.counter.add(1, ordering: .relaxed).newValue
                            guard number < 20_000 else { return }
                            let instance = instances[number % instances.count]
                            let index = number % instances.count
                            let sentAt = Date().timeIntervalSince1970
                            if number % 4 == 0 {
                                let user = "auth0|outage-\(number % 50)"
                                let answer = await client.postLogin(to: instance, auth0ID: user)
                                self.sent.withLock { $0.append(Sent(kind: .login, id: user, instance: index, answer: answer, sentAt: sentAt)) }
                            } else {
                                let id = "msg_outage_\(number)"
                                let answer = await client.postEmployeeEvent(to: instance, id: id, employeeID: "EMP-\(number)")
                                self.sent.withLock { $0.append(Sent(kind: .event, id: id, instance: index, answer: answer, sentAt: sentAt)) }
                            }
                        }
                    }
                }
            }
        }

        var all: [Sent] { self.sent.withLock { $0 } }
    }

    @Test func anOutageIsAnswered503AndNothingAcknowledgedIsLostAndEverythingResumes() async throws {
        _ = try TestPostgres.required()
        let server = try TestPostgres.startPrivate()
        defer { server.remove() }
        let database = try server.createDatabase()
        let folder = try ScratchFolder()
        let runsFile = folder.path + "/runs.log"
        let config = folder.path + "/inlet.json"
        let script = CommandRun.script(file: runsFile, slowSeconds: 1)
        try """
            {"handlers": {
                "command": {"program": "/bin/bash", "arguments": ["-c", \(JSONValue.string(script).serializedString)],
                            "subscriptions": ["employee.*"], "concurrency": 4, "timeout_seconds": 3, "lease_seconds": 5,
                            "backoff_base_seconds": 0.2, "backoff_cap_seconds": 1},
                "audit": {"enabled": true, "lease_seconds": 5}
            }}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let client = InletTestClient(timeout: 10)
        defer { Task { await client.shutdown() } }
        let instances = try await InletServeProcess.startCluster(
            2, arguments: ["--config", config], environment: InletTestClient.environment.merging(database.environment) { $1 }, folder: folder.path
        )
        defer { for instance in instances { instance.kill() } }

        let load = Load()
        let loadTask = Task { await load.run(instances: instances, client: client, width: 8) }
        defer { load.stopped.store(true, ordering: .relaxed) }
        try await eventually(timeout: .seconds(30), "load acknowledged before the outage") {
            load.all.filter(\.answer.acknowledged).count >= 60
        }
        // Deliveries running and waiting when PostgreSQL goes: slow commands.
        let slow = await concurrently(Array(0..<12), width: 12) { index in
            await client.postEmployeeEvent(to: instances[index % 2], id: "slow-\(index)", employeeID: "EMP-slow-\(index)")
        }
        #expect(slow.allSatisfy { $0.status == 202 })
        try await eventually(timeout: .seconds(10), "a slow delivery running") {
            ((try? String(contentsOfFile: runsFile, encoding: .utf8)) ?? "").contains("start slow-")
        }

        let stoppedAt = Date().timeIntervalSince1970
        try server.stopServer()
        // The outage: wait until both instances have answered 503 and say they are not
        // ready, and at least three seconds.
        var notReady: Set<Int> = []
        try await eventually(timeout: .seconds(30), "503 from both instances and /readyz failing") {
            let waiting = instances.filter { !notReady.contains($0.port) }
            let answers = await concurrently(waiting, width: waiting.count) { await client.get($0.baseURL + "/readyz") }
            for (instance, ready) in zip(waiting, answers) where ready.status == 503 { notReady.insert(instance.port) }
            let unavailable = load.all.filter { $0.sentAt >= stoppedAt && $0.answer.status == 503 }.count
            return notReady.count == instances.count && unavailable >= 2 && Date().timeIntervalSince1970 - stoppedAt >= 3
        }
        try server.startServer()
        let restartedAt = Date().timeIntervalSince1970

        // Back: new requests succeed (on each instance) without a restart.
        var firstSuccess: Double?
        try await eventually(timeout: .seconds(30), "requests acknowledged again") {
            let after = load.all.filter { $0.sentAt >= restartedAt && $0.answer.acknowledged }
            firstSuccess = after.map { $0.sentAt + $0.answer.seconds }.min()
            return Set(after.map(\.instance)).count == instances.count && after.count >= 40
        }
        load.stopped.store(true, ordering: .relaxed)
        await loadTask.value
        let sent = load.all

        // Ready again, and every delivery of every stored event done.
        var readyAgain: Double?
        try await eventually(timeout: .seconds(30), "/readyz 200 on both instances") {
            var statuses: [Int] = []
            for instance in instances { statuses.append(await client.get(instance.baseURL + "/readyz").status) }
            if statuses.allSatisfy({ $0 == 200 }) { readyAgain = Date().timeIntervalSince1970 }
            return readyAgain != nil
        }
        let events = try await database.count("SELECT count(*) FROM events")
        let employeeEvents = try await database.count("SELECT count(*) FROM events WHERE type LIKE 'employee.%'")
        do {
            try await eventually(timeout: .seconds(60), "every delivery done") {
                try await database.count("SELECT count(*) FROM deliveries WHERE handler IN ('command', 'audit') AND state = 'done'")
                    == events + employeeEvents
            }
        } catch {
            let states = try? await database.rows("SELECT handler, state, count(*)::text, max(attempts)::text, max(last_error) FROM deliveries GROUP BY 1, 2")
            Issue.record("deliveries: \(states ?? []); logs: \(instances.map { $0.logText.suffix(3000) })")
            throw error
        }
        let drainedAt = Date().timeIntervalSince1970

        // Never a 500, never a hang: each answer within the client's timeout, 503s with
        // `unavailable` and Retry-After.
        let statuses = Dictionary(grouping: sent, by: \.answer.status).mapValues(\.count)
        let unavailable = sent.filter { $0.answer.status == 503 }
        #expect(Set(statuses.keys).isSubset(of: [200, 202, 503]), "statuses: \(statuses); \(sent.filter { ![200, 202, 503].contains($0.answer.status) }.prefix(3).map { "\($0.answer.status) \($0.answer.error ?? $0.answer.body)" })")
        #expect(!unavailable.isEmpty)
        #expect(unavailable.allSatisfy { $0.answer.errorCode == "unavailable" && $0.answer.retryAfter != nil }, "\(unavailable.first.map { "\($0.answer.body) \($0.answer.retryAfter ?? "no Retry-After")" } ?? "")")
        let slowest = sent.map(\.answer.seconds).max() ?? 0
        let unavailableSeconds = unavailable.map(\.answer.seconds)
        // Most 503s come at once: once a call finds PostgreSQL unreachable, one call at a
        // time tries it and the others fail at once instead of each waiting out its 5 s.
        let quick = unavailableSeconds.filter { $0 < 1 }.count
        #expect(quick * 2 > unavailableSeconds.count, "503s answered within a second: \(quick) of \(unavailableSeconds.count): \(unavailableSeconds)")

        // Nothing acknowledged lost.
        let stored = Set(try await database.rows("SELECT id FROM events WHERE source = 'productivity'").compactMap { $0[0] })
        let acknowledged = Set(sent.filter { $0.kind == .event && $0.answer.acknowledged }.map(\.id))
        let lost = acknowledged.subtracting(stored)
        #expect(lost.isEmpty, "acknowledged but not stored: \(sent.filter { lost.contains($0.id) }.map { "\($0.id) on \($0.instance): \($0.answer.status) \($0.answer.body), sent \($0.sentAt - stoppedAt) s after the stop, answered in \($0.answer.seconds) s" })")
        let loginsAcknowledged = Dictionary(grouping: sent.filter { $0.kind == .login && $0.answer.acknowledged }, by: \.id).mapValues(\.count)
        for row in try await database.rows("SELECT auth0_id, logins_count::text FROM users") {
            // At least as many as acknowledged: a login answered 503 may have committed.
            let user = row[0] ?? ""
            #expect(
                (Int(row[1] ?? "") ?? 0) >= (loginsAcknowledged[user] ?? 0),
                "logins of \(user): \(sent.filter { $0.id == user }.map { "\($0.answer.status) \($0.answer.body) on \($0.instance), sent \($0.sentAt - stoppedAt) s after the stop, answered in \($0.answer.seconds) s" })"
            )
        }
        #expect(try await database.count("SELECT count(*) FROM users") >= loginsAcknowledged.count)

        // The command ran for every stored employee event, runs of one never overlapping.
        let runs = Dictionary(grouping: CommandRun.parse(try String(contentsOfFile: runsFile, encoding: .utf8)), by: \.event)
        #expect(Set(runs.keys) == Set(try await database.rows("SELECT id FROM events WHERE type LIKE 'employee.%'").compactMap { $0[0] }))
        for (event, eventRuns) in runs {
            let ordered = eventRuns.sorted { $0.start < $1.start }
            for (earlier, later) in zip(ordered, ordered.dropFirst()) {
                #expect(later.start >= (earlier.end ?? .infinity), "two runs of \(event) overlap: \(earlier) and \(later)")
            }
        }

        let during = sent.filter { $0.sentAt >= stoppedAt && $0.sentAt < restartedAt }
        print(
            String(
                format: "outage: %d requests (%d during the %.1f s outage: %d answered 503), statuses %@; 503s in %.2f–%.2f s, slowest answer %.2f s; first success %.2f s after the restart, /readyz 200 after %.2f s, all %d deliveries done after %.2f s",
                sent.count, during.count, restartedAt - stoppedAt, unavailable.count, "\(statuses)", unavailableSeconds.min() ?? 0,
                unavailableSeconds.max() ?? 0, slowest, (firstSuccess ?? .nan) - restartedAt,
                (readyAgain ?? .nan) - restartedAt, events + employeeEvents, drainedAt - restartedAt
            )
        )
        for instance in instances {
            let status = await instance.terminate()
            #expect(status == 0, "graceful exit: \(instance.logText.suffix(3000))")
        }
        database.drop()
    }
}
