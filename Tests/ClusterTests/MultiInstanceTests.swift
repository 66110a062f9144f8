import Foundation
import InletCore
import InletTestSupport
import Synchronization
import Testing

/// Several real `inlet serve` processes on one PostgreSQL database, as a team behind a
/// load balancer runs them: any instance answers any request, each delivery runs on one
/// instance at a time, and when an instance dies another takes its deliveries over once
/// their leases end.
@Suite(.timeLimit(.minutes(3)))
struct MultiInstanceTests {
    /// Seconds a `slow-` event's command runs; its timeout and lease are longer (the lease
    /// must exceed the timeout by more than a second).
    static let slowSeconds = 2.0

    static func config(folder: String, runs: String) throws -> String {
        let path = folder + "/inlet.json"
        let script = CommandRun.script(file: runs, slowSeconds: slowSeconds)
        try """
            {"handlers": {
                "command": {"program": "/bin/bash", "arguments": ["-c", \(JSONValue.string(script).serializedString)],
                            "subscriptions": ["employee.*"], "concurrency": 4, "timeout_seconds": 3, "lease_seconds": 5,
                            "backoff_base_seconds": 0.2},
                "audit": {"enabled": true, "lease_seconds": 5}
            }}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Traffic of one wave: employee events (some sent twice at once, to two instances)
    /// and logins (several per user), spread round-robin over `instances`.
    struct Wave {
        var events: [(id: String, employee: String, instance: Int)] = []
        var logins: [(user: String, instance: Int)] = []

        init(name: String, events count: Int, duplicated: Int, logins: Int, users: Int, instances: Int) {
            for index in 0..<count {
                let id = "msg_\(name)_\(index)"
                self.events.append((id, "EMP-\(name)-\(index)", index % instances))
                // The same id again to the next instance, concurrently with the first.
                if index < duplicated { self.events.append((id, "EMP-\(name)-\(index)", (index + 1) % instances)) }
            }
            self.logins = (0..<logins).map { ("auth0|\(name)-user-\($0 % users)", $0 % instances) }
        }
    }

    struct WaveResult {
        var events: [(id: String, answer: Answer)] = []
        var logins: [(user: String, answer: Answer)] = []
    }

    static func send(_ wave: Wave, to instances: [InletServeProcess], client: InletTestClient) async -> WaveResult {
        enum Request: Sendable {
            case event(id: String, employee: String, instance: Int)
            case login(user: String, instance: Int)
        }
        // Interleaved, so that logins and events reach the database together.
        var requests: [Request] = wave.events.map { .event(id: $0.id, employee: $0.employee, instance: $0.instance) }
        for (index, login) in wave.logins.enumerated() {
            requests.insert(.login(user: login.user, instance: login.instance), at: min(requests.count, index * 2))
        }
        let answers = await concurrently(requests, width: 16) { request in
            switch request {
            case .event(let id, let employee, let instance):
                await client.postEmployeeEvent(to: instances[instance], id: id, employeeID: employee)
            case .login(let user, let instance):
                await client.postLogin(to: instances[instance], auth0ID: user)
            }
        }
        var result = WaveResult()
        for (request, answer) in zip(requests, answers) {
            switch request {
            case .event(let id, _, _): result.events.append((id, answer))
            case .login(let user, _): result.logins.append((user, answer))
            }
        }
        return result
    }

    @Test func threeInstancesStoreEachEventOnceRunEachDeliveryOnceAndTakeOverAKilledOnesDeliveries() async throws {
        let server = try TestPostgres.required()
        let database = try server.createDatabase()
        defer { database.drop() }
        let folder = try ScratchFolder()
        let runsFile = folder.path + "/runs.log"
        let config = try Self.config(folder: folder.path, runs: runsFile)
        let client = InletTestClient(timeout: 10)
        defer { Task { await client.shutdown() } }

        // Three processes started together: each applies the schema under the advisory lock.
        let instances = try await InletServeProcess.startCluster(
            3, arguments: ["--config", config], environment: InletTestClient.environment.merging(database.environment) { $1 }, folder: folder.path
        )
        defer { for instance in instances { instance.kill() } }
        let started = ContinuousClock.now

        // Wave 1 on two instances, wave 2 on all three.
        let first = Wave(name: "a", events: 120, duplicated: 30, logins: 80, users: 20, instances: 2)
        let second = Wave(name: "b", events: 120, duplicated: 30, logins: 80, users: 20, instances: 3)
        var results = await Self.send(first, to: instances, client: client)
        let secondResults = await Self.send(second, to: instances, client: client)
        results.events += secondResults.events
        results.logins += secondResults.logins
        let trafficSeconds = started.duration(to: .now).seconds

        // Every request answered, and answered as it should be.
        let failed = (results.events.map(\.answer) + results.logins.map(\.answer)).filter { !$0.acknowledged }
        #expect(failed.isEmpty, "unanswered or refused: \(failed.prefix(5).map { "\($0.status) \($0.error ?? $0.body)" })")
        var firstAnswers: [String: Int] = [:]
        for (id, answer) in results.events where answer.acknowledged {
            let duplicate = answer.json?["duplicate"]?.boolValue
            #expect(duplicate == (answer.status == 200), "\(id): \(answer.status) \(answer.body)")
            if answer.status == 202 { firstAnswers[id, default: 0] += 1 }
        }
        let acknowledgedIDs = Set(results.events.filter(\.answer.acknowledged).map(\.id))
        #expect(acknowledgedIDs.allSatisfy { firstAnswers[$0] == 1 }, "each id accepted (202) exactly once across the instances")
        var created: [String: Int] = [:]
        var loginCount: [String: Int] = [:]
        for (user, answer) in results.logins where answer.acknowledged {
            loginCount[user, default: 0] += 1
            if answer.json?["created"]?.boolValue == true { created[user, default: 0] += 1 }
        }
        #expect(Set(loginCount.keys).allSatisfy { created[$0] == 1 }, "each user created by exactly one login: \(created.filter { $0.value != 1 })")

        // Stored once: one row per acknowledged id, none other.
        let storedIDs = try await database.rows("SELECT id FROM events WHERE source = 'productivity'").compactMap { $0[0] }
        #expect(storedIDs.count == acknowledgedIDs.count)
        #expect(Set(storedIDs) == acknowledgedIDs)
        let users = try await database.rows("SELECT auth0_id, logins_count::text FROM users")
        #expect(users.count == loginCount.count)
        for row in users {
            #expect(Int(row[1] ?? "") == loginCount[row[0] ?? ""], "logins of \(row[0] ?? "")")
        }

        // Each delivery done exactly once per handler: employee events reach the command
        // handler and the audit log, logins the audit log. (Provisioning and metadata-sync
        // are off without the Auth0 credentials this cluster does not have: nothing is
        // planned for them.)
        let events = try await database.count("SELECT count(*) FROM events")
        let loginEvents = results.logins.filter(\.answer.acknowledged).count
        #expect(events == acknowledgedIDs.count + loginEvents)
        let expectedDeliveries = acknowledgedIDs.count * 2 + loginEvents
        try await Self.waitForDone(database, deliveries: expectedDeliveries, instances: instances)
        let drained = started.duration(to: .now).seconds
        let repeated = try await database.rows(
            "SELECT e.id, d.handler, d.attempts::text, d.last_error FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.handler IN ('command', 'audit') AND d.attempts <> 1"
        )
        #expect(repeated.isEmpty, "each delivery claimed once: \(repeated.prefix(10))")
        #expect(try await database.count("SELECT count(*) FROM (SELECT event_seq FROM audit_log WHERE outcome = 'received' GROUP BY event_seq HAVING count(*) <> 1) AS twice") == 0)
        #expect(try await database.count("SELECT count(*) FROM audit_log WHERE outcome = 'received'") == events)

        let runs = CommandRun.parse(try String(contentsOfFile: runsFile, encoding: .utf8))
        let ranFor = Dictionary(grouping: runs, by: \.event)
        #expect(Set(ranFor.keys) == acknowledgedIDs, "the command ran for every employee event")
        #expect(ranFor.values.allSatisfy { $0.count == 1 && $0[0].end != nil }, "once each: \(ranFor.values.filter { $0.count != 1 }.prefix(3))")
        let pids = Set(runs.map(\.pid))
        #expect(pids.isSubset(of: Set(instances.map(\.pid))))
        #expect(pids.count >= 2, "the instances shared the deliveries: \(Dictionary(grouping: runs, by: \.pid).mapValues(\.count))")
        let perInstance = instances.map { instance in runs.filter { $0.pid == instance.pid }.count }

        // SIGKILL an instance while it runs slow deliveries; another takes them over once
        // their leases end, and no two runs of one delivery overlap.
        let slowIDs = (0..<8).map { "slow-\($0)" }
        let slowAnswers = await concurrently(Array(slowIDs.enumerated()), width: 8) { index, id in
            await client.postEmployeeEvent(to: instances[index % 3], id: id, employeeID: "EMP-\(id)")
        }
        #expect(slowAnswers.allSatisfy { $0.status == 202 }, "\(slowAnswers.map(\.status))")
        var victim: InletServeProcess?
        try await eventually(timeout: .seconds(30), "a slow delivery running") {
            let running = CommandRun.parse((try? String(contentsOfFile: runsFile, encoding: .utf8)) ?? "")
                .filter { $0.event.hasPrefix("slow-") && $0.end == nil }
            victim = instances.first { instance in running.contains { $0.pid == instance.pid } }
            return victim != nil
        }
        let killed = try #require(victim)
        killed.kill()
        let killedAt = Date().timeIntervalSince1970
        // Its runs that had not ended: their outcome cannot have been recorded.
        let cutOff = Set(
            CommandRun.parse(try String(contentsOfFile: runsFile, encoding: .utf8))
                .filter { $0.event.hasPrefix("slow-") && $0.pid == killed.pid && $0.end == nil }.map(\.event)
        )
        let survivors = instances.filter { $0.pid != killed.pid }
        try await Self.waitForDone(database, deliveries: expectedDeliveries + slowIDs.count * 2, instances: survivors)
        let recovered = Date().timeIntervalSince1970 - killedAt

        // Its command runs go on (a process group of their own): wait for their `end` lines.
        var slowRuns: [String: [CommandRun]] = [:]
        try await eventually(timeout: .seconds(10), "the runs the kill left to end") {
            slowRuns = Dictionary(grouping: CommandRun.parse(try String(contentsOfFile: runsFile, encoding: .utf8)).filter { $0.event.hasPrefix("slow-") }, by: \.event)
            return slowRuns.values.joined().allSatisfy { $0.end != nil }
        }
        #expect(Set(slowRuns.keys) == Set(slowIDs))
        var twice: Set<String> = []
        for (event, eventRuns) in slowRuns {
            let ordered = eventRuns.sorted { $0.start < $1.start }
            for (earlier, later) in zip(ordered, ordered.dropFirst()) {
                #expect(later.start >= (earlier.end ?? .infinity), "two runs of \(event) overlap: \(earlier) and \(later)")
            }
            #expect(ordered.count <= 2, "\(event): \(ordered)")
            if ordered.count > 1 {
                twice.insert(event)
                #expect(ordered[0].pid == killed.pid && ordered[0].start <= killedAt, "only a run of the killed instance is repeated: \(ordered)")
                #expect(ordered.last?.pid != killed.pid, "\(event) finished on another instance")
            }
        }
        #expect(!cutOff.isEmpty)
        #expect(cutOff.isSubset(of: twice), "every run the kill cut off ran again: \(cutOff.subtracting(twice))")
        // A claim counts as an attempt: the runs cut off, and claims the kill came before
        // the program started, are the deliveries claimed twice (at most its concurrency).
        let retried = Set(try await database.rows(
            "SELECT e.id FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE e.id LIKE 'slow-%' AND d.handler = 'command' AND d.attempts = 2"
        ).compactMap { $0[0] })
        #expect(twice.isSubset(of: retried) && retried.count <= 4, "claimed twice: \(retried), ran twice: \(twice)")
        #expect(try await database.count("SELECT count(*) FROM deliveries WHERE handler = 'command' AND attempts > 2") == 0)

        print(
            "cluster: \(acknowledgedIDs.count) events + \(loginEvents) logins over 2 then 3 instances in \(String(format: "%.1f", trafficSeconds)) s, drained at \(String(format: "%.1f", drained)) s; command runs per instance \(perInstance); killed \(killed.pid) with \(cutOff.count) slow runs cut off (\(twice.count) ran again), all done \(String(format: "%.1f", recovered)) s later"
        )
        for instance in survivors {
            let status = await instance.terminate()
            #expect(status == 0, "graceful exit: \(instance.logText.suffix(3000))")
        }
    }

    /// Waits until `deliveries` deliveries are all done (printing the instances' logs if not).
    static func waitForDone(_ database: TestPostgresDatabase, deliveries: Int, instances: [InletServeProcess]) async throws {
        do {
            try await eventually(timeout: .seconds(60), "\(deliveries) deliveries done") {
                try await database.count("SELECT count(*) FROM deliveries WHERE handler IN ('command', 'audit') AND state = 'done'") == deliveries
            }
        } catch {
            let states = try? await database.rows("SELECT handler, state, count(*)::text, max(attempts)::text, max(last_error) FROM deliveries GROUP BY 1, 2")
            Issue.record("deliveries: \(states ?? []); logs: \(instances.map { $0.logText.suffix(2000) })")
            throw error
        }
    }
}
