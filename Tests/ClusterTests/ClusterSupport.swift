import Foundation
import HTTPTypes
import InletCore
import InletHTTPClient
import InletTestSupport
import Synchronization
import Testing

/// The secrets every instance of a test cluster shares.
enum ClusterSecrets {
    static let webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let internalToken = "itok_" + String(repeating: "c", count: 40)
    static let adminToken = "atok_" + String(repeating: "d", count: 40)

    static var environment: [String: String] {
        ["PRODUCTIVITY_WEBHOOK_SECRET": webhookSecret, "INTERNAL_API_TOKEN": internalToken, "ADMIN_API_TOKEN": adminToken]
    }
}

/// A folder under the system temp directory, removed when the test ends.
struct ScratchFolder: ~Copyable {
    let path: String

    init() throws {
        self.path = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-cluster-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}

/// What one request got: the status (0: no answer within the client's timeout, or no
/// connection), the body, the Retry-After header, and how long it took.
struct Answer: Sendable {
    let status: Int
    let body: String
    let retryAfter: String?
    let seconds: Double
    let error: String?

    var json: JSONValue? { try? JSONDocument.parse(Array(self.body.utf8)).root.value }
    var errorCode: String? { self.json?["error"]?.stringValue }
    var acknowledged: Bool { self.status == 200 || self.status == 202 }
}

/// Sends the requests of a test to the instances of a cluster over loopback, each bounded
/// by a client timeout (an answer that does not come in time counts as status 0).
final class ClusterClient: Sendable {
    let http = OutboundClient(configuration: .init(maxConnections: 64, maxConnectionsPerHost: 16))
    /// Seconds a request may take before it counts as a hang.
    let timeout: Double

    init(timeout: Double = 10) {
        self.timeout = timeout
    }

    func shutdown() async { await self.http.shutdown() }

    /// A productivity event about employee `employeeID`, signed (Standard Webhooks) with id `id`.
    func postEmployeeEvent(to instance: InletServeProcess, id: String, employeeID: String, type: String = "employee.created") async -> Answer {
        let body = #"{"type":"\#(type)","occurred_at":"2026-11-22T10:00:00Z","data":{"employee_id":"\#(employeeID)","name":"Ada Lovelace","email":"\#(employeeID.lowercased())@example.com","department":"Production"}}"#
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let signature: String
        do {
            signature = try WebhookSecret(ClusterSecrets.webhookSecret).sign(id: id, timestamp: timestamp, body: Array(body.utf8))
        } catch {
            return Answer(status: 0, body: "", retryAfter: nil, seconds: 0, error: "cannot sign: \(error)")
        }
        let headers: HTTPFields = [
            .contentType: "application/json", HTTPField.Name("webhook-id")!: id, HTTPField.Name("webhook-timestamp")!: timestamp,
            HTTPField.Name("webhook-signature")!: signature,
        ]
        return await self.send(.post, instance.baseURL + "/hooks/productivity", headers: headers, body: body)
    }

    /// A login reported by the Post-Login Action for `auth0ID`.
    func postLogin(to instance: InletServeProcess, auth0ID: String) async -> Answer {
        let body = #"{"auth0Id":"\#(auth0ID)","email":"\#(auth0ID.replacingOccurrences(of: "|", with: "-"))@example.com","name":"User","ip":"203.0.113.9"}"#
        return await self.send(
            .post, instance.baseURL + "/internal/auth/sync-user",
            headers: [.contentType: "application/json", .authorization: "Bearer \(ClusterSecrets.internalToken)"], body: body
        )
    }

    func get(_ url: String) async -> Answer {
        await self.send(.get, url, headers: [:], body: nil)
    }

    func send(_ method: HTTPRequest.Method, _ url: String, headers: HTTPFields, body: String?) async -> Answer {
        let started = ContinuousClock.now
        do {
            let response = try await self.http.execute(
                OutboundRequest(method: method, url: url, headers: headers, body: body.map { Array($0.utf8) }, connectTimeout: 2, timeout: self.timeout)
            )
            return Answer(
                status: response.status, body: String(decoding: response.body, as: UTF8.self), retryAfter: response.headers[.retryAfter],
                seconds: started.duration(to: .now).seconds, error: nil
            )
        } catch {
            return Answer(status: 0, body: "", retryAfter: nil, seconds: started.duration(to: .now).seconds, error: "\(error)")
        }
    }
}

/// Runs `work` for each of `items` with at most `width` running at once; returns the
/// results in the order of `items`.
func concurrently<Item: Sendable, Result: Sendable>(
    _ items: [Item], width: Int, _ work: @escaping @Sendable (Item) async -> Result
) async -> [Result] {
    await withTaskGroup(of: (Int, Result).self) { group in
        var results = [Result?](repeating: nil, count: items.count)
        var next = 0
        while next < min(width, items.count) {
            let index = next
            group.addTask { (index, await work(items[index])) }
            next += 1
        }
        while let (index, result) = await group.next() {
            results[index] = result
            if next < items.count {
                let following = next
                group.addTask { (following, await work(items[following])) }
                next += 1
            }
        }
        return results.map { $0! }
    }
}

/// One run of the `command` handler, as its script recorded it: `start|end EVENT_ID PID TIME`.
struct CommandRun: Sendable, CustomStringConvertible {
    let event: String
    let pid: Int32
    let start: Double
    /// Nil while it runs.
    var end: Double?

    var description: String { "\(self.event) on \(self.pid) \(self.start)–\(self.end.map { String($0) } ?? "running")" }

    /// The runs of a log the script wrote (a start and its end share event and pid).
    static func parse(_ text: String) -> [CommandRun] {
        var runs: [CommandRun] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 4, let pid = Int32(fields[2]), let time = Double(fields[3]) else { continue }
            let event = String(fields[1])
            if fields[0] == "start" {
                runs.append(CommandRun(event: event, pid: pid, start: time))
            } else if fields[0] == "end", let index = runs.lastIndex(where: { $0.event == event && $0.pid == pid && $0.end == nil }) {
                runs[index].end = time
            }
        }
        return runs
    }

    /// A bash script for the `command` handler that appends `start` and `end` lines to
    /// `file` (the pid is the inlet process that ran it), sleeping `slowSeconds` for events
    /// whose id starts with `slow-`.
    static func script(file: String, slowSeconds: Double) -> String {
        """
        read -r _
        printf 'start %s %s %s\\n' "$INLET_EVENT_ID" "$PPID" "$EPOCHREALTIME" >> '\(file)'
        case "$INLET_EVENT_ID" in slow-*) sleep \(slowSeconds) ;; esac
        printf 'end %s %s %s\\n' "$INLET_EVENT_ID" "$PPID" "$EPOCHREALTIME" >> '\(file)'
        """
    }
}

/// Starts `count` `inlet serve` processes together on `database` with `config`, each
/// logging to its own file in `folder`; every one is serving when this returns.
func startInstances(
    _ count: Int, database: TestPostgresDatabase, config: String, folder: String, environment extra: [String: String] = [:]
) async throws -> [InletServeProcess] {
    var environment = ClusterSecrets.environment.merging(database.environment) { $1 }
    environment.merge(extra) { $1 }
    let frozen = environment
    let results = await withTaskGroup(of: (Int, Result<InletServeProcess, any Error>).self) { group in
        for index in 0..<count {
            group.addTask {
                do {
                    let process = try await InletServeProcess.start(
                        arguments: ["--config", config], environment: frozen, log: folder + "/inlet-\(index).log"
                    )
                    return (index, .success(process))
                } catch {
                    return (index, .failure(error))
                }
            }
        }
        var results: [(Int, Result<InletServeProcess, any Error>)] = []
        for await entry in group { results.append(entry) }
        return results.sorted { $0.0 < $1.0 }.map(\.1)
    }
    let instances = results.compactMap { try? $0.get() }
    for result in results {
        if case .failure(let error) = result {
            for instance in instances { instance.kill() }
            throw error
        }
    }
    for instance in instances { try await instance.waitUntilServing() }
    return instances
}
