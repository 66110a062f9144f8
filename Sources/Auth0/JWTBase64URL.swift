/// Strict base64url (RFC 4648 §5) as JWS compact serialisation uses it (RFC 7515 §2).
///
/// Strict, so that one token has exactly one spelling: only `A–Z a–z 0–9 - _`, no `=`
/// padding, no whitespace, no length of the form 4k+1, and the unused bits of the last
/// symbol zero. A token that differs from a valid one in any of those ways is refused
/// rather than read as the same bytes.
///
/// ```swift
/// JWTBase64URL.decode("eyJhbGciOiJSUzI1NiJ9".utf8) // Array(#"{"alg":"RS256"}"#.utf8)
/// JWTBase64URL.encode([0xfb, 0xff])                  // "-_8"
/// ```
public enum JWTBase64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Each byte's sextet, or 0xFF when the byte is not in the alphabet.
    private static let table: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, symbol) in alphabet.enumerated() { table[Int(symbol)] = UInt8(index) }
        return table
    }()

    /// Unpadded base64url of `bytes`.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let bytes = Array(bytes)
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let b0 = UInt32(bytes[index])
            let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
            let b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(group >> 18 & 0x3F)])
            out.append(alphabet[Int(group >> 12 & 0x3F)])
            if remaining > 1 { out.append(alphabet[Int(group >> 6 & 0x3F)]) }
            if remaining > 2 { out.append(alphabet[Int(group & 0x3F)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Unpadded base64url of the UTF-8 of `text`.
    public static func encode(_ text: String) -> String {
        encode(Array(text.utf8))
    }

    /// The bytes `symbols` spell in strict base64url, or nil.
    public static func decode(_ symbols: some Collection<UInt8>) -> [UInt8]? {
        if let result = symbols.withContiguousStorageIfAvailable({ decode(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(symbols).withUnsafeBytes { decode($0) }
    }

    /// Whether `symbols` is strict base64url, without decoding it.
    public static func isValid(_ symbols: UnsafeRawBufferPointer) -> Bool {
        let count = symbols.count
        guard count % 4 != 1 else { return false }
        return self.table.withUnsafeBufferPointer { table in
            var bad: UInt8 = 0
            for symbol in symbols { bad |= table[Int(symbol)] }
            guard bad & 0xC0 == 0 else { return false }
            // The last symbol's unused low bits must be zero.
            switch count % 4 {
            case 2: return table[Int(symbols[count - 1])] & 0x0F == 0
            case 3: return table[Int(symbols[count - 1])] & 0x03 == 0
            default: return true
            }
        }
    }

    /// The bytes `symbols` spell in strict base64url, or nil.
    public static func decode(_ symbols: UnsafeRawBufferPointer) -> [UInt8]? {
        let count = symbols.count
        guard count % 4 != 1 else { return nil }
        let outputCount = count / 4 * 3 + (count % 4 == 0 ? 0 : count % 4 - 1)
        if count == 0 { return [] }
        return self.table.withUnsafeBufferPointer { table -> [UInt8]? in
            var valid = true
            let output = [UInt8](unsafeUninitializedCapacity: outputCount) { buffer, initialized in
                var input = 0
                var output = 0
                var bad: UInt8 = 0
                // Whole groups of four symbols: three bytes each.
                while count - input >= 4 {
                    let a = table[Int(symbols[input])]
                    let b = table[Int(symbols[input + 1])]
                    let c = table[Int(symbols[input + 2])]
                    let d = table[Int(symbols[input + 3])]
                    bad |= a | b | c | d
                    let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    buffer[output] = UInt8(truncatingIfNeeded: group >> 16)
                    buffer[output + 1] = UInt8(truncatingIfNeeded: group >> 8)
                    buffer[output + 2] = UInt8(truncatingIfNeeded: group)
                    input += 4
                    output += 3
                }
                // 0xFF has its top bits set; every valid sextet has them clear.
                if bad & 0xC0 != 0 { valid = false }
                switch count - input {
                case 2:
                    let a = table[Int(symbols[input])]
                    let b = table[Int(symbols[input + 1])]
                    if (a | b) & 0xC0 != 0 || b & 0x0F != 0 { valid = false }
                    buffer[output] = a << 2 | b >> 4
                    output += 1
                case 3:
                    let a = table[Int(symbols[input])]
                    let b = table[Int(symbols[input + 1])]
                    let c = table[Int(symbols[input + 2])]
                    if (a | b | c) & 0xC0 != 0 || c & 0x03 != 0 { valid = false }
                    buffer[output] = a << 2 | b >> 4
                    buffer[output + 1] = (b & 0x0F) << 4 | c >> 2
                    output += 2
                default:
                    break
                }
                initialized = output
            }
            return valid ? output : nil
        }
    }
}
