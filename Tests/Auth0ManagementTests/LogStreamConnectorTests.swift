import Foundation
import Auth0Management
import InletCore
import InletHTTPClient
import Testing

/// `inlet auth0 connect` against the fake tenant's log streams: created once, updated
/// (with a fresh token) on the next run, the token printed once per run.
@Suite(.timeLimit(.minutes(2))) struct LogStreamConnectorTests {
    @Test func createsTheStreamOnceAndUpdatesItOnTheNextRun() async throws {
        try await withTenant { tenant, http in
            let client = try makeClient(tenant, http: http)
            let connector = LogStreamConnector(client: client)
            let first = try await connector.connect(inletURL: "https://inlet.example/")
            #expect(first.created && first.stream.name == "Inlet inlet.example")
            #expect(first.endpoint == "https://inlet.example/hooks/auth0-logs")
            var streams = tenant.logStreams
            #expect(streams.count == 1)
            let sink = try #require(streams.first?["sink"])
            #expect(streams.first?["type"] == "http")
            #expect(sink["httpEndpoint"] == "https://inlet.example/hooks/auth0-logs")
            #expect(sink["httpAuthorization"]?.stringValue == "Bearer \(first.token.value)")
            #expect(sink["httpContentFormat"] == "JSONLINES" && sink["httpContentType"] == "application/json")
            #expect(first.token.value.count == 64)

            let second = try await connector.connect(inletURL: "https://inlet.example")
            #expect(!second.created && second.stream.id == first.stream.id)
            #expect(second.token.value != first.token.value)
            streams = tenant.logStreams
            #expect(streams.count == 1)
            #expect(streams.first?["sink"]?["httpAuthorization"]?.stringValue == "Bearer \(second.token.value)")
            #expect(tenant.requests("POST", "/api/v2/log-streams").count == 1)
            #expect(tenant.requests("PATCH", "/api/v2/log-streams/").count == 1)

            // Another Inlet (another URL) gets a stream of its own.
            let other = try await connector.connect(inletURL: "https://inlet-2.example")
            #expect(other.created && tenant.logStreams.count == 2)
        }
    }

    @Test func theReportShowsTheTokenOnceAndNothingElseSecret() async throws {
        try await withTenant { tenant, http in
            let client = try makeClient(tenant, http: http)
            for _ in 0..<2 {
                let result = try await LogStreamConnector(client: client).connect(inletURL: "https://inlet.example")
                let report = LogStreamConnector.report(result)
                #expect(report.components(separatedBy: result.token.value).count == 2)
                #expect(report.contains("AUTH0_LOG_STREAM_TOKEN=\(result.token.value)"))
                #expect(!report.contains(FakeTenant.clientSecret))
                #expect(!report.contains("fake-token"))
            }
        }
    }

    @Test func aURLThatAuth0CannotSendToIsRefusedBeforeAnyCall() async throws {
        try await withTenant { tenant, http in
            let connector = LogStreamConnector(client: try makeClient(tenant, http: http))
            for url in ["http://inlet.example", "inlet.example", "https://inlet.example/?x=1"] {
                await #expect(throws: ConfigurationError.self) { _ = try await connector.connect(inletURL: url) }
            }
            #expect(tenant.apiRequests.isEmpty)
        }
    }
}
