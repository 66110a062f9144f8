import InletCore
import Testing

/// Strict base64url, as JWS needs it (the standard form is checked with the webhook tests).
@Suite struct Base64URLTests {
    @Test func roundTripsEveryLength() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 251) }
            let encoded = Base64.url.encode(bytes)
            #expect(!encoded.contains("=") && !encoded.contains("+") && !encoded.contains("/"))
            #expect(Base64.url.decode(encoded.utf8) == bytes, "length \(length)")
        }
        #expect(Base64.url.encode([0xfb, 0xff]) == "-_8")
        #expect(Base64.url.decode("-_8".utf8) == [0xfb, 0xff])
    }

    @Test func refusesEverythingButTheOneSpelling() {
        for text in ["-_8=", "+/8", "-_9", "A", "AAAAA", "AA AA", "AA\nA", "Zm9v\u{0}", "é"] {
            #expect(Base64.url.decode(text.utf8) == nil, "\(text)")
        }
    }
}
