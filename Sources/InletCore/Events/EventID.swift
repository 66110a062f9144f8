/// Event ids Inlet generates: `evt_`, the time in milliseconds as 12 hex digits, and 12
/// random hex digits. Ids made later sort later, so they land at the end of the events
/// index instead of on a random page of it (one page written per commit, not one per event).
public enum EventID {
    /// Whether `id` may name an event: 1 to 256 of `A-Z a-z 0-9 . _ : -`.
    ///
    /// Ids travel on as the forward handler's `webhook-id` header, in log metadata and in
    /// `INLET_EVENT_ID`; this alphabet is safe in all three.
    public static func isValid(_ id: some StringProtocol) -> Bool {
        let bytes = id.utf8
        return (1...256).contains(bytes.count) && bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }

    public static func generate(at time: Timestamp) -> String {
        let milliseconds = String(UInt64(max(0, time.millisecondsSinceEpoch)) & 0xFFFF_FFFF_FFFF, radix: 16)
        return "evt_" + String(repeating: "0", count: 12 - milliseconds.count) + milliseconds + Crypto.randomHex(byteCount: 6)
    }
}
