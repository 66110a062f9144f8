/// Why an access token was refused.
///
/// The message is written for the caller and is safe to put in a response body and in a
/// `WWW-Authenticate` `error_description`: it is plain ASCII without quotes or
/// backslashes, and it never echoes the token, its header values or its claims (an
/// attacker controls those). `isUnavailable` tells "we could not get signing keys" (a 503:
/// the token may be fine) apart from every other refusal (a 401).
///
/// ```swift
/// do { let claims = try await verifier.verify(token) }
/// catch let error as JWTError where error.isUnavailable { /* 503, retry later */ }
/// catch let error as JWTError { /* 401 invalid_token: error.message */ }
/// ```
public struct JWTError: Error, CustomStringConvertible, Sendable, Equatable {
    private enum Kind: Sendable, Equatable {
        case malformed
        case tooLarge
        case algorithm
        case unknownKey
        case signature
        case expired
        case notYetValid
        case issuer
        case audience
        case claim
        case keysUnavailable
    }

    private let kind: Kind
    /// Human text; never includes any part of the token.
    public let message: String

    private init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { self.message }

    /// The token is not a compact JWS of three strict base64url parts holding JSON objects.
    public static func malformed(_ message: String) -> JWTError { .init(.malformed, message) }
    /// The token is longer than the verifier accepts.
    public static func tooLarge(limit: Int) -> JWTError { .init(.tooLarge, "the token is longer than \(limit) bytes") }
    /// The header's `alg` is not allowed, or is not the algorithm bound to the key.
    public static func algorithm(_ message: String) -> JWTError { .init(.algorithm, message) }
    /// No signing key with the token's `kid` (after the allowed refetch).
    public static let unknownKey = JWTError(.unknownKey, "the token was signed with an unknown key")
    /// The signature does not verify under the key.
    public static let badSignature = JWTError(.signature, "the token signature is invalid")
    /// `exp` has passed (beyond the leeway).
    public static let expired = JWTError(.expired, "the token has expired")
    /// `nbf` has not come yet (beyond the leeway).
    public static let notYetValid = JWTError(.notYetValid, "the token is not valid yet")
    /// `iss` is not exactly the tenant's issuer.
    public static let wrongIssuer = JWTError(.issuer, "the token was issued by another issuer")
    /// `aud` does not name the API.
    public static let wrongAudience = JWTError(.audience, "the token is not meant for this API")
    /// A required claim is missing or has the wrong type.
    public static func claim(_ message: String) -> JWTError { .init(.claim, message) }
    /// No signing keys could be fetched yet; the token was not judged.
    public static func keysUnavailable(_ message: String) -> JWTError { .init(.keysUnavailable, message) }

    /// True when the refusal is ours (no keys), not the token's: answer 503, not 401.
    public var isUnavailable: Bool { self.kind == .keysUnavailable }
    public var isExpired: Bool { self.kind == .expired }
    public var isNotYetValid: Bool { self.kind == .notYetValid }
    public var isMalformed: Bool { self.kind == .malformed || self.kind == .tooLarge }
    public var isTooLarge: Bool { self.kind == .tooLarge }
    public var isAlgorithmRefused: Bool { self.kind == .algorithm }
    public var isUnknownKey: Bool { self.kind == .unknownKey }
    public var isBadSignature: Bool { self.kind == .signature }
    public var isWrongIssuer: Bool { self.kind == .issuer }
    public var isWrongAudience: Bool { self.kind == .audience }
    public var isClaimError: Bool { self.kind == .claim }
}
