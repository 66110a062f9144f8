/// Strict base64 (RFC 4648): the standard alphabet with `=` padding (§4), as Standard
/// Webhooks secrets and signatures and X.509 certificates in a JWKS use it, and the
/// URL-safe alphabet without padding (§5), as JWS compact serialisation does (RFC 7515 §2).
///
/// Strict, so that one value has exactly one spelling and a mangled signature, secret or
/// token is refused rather than half-read: only the alphabet's symbols, no whitespace, `=`
/// only as final padding (standard only), no length of the form 4k+1, and the unused bits
/// of the last symbol zero.
///
/// ```swift
/// Base64.standard.encode([0x66, 0x6f])                   // "Zm8="
/// Base64.standard.decode("Zm8", requirePadding: false)   // [0x66, 0x6f]
/// Base64.url.encode([0xfb, 0xff])                        // "-_8"
/// Base64.url.decode("eyJhbGciOiJSUzI1NiJ9".utf8)         // Array(#"{"alg":"RS256"}"#.utf8)
/// ```
public struct Base64: Sendable {
    /// `A–Z a–z 0–9 + /`, padded with `=`.
    public static let standard = Base64(alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", pads: true)
    /// `A–Z a–z 0–9 - _`, never padded.
    public static let url = Base64(alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", pads: false)

    private let alphabet: [UInt8]
    /// Each byte's sextet, or 0xFF when the byte is not in the alphabet.
    private let table: [UInt8]
    /// Whether encodings end in `=` padding to a multiple of four symbols.
    private let pads: Bool

    private init(alphabet: String, pads: Bool) {
        self.alphabet = Array(alphabet.utf8)
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, symbol) in self.alphabet.enumerated() { table[Int(symbol)] = UInt8(index) }
        self.table = table
        self.pads = pads
    }

    /// The encoding of `bytes`.
    public func encode(_ bytes: some Collection<UInt8>) -> String {
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
            out.append(self.alphabet[Int(group >> 18 & 0x3F)])
            out.append(self.alphabet[Int(group >> 12 & 0x3F)])
            if remaining > 1 { out.append(self.alphabet[Int(group >> 6 & 0x3F)]) } else if self.pads { out.append(UInt8(ascii: "=")) }
            if remaining > 2 { out.append(self.alphabet[Int(group & 0x3F)]) } else if self.pads { out.append(UInt8(ascii: "=")) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The encoding of the UTF-8 of `text`.
    public func encode(_ text: String) -> String {
        self.encode(Array(text.utf8))
    }

    /// The bytes `text` spells, or nil. With the standard alphabet, `=` padding is required
    /// unless `requirePadding` is false (secrets are often written unpadded); the URL-safe
    /// form never has padding.
    public func decode(_ text: some StringProtocol, requirePadding: Bool = true) -> [UInt8]? {
        var symbols = Array(text.utf8)
        if self.pads {
            var padding = 0
            while padding < 2, symbols.last == UInt8(ascii: "=") {
                symbols.removeLast()
                padding += 1
            }
            if padding > 0 || requirePadding {
                guard (symbols.count + padding) % 4 == 0 else { return nil }
            }
        }
        return symbols.withUnsafeBytes { self.decode($0) }
    }

    /// The bytes unpadded `symbols` spell, or nil.
    public func decode(_ symbols: some Collection<UInt8>) -> [UInt8]? {
        if let result = symbols.withContiguousStorageIfAvailable({ self.decode(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(symbols).withUnsafeBytes { self.decode($0) }
    }

    /// Whether unpadded `symbols` are valid, without decoding them.
    public func isValid(_ symbols: UnsafeRawBufferPointer) -> Bool {
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

    /// The bytes unpadded `symbols` spell, or nil.
    public func decode(_ symbols: UnsafeRawBufferPointer) -> [UInt8]? {
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
