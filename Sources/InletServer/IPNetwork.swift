internal import InletCore
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// An IPv4 or IPv6 address as its bytes (4 or 16); an IPv4-mapped IPv6 address
/// (`::ffff:192.0.2.1`) is read as the IPv4 address it carries.
///
/// Parsed with `inet_pton`, so only the standard textual forms are accepted.
///
/// ```swift
/// let address = IPAddress("2001:db8::1")!
/// address.clientKey   // "2001:db8:0:0::/64"
/// ```
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(_ text: some StringProtocol) {
        let text = String(text)
        // Byte arrays rather than `in_addr`/`in6_addr`: network order, as the kernel's structs are.
        var v4 = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.bytes = v4
            return
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, text, &bytes) == 1 else { return nil }
        let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
        self.bytes = bytes.starts(with: mappedPrefix) ? Array(bytes[12...]) : bytes
    }

    public var isIPv4: Bool { self.bytes.count == 4 }

    /// The key per-client limits count under: an IPv4 address as itself, an IPv6 address
    /// by its /64 (one subscriber's allocation, which a client can rotate freely within).
    public var clientKey: String {
        if self.isIPv4 { return self.description }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(self.bytes[$0]) << 8 | UInt16(self.bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }

    public var description: String {
        if self.isIPv4 { return self.bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(self.bytes[$0]) << 8 | UInt16(self.bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}

/// An address block in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`); a bare address is
/// a block of one.
///
/// ```swift
/// let proxies = try IPNetwork.list("10.0.0.0/8, 192.0.2.7")
/// proxies.contains { $0.contains(IPAddress("10.1.2.3")!) }   // true
/// ```
public struct IPNetwork: Sendable, Hashable {
    public let address: IPAddress
    public let prefixLength: Int

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        // An IPv4-mapped block (`::ffff:10.0.0.0/104`) counts its prefix in IPv6 bits.
        let mapped = address.isIPv4 && parts[0].contains(":")
        var length = address.bytes.count * 8
        if parts.count == 2 {
            guard parts[1].allSatisfy(\.isASCII), let value = Int(parts[1]), (0...(mapped ? 128 : length)).contains(value) else { return nil }
            length = mapped ? value - 96 : value
            guard length >= 0 else { return nil }
        }
        self.address = address
        self.prefixLength = length
    }

    /// Whether `candidate` lies in this block (never across address families).
    public func contains(_ candidate: IPAddress) -> Bool {
        guard candidate.bytes.count == self.address.bytes.count else { return false }
        var remaining = self.prefixLength
        for (mine, theirs) in zip(self.address.bytes, candidate.bytes) where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            guard mine & mask == theirs & mask else { return false }
            remaining -= bits
        }
        return true
    }

    /// Blocks separated by commas or blanks; `name` is the setting, for the message.
    public static func list(_ text: String, setting name: String) throws -> [IPNetwork] {
        try text.split { $0 == "," || $0 == " " || $0 == "\t" }.map { item in
            guard let network = IPNetwork(item) else {
                throw ConfigurationError("\(name): `\(item)` is not an IP address or a CIDR block such as 10.0.0.0/8")
            }
            return network
        }
    }
}
