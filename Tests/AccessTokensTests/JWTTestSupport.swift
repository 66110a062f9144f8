import AccessTokens
import InletHTTPClient
import InletCore
import Logging
import Testing

// MARK: - Token fixtures (the keys are `TestRSAKey`, in InletTestSupport)

/// Token fixtures for one tenant.
enum TestTenant {
    static let domain = "inlet-test.eu.auth0.com"
    static let issuer = "https://inlet-test.eu.auth0.com/"
    static let audience = "https://api.inlet.example"
    /// A fixed "now" (2026-03-01T00:00:00Z), so every time in a test is exact.
    static let now: Int64 = 1_772_323_200

    /// Auth0-shaped access-token claims valid at `now`; `overrides` replace or add members
    /// (a `.null` value removes one).
    static func claims(_ overrides: [(String, JSONValue)] = []) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("iss", .string(issuer)),
            ("sub", "auth0|6745a1f0c2d94e0012ab34cd"),
            ("aud", .string(audience)),
            ("iat", .int(Int(now) - 60)),
            ("exp", .int(Int(now) + 3600)),
            ("scope", "openid profile email"),
            ("azp", "kQ1bQ3e8h2VtHc9sP4xY7zW0aN6mR5uT"),
        ]
        for (key, value) in overrides {
            members.removeAll { $0.0 == key }
            if value != .null { members.append((key, value)) }
        }
        return .object(members)
    }

    static let options = JWTVerifier.Options.auth0(domain: domain, audience: audience)
}

let jwtTestLogger = Logger(label: "jwt-test", factory: { _ in SwiftLogNoOpLogHandler() })

/// Runs `body`, which must throw a ``JWTError``, and returns it.
func expectJWTError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> JWTClaims
) async -> JWTError? {
    do {
        let claims = try await body()
        Issue.record("expected a JWTError, the token verified (sub \(claims.subject))", sourceLocation: sourceLocation)
        return nil
    } catch let error as JWTError {
        return error
    } catch {
        Issue.record("expected a JWTError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
