import Foundation
import InletCore

/// `inlet-drain-bench console [N]`: fills a store with N events (half employee events with
/// an employee id and email, half logins; one or two handlers each), finishes most
/// deliveries (1 % dead with a few causes, 2 % left pending), then times each query the
/// operator console makes: the median and the worst of 15 runs, in ms.
func consoleQueries(_ store: some InletStore, total: Int) async throws {
    let start = ContinuousClock.now
    var appended = 0
    while appended < total {
        let batch = (appended..<min(total, appended + 500)).map { index -> NewEvent in
            if index % 2 == 0 {
                let body = #"{"type":"employee.created","data":{"employee_id":"E\#(index)","name":"N","email":"e\#(index)@example.com","department":"D"}}"#
                return NewEvent(
                    source: .productivity, id: "evt_\(index)", type: .employeeCreated, payload: body, handlers: ["audit", "provision"],
                    headers: [("content-type", "application/json")], subjects: EventSubjects.of(type: .employeeCreated, payload: body)
                )
            }
            return NewEvent(source: .auth0, id: "login_\(index)", type: .userLogin, payload: #"{"auth0Id":"auth0|\#(index)"}"#, handlers: ["audit"])
        }
        _ = try await store.appendEvents(batch)
        appended += batch.count
    }
    var finished = 0
    for handler in ["audit", "provision"] {
        for _ in 0..<10_000 {
            let claims = try await store.claimDue(handler: handler, limit: 1000, leaseSeconds: 600, maxAttempts: 10, excluding: []).claims
            if claims.isEmpty { break }
            try await store.complete(claims.map { claim in
                let outcome: DeliveryOutcome
                switch claim.event.seq % 100 {
                case 0: outcome = .dead(error: "upstream refused employee \(claim.event.seq) (HTTP 4\(claim.event.seq % 3)9)", reason: .permanent)
                case 1, 2: outcome = .retry(at: Timestamp(millisecondsSinceEpoch: Int64.max / 4), error: "timeout after \(claim.event.seq % 900) ms")
                default: outcome = .done
                }
                return Completion(claim: claim, handler: handler, outcome: outcome, startedAt: nil, finishedAt: nil, instance: "bench:1")
            })
            finished += claims.count
        }
    }
    print("filled \(total) events and finished \(finished) deliveries in \(ContinuousClock.now - start)")

    func time(_ label: String, _ body: () async throws -> Int) async throws {
        var samples: [Double] = []
        var count = 0
        for _ in 0..<15 {
            let began = ContinuousClock.now
            count = try await body()
            let elapsed = ContinuousClock.now - began
            samples.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
        }
        samples.sort()
        let median = samples[samples.count / 2]
        let figures = String(format: "median %7.2f ms   max %7.2f ms", median, samples.last!)
        print("\(label.padding(toLength: 48, withPad: " ", startingAt: 0)) \(figures)   (\(count) rows)")
    }
    let newest = try await store.searchEvents(EventQuery(limit: 50))
    var cursor = newest.nextCursor
    for _ in 0..<200 { cursor = try await store.searchEvents(EventQuery(cursor: cursor, limit: 250)).nextCursor }
    let deep = cursor
    let now = WallClock.system.now()
    try await time("events, newest 50") { try await store.searchEvents(EventQuery(limit: 50)).records.count }
    try await time("events, page 50 at half depth (cursor)") { try await store.searchEvents(EventQuery(cursor: deep, limit: 50)).records.count }
    try await time("events, type=employee.created") { try await store.searchEvents(EventQuery(type: "employee.created", limit: 50)).records.count }
    try await time("events, source=auth0") { try await store.searchEvents(EventQuery(source: "auth0", limit: 50)).records.count }
    try await time("events, state=dead") { try await store.searchEvents(EventQuery(state: .dead, limit: 50)).records.count }
    try await time("events, state=pending") { try await store.searchEvents(EventQuery(state: .pending, limit: 50)).records.count }
    try await time("events, state=done handler=provision") {
        try await store.searchEvents(EventQuery(state: .done, handler: "provision", limit: 50)).records.count
    }
    try await time("events, handler=provision") { try await store.searchEvents(EventQuery(handler: "provision", limit: 50)).records.count }
    try await time("events, last 10 minutes") {
        try await store.searchEvents(EventQuery(receivedFrom: now.adding(seconds: -600), limit: 50)).records.count
    }
    try await time("events, search employee id") { try await store.searchEvents(EventQuery(search: "E\(total / 2)", limit: 50)).records.count }
    try await time("events, search email") { try await store.searchEvents(EventQuery(search: "e\(total / 4 * 2)@example.com", limit: 50)).records.count }
    try await time("events, search event id") { try await store.searchEvents(EventQuery(search: "login_\(total / 3 | 1)", limit: 50)).records.count }
    try await time("events, source=nothing (no match: full scan)") { try await store.searchEvents(EventQuery(source: "nothing", limit: 50)).records.count }
    try await time("event detail with attempts") { try await store.eventRecord(id: "evt_\(total / 2)")?.deliveries.count ?? 0 }
    try await time("handler counts") { try await store.handlerCounts().count }
    try await time("activity, last hour per minute") { try await store.activity(since: now.adding(seconds: -3600), bucketSeconds: 60).count }
    try await time("dead-letter groups") { try await store.deadLetterGroups(limit: 100).count }
}
