#if canImport(Glibc)
internal import Glibc
#else
internal import Darwin
#endif

/// A moment as milliseconds since the UNIX epoch, written as RFC 3339 UTC text.
///
/// Stored as text (`2026-11-22T03:49:36.123Z`) so operators can read the database; the
/// fixed width keeps text order equal to time order.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public init(secondsSinceEpoch: Double) {
        self.millisecondsSinceEpoch = Int64((secondsSinceEpoch * 1000).rounded(.down))
    }

    public var secondsSinceEpoch: Double { Double(self.millisecondsSinceEpoch) / 1000 }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public func adding(seconds: Double) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: self.millisecondsSinceEpoch + Int64(seconds * 1000))
    }

    /// RFC 3339 in UTC with milliseconds.
    public var description: String {
        var seconds = time_t(self.millisecondsSinceEpoch / 1000)
        let millis = Int(self.millisecondsSinceEpoch % 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var out = [UInt8]()
        out.reserveCapacity(24)
        func put(_ value: Int, width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        put(Int(parts.tm_year) + 1900, width: 4); out.append(UInt8(ascii: "-"))
        put(Int(parts.tm_mon) + 1, width: 2); out.append(UInt8(ascii: "-"))
        put(Int(parts.tm_mday), width: 2); out.append(UInt8(ascii: "T"))
        put(Int(parts.tm_hour), width: 2); out.append(UInt8(ascii: ":"))
        put(Int(parts.tm_min), width: 2); out.append(UInt8(ascii: ":"))
        put(Int(parts.tm_sec), width: 2); out.append(UInt8(ascii: "."))
        put(millis, width: 3); out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }
}

/// Where Inlet reads the time; injected so tests control it.
///
/// ```swift
/// let clock = WallClock.system
/// let fixed = WallClock { Timestamp(millisecondsSinceEpoch: 1_700_000_000_000) }
/// ```
public struct WallClock: Sendable {
    private let read: @Sendable () -> Timestamp

    public init(_ read: @escaping @Sendable () -> Timestamp) {
        self.read = read
    }

    public func now() -> Timestamp { self.read() }

    /// The system's real-time clock.
    public static let system = WallClock {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(millisecondsSinceEpoch: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }
}

extension Duration {
    /// Whole milliseconds, for logs (`duration_ms`).
    public var wholeMilliseconds: Int64 { self.components.seconds * 1000 + self.components.attoseconds / 1_000_000_000_000_000 }
    /// Whole nanoseconds, for timers.
    public var wholeNanoseconds: Int64 { self.components.seconds * 1_000_000_000 + self.components.attoseconds / 1_000_000_000 }
    /// Seconds, with the fraction.
    public var seconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
}
