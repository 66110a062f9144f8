import AccessTokens
import InletHTTPClient
import Foundation
import InletCore
import InletTestSupport
import Testing

/// JWT verification against keys made in the test with libcrypto; time from a test clock.
@Suite struct JWTVerifierTests {
    let key = TestRSAKey.primary
    let clock = TestClock(seconds: TestTenant.now)

    func verifier(options: JWTVerifier.Options = TestTenant.options, keys: [TestRSAKey] = [TestRSAKey.primary], memoLimit: Int = 1024) throws -> JWTVerifier {
        let published = try keys.map { try JWTPublicKey(modulus: $0.modulus, exponent: $0.exponent, keyID: $0.kid) }
        return JWTVerifier(options: options, keys: StaticJWTKeys(published), clock: self.clock.clock, memoLimit: memoLimit)
    }

    /// A token of the primary key with `overrides` applied to the standard claims.
    func token(_ overrides: [(String, JSONValue)] = []) -> String {
        self.key.token(TestTenant.claims(overrides))
    }

    // MARK: Valid tokens

    @Test func validTokenGivesItsClaims() async throws {
        let claims = try await self.verifier().verify(self.token([("permissions", ["read:profile", "sync:self"])]))
        #expect(claims.subject == "auth0|6745a1f0c2d94e0012ab34cd")
        #expect(claims.issuer == TestTenant.issuer)
        #expect(claims.audiences == [TestTenant.audience])
        #expect(claims.expiresAt == Double(TestTenant.now + 3600))
        #expect(claims.issuedAt == Double(TestTenant.now - 60))
        #expect(claims.scope == "openid profile email")
        #expect(claims.permissions == ["read:profile", "sync:self"])
        #expect(claims.authorizedParty == "kQ1bQ3e8h2VtHc9sP4xY7zW0aN6mR5uT")
        #expect(claims.keyID == "test-key-1")
        #expect(claims.algorithm == .rs256)
        #expect(claims.all["azp"] == "kQ1bQ3e8h2VtHc9sP4xY7zW0aN6mR5uT")
    }

    @Test func audienceMayBeAnArrayThatContainsTheAPI() async throws {
        let verifier = try self.verifier()
        let both = self.token([("aud", JSONValue.array([.string(TestTenant.audience), .string("https://\(TestTenant.domain)/userinfo")]))])
        #expect(try await verifier.verify(both).audiences == [TestTenant.audience, "https://\(TestTenant.domain)/userinfo"])
        let other = self.token([("aud", [.string("https://\(TestTenant.domain)/userinfo"), "https://api.other.example"])])
        #expect(await expectJWTError { try await verifier.verify(other) }?.isWrongAudience == true)
        let empty = self.token([("aud", [])])
        #expect(await expectJWTError { try await verifier.verify(empty) }?.isWrongAudience == true)
    }

    @Test func typMayBeJWTOrAtJWTAndNumericDatesMayBeFractional() async throws {
        let verifier = try self.verifier()
        for typ in ["JWT", "at+jwt", "at+JWT"] {
            let token = self.key.token(TestTenant.claims(), header: ["alg": "RS256", "typ": .string(typ), "kid": "test-key-1"])
            #expect(try await verifier.verify(token).subject.hasPrefix("auth0|"), "typ \(typ)")
        }
        let untyped = self.key.token(TestTenant.claims(), header: ["alg": "RS256", "kid": "test-key-1"])
        _ = try await verifier.verify(untyped)
        let fractional = self.token([("exp", .double(Double(TestTenant.now) + 0.5))])
        #expect(try await verifier.verify(fractional).expiresAt == Double(TestTenant.now) + 0.5)
    }

    // MARK: Time

    @Test func expiredTokenIsRefused() async throws {
        let error = await expectJWTError { try await self.verifier().verify(self.token([("exp", .int(Int(TestTenant.now) - 60))])) }
        #expect(error?.isExpired == true)
        #expect(error?.message == "the token has expired")
    }

    @Test func notYetValidTokenIsRefused() async throws {
        let error = await expectJWTError { try await self.verifier().verify(self.token([("nbf", .int(Int(TestTenant.now) + 60))])) }
        #expect(error?.isNotYetValid == true)
    }

    @Test func leewayIsFiveSecondsByDefaultAndEndsExactlyAtItsEdge() async throws {
        let verifier = try self.verifier()
        let now = Int(TestTenant.now)
        // exp: valid while now < exp + leeway.
        _ = try await verifier.verify(self.token([("exp", .int(now - 4))]))
        #expect(await expectJWTError { try await verifier.verify(self.token([("exp", .int(now - 5))])) }?.isExpired == true)
        // nbf: valid once now + leeway >= nbf.
        _ = try await verifier.verify(self.token([("nbf", .int(now + 5))]))
        #expect(await expectJWTError { try await verifier.verify(self.token([("nbf", .int(now + 6))])) }?.isNotYetValid == true)
        // One millisecond either side of the exp edge.
        self.clock.set(seconds: Double(now) - 0.001)
        _ = try await verifier.verify(self.token([("exp", .int(now - 5))]))
    }

    @Test func leewayIsConfigurable() async throws {
        let now = Int(TestTenant.now)
        let strict = try self.verifier(options: .auth0(domain: TestTenant.domain, audience: TestTenant.audience, leeway: 0))
        #expect(await expectJWTError { try await strict.verify(self.token([("exp", .int(now))])) }?.isExpired == true)
        _ = try await strict.verify(self.token([("exp", .int(now + 1))]))
        let lenient = try self.verifier(options: .auth0(domain: TestTenant.domain, audience: TestTenant.audience, leeway: 60))
        _ = try await lenient.verify(self.token([("exp", .int(now - 59))]))
    }

    @Test func rememberedTokenIsStillCheckedForExpiryAndSignatureOnEveryCall() async throws {
        let verifier = try self.verifier()
        let token = self.token([("exp", .int(Int(TestTenant.now) + 10))])
        _ = try await verifier.verify(token)
        _ = try await verifier.verify(token)
        self.clock.advance(seconds: 15)
        #expect(await expectJWTError { try await verifier.verify(token) }?.isExpired == true)
        self.clock.set(seconds: Double(TestTenant.now))
        // Same header and payload, another signature: the remembered payload does not help it.
        let parts = token.split(separator: ".")
        let forged = "\(parts[0]).\(parts[1]).\(Base64.url.encode(TestRSAKey.rotated.sign(Array("\(parts[0]).\(parts[1])".utf8))))"
        #expect(await expectJWTError { try await verifier.verify(forged) }?.isBadSignature == true)
    }

    // MARK: Issuer, audience, subject

    @Test func issuerMustMatchExactlyWithItsTrailingSlash() async throws {
        let verifier = try self.verifier()
        for issuer in ["https://\(TestTenant.domain)", "http://\(TestTenant.domain)/", "https://\(TestTenant.domain)//", "https://evil.example/"] {
            let error = await expectJWTError { try await verifier.verify(self.token([("iss", .string(issuer))])) }
            #expect(error?.isWrongIssuer == true, "iss \(issuer)")
        }
        #expect(await expectJWTError { try await verifier.verify(self.token([("iss", .null)])) }?.isWrongIssuer == true)
    }

    @Test func wrongAudienceIsRefused() async throws {
        let verifier = try self.verifier()
        for audience in ["https://api.other.example", "https://api.inlet.example/", ""] {
            let error = await expectJWTError { try await verifier.verify(self.token([("aud", .string(audience))])) }
            #expect(error?.isWrongAudience == true, "aud \(audience)")
        }
        #expect(await expectJWTError { try await verifier.verify(self.token([("aud", .null)])) }?.isWrongAudience == true)
    }

    @Test func requiredClaimsMustBePresentAndTyped() async throws {
        let verifier = try self.verifier()
        let cases: [[(String, JSONValue)]] = [
            [("exp", .null)], [("exp", "tomorrow")], [("exp", true)], [("nbf", "now")], [("sub", .null)], [("sub", "")], [("sub", 42)],
            [("aud", [.string(TestTenant.audience), 7])],
        ]
        for overrides in cases {
            let error = await expectJWTError { try await verifier.verify(self.token(overrides)) }
            #expect(error?.isClaimError == true, "\(overrides)")
        }
    }

    // MARK: Algorithms

    @Test func unsignedTokensAreRefused() async throws {
        let verifier = try self.verifier()
        let header = Base64.url.encode(#"{"alg":"none","typ":"JWT","kid":"test-key-1"}"#)
        let payload = Base64.url.encode(TestTenant.claims().serialized())
        for token in ["\(header).\(payload).", "\(header).\(payload).\(Base64.url.encode([1, 2, 3]))"] {
            let error = await expectJWTError { try await verifier.verify(token) }
            #expect(error?.isAlgorithmRefused == true || error?.isMalformed == true, "\(error?.message ?? "-")")
        }
        let signed = "\(header).\(payload).\(Base64.url.encode([1, 2, 3]))"
        #expect(await expectJWTError { try await verifier.verify(signed) }?.message == "unsigned tokens (alg none) are not accepted")
        let noneUpper = Base64.url.encode(#"{"alg":"None","kid":"test-key-1"}"#) + ".\(payload).AAAA"
        #expect(await expectJWTError { try await verifier.verify(noneUpper) }?.isAlgorithmRefused == true)
    }

    @Test func hs256SignedWithThePublicKeyIsRefused() async throws {
        // The key-confusion attack: HMAC with the RSA public key as the secret.
        let verifier = try self.verifier()
        let payload = Base64.url.encode(TestTenant.claims().serialized())
        let secrets: [[UInt8]] = [Array(self.key.publicKeyPEM.utf8), self.key.publicKeyDER, self.key.modulus]
        for alg in ["HS256", "HS384", "HS512"] {
            for secret in secrets {
                let header = Base64.url.encode(#"{"alg":"\#(alg)","typ":"JWT","kid":"test-key-1"}"#)
                let input = Array("\(header).\(payload)".utf8)
                let mac = input.withUnsafeBytes { Crypto.hmacSHA256(key: secret, message: $0) }
                let token = "\(header).\(payload).\(Base64.url.encode(mac))"
                let error = await expectJWTError { try await verifier.verify(token) }
                #expect(error?.isAlgorithmRefused == true, "\(alg)")
            }
        }
    }

    @Test func headerAlgorithmMustBeTheKeysAlgorithm() async throws {
        let claims = TestTenant.claims()
        let rs512 = self.key.token(claims, header: ["alg": "RS512", "typ": "JWT", "kid": "test-key-1"], digest: "SHA512")
        // Not on the allow-list (RS256 only, Auth0's default).
        let error = await expectJWTError { try await self.verifier().verify(rs512) }
        #expect(error?.isAlgorithmRefused == true)
        #expect(error?.message == "the token algorithm is not allowed")
        // On the allow-list, but the key is bound to RS256: the header does not choose.
        var options = TestTenant.options
        options.allowedAlgorithms = [.rs256, .rs512]
        let mismatch = await expectJWTError { try await self.verifier(options: options).verify(rs512) }
        #expect(mismatch?.isAlgorithmRefused == true)
        #expect(mismatch?.message == "the token algorithm does not match its signing key")
        // RS512 verifies when the key is bound to RS512.
        let bound = try JWTPublicKey(modulus: self.key.modulus, exponent: self.key.exponent, keyID: "test-key-1", algorithm: .rs512)
        let verifier = JWTVerifier(options: options, keys: StaticJWTKeys([bound]), clock: self.clock.clock)
        _ = try await verifier.verify(rs512)
        #expect(await expectJWTError { try await verifier.verify(self.token()) }?.isAlgorithmRefused == true)
    }

    @Test func signatureFromAnotherKeyOrTamperedPayloadIsRefused() async throws {
        let verifier = try self.verifier(keys: [TestRSAKey.primary, TestRSAKey.rotated])
        // Signed by the rotated key but naming the primary one.
        let impostor = TestRSAKey.rotated.token(TestTenant.claims(), header: ["alg": "RS256", "kid": "test-key-1"])
        #expect(await expectJWTError { try await verifier.verify(impostor) }?.isBadSignature == true)
        // A payload swapped under a valid signature.
        let parts = self.token().split(separator: ".")
        let swapped = "\(parts[0]).\(Base64.url.encode(TestTenant.claims([("sub", "auth0|someone-else")]).serialized())).\(parts[2])"
        #expect(await expectJWTError { try await verifier.verify(swapped) }?.isBadSignature == true)
        // A truncated signature.
        let truncated = "\(parts[0]).\(parts[1]).\(Base64.url.encode(Base64.url.decode(parts[2].utf8)!.dropLast(3)))"
        let error = await expectJWTError { try await verifier.verify(truncated) }
        #expect(error?.isBadSignature == true)
    }

    @Test func unknownKidIsRefused() async throws {
        let token = TestRSAKey.rotated.token(TestTenant.claims())
        #expect(await expectJWTError { try await self.verifier().verify(token) }?.isUnknownKey == true)
        let noKid = self.key.token(TestTenant.claims(), header: ["alg": "RS256", "typ": "JWT"])
        #expect(await expectJWTError { try await self.verifier().verify(noKid) }?.isMalformed == true)
    }

    // MARK: Malformed tokens

    @Test func malformedBase64IsRefused() async throws {
        let verifier = try self.verifier()
        let valid = self.token()
        let parts = valid.split(separator: ".").map(String.init)
        var broken: [String] = [
            "\(parts[0])=.\(parts[1]).\(parts[2])",                         // padding
            "\(parts[0]).\(parts[1]).\(parts[2])==",
            "\(parts[0]).\(parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/"))+/.\(parts[2])",
            "\(parts[0]).\(parts[1]) .\(parts[2])",                         // whitespace
            "\(parts[0]).\(parts[1]).\(parts[2].prefix(10))\n\(parts[2].dropFirst(10))",
            "\(parts[0]).\(parts[1])\(parts[1].utf8.count % 4 == 0 ? "A" : parts[1].utf8.count % 4 == 2 ? "AAA" : "AA").\(parts[2])", // length 4k+1
            "\(parts[0]).\(parts[1]).\(parts[2])%",
            "\(parts[0]).\(parts[1])",                                      // two parts
            "\(parts[0]).\(parts[1]).\(parts[2]).\(parts[2])",              // four parts (JWE has five)
            "..",
            ".\(parts[1]).\(parts[2])",
            "\(parts[0])..\(parts[2])",
            "",
            "not a token",
        ]
        // A last symbol with non-zero unused bits: same bytes, another spelling.
        let last = parts[2].last!
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        if parts[2].utf8.count % 4 != 0, let index = table.firstIndex(of: last) {
            broken.append("\(parts[0]).\(parts[1]).\(parts[2].dropLast())\(table[index | 1])")
        }
        for token in broken {
            let error = await expectJWTError { try await verifier.verify(token) }
            #expect(error?.isMalformed == true, "\(token.prefix(40))... -> \(error?.message ?? "-")")
        }
    }

    @Test func malformedJSONIsRefused() async throws {
        let verifier = try self.verifier()
        let payload = Base64.url.encode(TestTenant.claims().serialized())
        let headers = [#"{"alg":"RS256","kid":"test-key-1""#, #"["RS256"]"#, "RS256", #"{"alg":"RS256","alg":"RS256","kid":"test-key-1"}"#, "\u{0}"]
        for header in headers {
            let token = "\(Base64.url.encode(header)).\(payload).AAAA"
            let error = await expectJWTError { try await verifier.verify(token) }
            #expect(error?.isMalformed == true, "\(header)")
            #expect(error?.message.contains("RS256") == false)
        }
        // A correctly signed payload that is not a JSON object.
        for body in ["[1,2]", "{\"sub\":", "\"auth0|x\""] {
            let header = Base64.url.encode(#"{"alg":"RS256","kid":"test-key-1"}"#)
            let input = "\(header).\(Base64.url.encode(body))"
            let token = "\(input).\(Base64.url.encode(self.key.sign(Array(input.utf8))))"
            let error = await expectJWTError { try await verifier.verify(token) }
            #expect(error?.isMalformed == true, "\(body)")
        }
        // typ other than JWT / at+jwt, and critical extensions.
        for header: JSONValue in [
            ["alg": "RS256", "typ": "JOSE+JSON", "kid": "test-key-1"],
            ["alg": "RS256", "kid": "test-key-1", "crit": ["exp"], "exp": 1],
        ] {
            let error = await expectJWTError { try await verifier.verify(self.key.token(TestTenant.claims(), header: header)) }
            #expect(error?.isMalformed == true)
        }
    }

    @Test func tenThousandCharacterTokenIsRefusedBeforeParsing() async throws {
        let verifier = try self.verifier()
        let huge = self.token([("pad", .string(String(repeating: "x", count: 7_000)))])
        #expect(huge.utf8.count > 9_000)
        let error = await expectJWTError { try await verifier.verify(String(huge.prefix(10_000))) }
        #expect(error?.isTooLarge == true)
        #expect(await expectJWTError { try await verifier.verify(String(repeating: "A", count: 10_000)) }?.isTooLarge == true)
        // Within the bound, a large but valid token verifies.
        _ = try await verifier.verify(self.token([("pad", .string(String(repeating: "x", count: 4_000)))]))
    }

    @Test func errorMessagesNeverEchoTheToken() async throws {
        let verifier = try self.verifier()
        let marker = "SECRETMARKER"
        let tokens = [
            self.token([("iss", .string(marker))]), self.token([("aud", .string(marker))]),
            self.key.token(TestTenant.claims(), header: ["alg": .string(marker), "kid": "test-key-1"]),
            self.key.token(TestTenant.claims(), header: ["alg": "RS256", "kid": .string(marker)]),
            self.key.token(TestTenant.claims(), header: ["alg": "RS256", "typ": .string(marker), "kid": "test-key-1"]),
        ]
        for token in tokens {
            let error = await expectJWTError { try await verifier.verify(token) }
            #expect(error?.message.contains(marker) == false)
            #expect(error?.message.contains("\"") == false)
        }
    }
}
