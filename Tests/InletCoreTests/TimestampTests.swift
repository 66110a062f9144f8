import InletCore
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-11-20T10:00:00Z", "2026-11-20T10:00:00.000Z"),
        ("2026-11-20T04:05:00-06:00", "2026-11-20T10:05:00.000Z"),
        ("2026-11-20T11:00:00.5+01:00", "2026-11-20T10:00:00.500Z"),
        ("2026-11-20t10:00:00.123456z", "2026-11-20T10:00:00.123Z"),
        ("2026-11-20 10:00:00.12Z", "2026-11-20T10:00:00.120Z"),
    ])
    func readsRFC3339WithAnyOffset(text: String, utc: String) {
        #expect(Timestamp(rfc3339: text)?.description == utc)
    }

    @Test(arguments: ["", "2026-11-20", "2026-11-20T10:00:00", "2026-11-20T10:00:00.Z", "2026-13-20T10:00:00Z", "2026-11-20T10:00:00+0100", "1732096800", "2026-11-20T10:00:00Z "])
    func refusesAnythingElse(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func timesBefore1970PrintWithoutTrapping() {
        #expect(Timestamp(millisecondsSinceEpoch: -1).description == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(millisecondsSinceEpoch: -86_400_000 * 365 * 100).description.hasPrefix("1870-"))
    }
}
