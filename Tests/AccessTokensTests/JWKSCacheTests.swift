import AccessTokens
import InletHTTPClient
import Foundation
import InletCore
import InletTestSupport
import Logging
import ServiceLifecycle
import Testing

/// Reading JWKS documents: which keys are kept and which are skipped.
@Suite struct JWKSParsingTests {
    let key = TestRSAKey.primary

    @Test func keepsSigningKeysFromNAndEOrFromX5c() throws {
        let set = try JWKSet.parse(TestRSAKey.jwks([
            self.key.jwk(),
            TestRSAKey.rotated.jwk(alg: nil, use: nil, withNE: false, x5c: true),
        ]))
        #expect(Set(set.keys.keys) == ["test-key-1", "test-key-2"])
        #expect(set.keys["test-key-1"]?.algorithm == .rs256)
        #expect(set.keys["test-key-2"]?.algorithm == .rs256)
        #expect(set.keys["test-key-1"]?.bits == 2048)
        // The x5c key verifies what the private key signs.
        let input = Array("header.payload".utf8)
        #expect(set.keys["test-key-2"]?.verify(signature: TestRSAKey.rotated.sign(input), signingInput: input) == true)
        #expect(set.keys["test-key-1"]?.verify(signature: TestRSAKey.rotated.sign(input), signingInput: input) == false)
        #expect(set.ignored.isEmpty)
    }

    @Test func keyWithBothNEAndX5cMustHoldOneKey() throws {
        let same = try JWKSet.parse(TestRSAKey.jwks([self.key.jwk(x5c: true)]))
        #expect(same.keys["test-key-1"] != nil)
        // n/e of one key, the certificate of another: skipped.
        guard case .object(var members) = self.key.jwk() else { Issue.record("not an object"); return }
        members.append(("x5c", [.string(Base64.standard.encode(TestRSAKey.rotated.certificateDER))]))
        let mixed = try JWKSet.parse(TestRSAKey.jwks([.object(members), TestRSAKey.rotated.jwk()]))
        #expect(Array(mixed.keys.keys) == ["test-key-2"])
        #expect(mixed.ignored.first?.contains("different keys") == true)
    }

    @Test func skipsKeysThatAreNotRS256SigningKeys() throws {
        let set = try JWKSet.parse(TestRSAKey.jwks([
            self.key.jwk(use: "enc", kid: "encryption"),
            self.key.jwk(alg: "RS512", kid: "rs512"),
            self.key.jwk(alg: "HS256", kid: "hmac"),
            ["kty": "EC", "use": "sig", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"],
            ["kty": "oct", "kid": "oct", "k": "c2VjcmV0"],
            self.key.jwk(kid: ""),
            self.key.jwk(withNE: false),
            ["kty": "RSA", "kid": "bad-n", "n": "not base64url!", "e": "AQAB"],
            ["kty": "RSA", "kid": "even-e", "n": .string(Base64.url.encode(self.key.modulus)), "e": "Ag"],
            "not an object",
            TestRSAKey.rotated.jwk(),
        ]))
        #expect(Array(set.keys.keys) == ["test-key-2"])
        #expect(set.ignored.count == 10)
        // RS512 is kept when allowed.
        let wider = try JWKSet.parse(TestRSAKey.jwks([self.key.jwk(alg: "RS512", kid: "rs512")]), allowedAlgorithms: [.rs256, .rs512])
        #expect(wider.keys["rs512"]?.algorithm == .rs512)
    }

    @Test func refusesWeakKeysAndDocumentsWithoutUsableKeys() throws {
        let weak = TestRSAKey(bits: 1024, kid: "weak")
        #expect(throws: JWKSError.self) { try JWKSet.parse(TestRSAKey.jwks([weak.jwk()])) }
        do {
            _ = try JWKSet.parse(TestRSAKey.jwks([weak.jwk()]))
        } catch {
            #expect(error.message.contains("1024 bits"))
        }
        #expect(throws: JWKSError.self) { try JWKSet.parse(Array("not json".utf8)) }
        #expect(throws: JWKSError.self) { try JWKSet.parse(Array(#"{"keys": {}}"#.utf8)) }
        #expect(throws: JWKSError.self) { try JWKSet.parse(Array(#"{"keys": []}"#.utf8)) }
        #expect(throws: JWKSError.self) { try JWKSet.parse(Array("[]".utf8)) }
    }
}

/// The JWKS cache against a loopback JWKS endpoint; time from a test clock.
@Suite(.timeLimit(.minutes(1))) struct JWKSCacheTests {
    let clock = TestClock(seconds: TestTenant.now)

    func withCache<T>(
        _ answer: JWKSTestServer.Answer,
        options: (inout JWKSCache.Options) -> Void = { _ in },
        _ body: (JWKSTestServer, JWKSCache, JWTVerifier) async throws -> T
    ) async throws -> T {
        let server = try await JWKSTestServer.start(answer)
        let client = OutboundClient()
        var cacheOptions = JWKSCache.Options(url: server.url)
        options(&cacheOptions)
        let cache = JWKSCache(options: cacheOptions, client: client, clock: self.clock.clock, logger: jwtTestLogger)
        let verifier = JWTVerifier(options: TestTenant.options, keys: cache, clock: self.clock.clock)
        do {
            let result = try await body(server, cache, verifier)
            await client.shutdown()
            await server.stop()
            return result
        } catch {
            await client.shutdown()
            await server.stop()
            throw error
        }
    }

    static let primaryOnly = JWKSTestServer.Answer.jwks(TestRSAKey.jwks([TestRSAKey.primary.jwk()]))
    static let both = JWKSTestServer.Answer.jwks(TestRSAKey.jwks([TestRSAKey.primary.jwk(), TestRSAKey.rotated.jwk()]))

    @Test func firstUseFetchesTheKeysAndLaterUsesDoNot() async throws {
        try await self.withCache(Self.primaryOnly) { server, cache, verifier in
            let token = TestRSAKey.primary.token(TestTenant.claims())
            #expect(try await verifier.verify(token).subject == "auth0|6745a1f0c2d94e0012ab34cd")
            for _ in 0..<5 { _ = try await verifier.verify(token) }
            #expect(server.requests == 1)
            #expect(cache.keyIDs == ["test-key-1"])
            #expect(cache.fetchedAt == self.clock.clock.now())
        }
    }

    @Test func unknownKidRefetchesOncePerCooldownThenSeesTheRotatedKey() async throws {
        try await self.withCache(Self.primaryOnly) { server, cache, verifier in
            _ = try await verifier.verify(TestRSAKey.primary.token(TestTenant.claims()))
            #expect(server.requests == 1)
            let rotated = TestRSAKey.rotated.token(TestTenant.claims())

            // Auth0 rotates: the new key is published. Within the cooldown of the last
            // fetch, an unknown kid is refused without asking again.
            server.answer(Self.both)
            self.clock.advance(seconds: 10)
            #expect(await expectJWTError { try await verifier.verify(rotated) }?.isUnknownKey == true)
            #expect(server.requests == 1)

            // After the cooldown, one refetch finds it.
            self.clock.advance(seconds: 21)
            #expect(try await verifier.verify(rotated).keyID == "test-key-2")
            #expect(server.requests == 2)
            #expect(cache.keyIDs == ["test-key-1", "test-key-2"])

            // A made-up kid right after: refused, no refetch storm.
            let madeUp = TestRSAKey.rotated.token(TestTenant.claims(), header: ["alg": "RS256", "kid": "made-up"])
            for _ in 0..<10 {
                #expect(await expectJWTError { try await verifier.verify(madeUp) }?.isUnknownKey == true)
            }
            #expect(server.requests == 2)
        }
    }

    @Test func concurrentUnknownKidsShareOneFetch() async throws {
        try await self.withCache(Self.primaryOnly) { server, cache, verifier in
            let tokens = (0..<20).map { TestRSAKey.primary.token(TestTenant.claims(), header: ["alg": "RS256", "kid": .string("kid-\($0)")]) }
            await withTaskGroup(of: Void.self) { group in
                for token in tokens {
                    group.addTask { _ = try? await verifier.verify(token) }
                }
            }
            #expect(server.requests == 1)
            #expect(cache.fetchCount == 1)
        }
    }

    @Test func endpointDownKeepsServingTheLastGoodKeys() async throws {
        try await self.withCache(Self.primaryOnly) { server, cache, verifier in
            let token = TestRSAKey.primary.token(TestTenant.claims([("exp", .int(Int(TestTenant.now) + 7200))]))
            _ = try await verifier.verify(token)
            server.answer(.status(503))
            self.clock.advance(seconds: 700)  // past maxAge (600 s)
            // The refresher's fetch fails...
            guard case .failed(let error) = await cache.refresh() else {
                Issue.record("expected the refresh to fail")
                return
            }
            #expect(error.description.contains("503"))
            #expect(cache.lastError != nil)
            // ...and the cached key still serves, stale or not.
            #expect(try await verifier.verify(token).keyID == "test-key-1")
            #expect(cache.keyIDs == ["test-key-1"])

            // Connection refused is the same story.
            await server.stop()
            self.clock.advance(seconds: 60)
            guard case .failed = await cache.refresh() else {
                Issue.record("expected the refresh to fail")
                return
            }
            _ = try await verifier.verify(token)
            // An unknown kid cannot be fetched either: refused, not "unavailable" (keys exist).
            let rotated = TestRSAKey.rotated.token(TestTenant.claims([("exp", .int(Int(TestTenant.now) + 7200))]))
            #expect(await expectJWTError { try await verifier.verify(rotated) }?.isUnknownKey == true)
        }
    }

    @Test func noKeysEverFetchedIsUnavailableNotInvalid() async throws {
        try await self.withCache(.status(500)) { server, cache, verifier in
            let error = await expectJWTError { try await verifier.verify(TestRSAKey.primary.token(TestTenant.claims())) }
            #expect(error?.isUnavailable == true)
            #expect(server.requests == 1)
            // Within the cooldown no second fetch; after it, one, and then the keys serve.
            _ = await expectJWTError { try await verifier.verify(TestRSAKey.primary.token(TestTenant.claims())) }
            #expect(server.requests == 1)
            server.answer(Self.primaryOnly)
            self.clock.advance(seconds: 30)
            _ = try await verifier.verify(TestRSAKey.primary.token(TestTenant.claims()))
            #expect(server.requests == 2)
            #expect(cache.lastError == nil)
        }
    }

    @Test func staleKeysAreRefreshedInTheBackground() async throws {
        try await self.withCache(Self.primaryOnly) { server, cache, verifier in
            let token = TestRSAKey.primary.token(TestTenant.claims([("exp", .int(Int(TestTenant.now) + 7200))]))
            _ = try await verifier.verify(token)
            server.answer(Self.both)
            self.clock.advance(seconds: 601)
            // Served at once from the stale set; a refetch starts behind it.
            _ = try await verifier.verify(token)
            try await eventually("the background refresh") { cache.keyIDs.count == 2 }
            #expect(server.requests == 2)
        }
    }

    @Test func fetchHasATimeout() async throws {
        try await self.withCache(.hang, options: { $0.fetchTimeout = 0.3 }) { _, cache, verifier in
            let started = ContinuousClock.now
            let error = await expectJWTError { try await verifier.verify(TestRSAKey.primary.token(TestTenant.claims())) }
            #expect(error?.isUnavailable == true)
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(cache.lastError?.description.lowercased().contains("time") == true)
        }
    }

    @Test func refresherFetchesAtStartAndStopsOnShutdown() async throws {
        try await self.withCache(Self.primaryOnly) { server, cache, _ in
            let refresher = JWKSRefresher(cache: cache)
            let group = ServiceGroup(configuration: .init(services: [refresher], logger: jwtTestLogger))
            let running = Task { try await group.run() }
            try await eventually("the first fetch") { cache.keyIDs == ["test-key-1"] }
            #expect(server.requests == 1)
            await group.triggerGracefulShutdown()
            try await running.value
        }
    }
}
