/// The value of one ASCII hex digit (`0-9`, `a-f`, `A-F`), or nil: the one digit reader of
/// the percent-decoders (the console's form bodies, the PostgreSQL URL).
///
/// ```swift
/// hexDigitValue(UInt8(ascii: "f"))   // 15
/// ```
package func hexDigitValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
