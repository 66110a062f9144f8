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

    /// Reads RFC 3339 text with any offset: `2026-11-20T10:00:00Z`,
    /// `2026-11-20T04:00:00.25-06:00`. Nil for anything else, so a caller can fall back.
    ///
    /// ```swift
    /// Timestamp(rfc3339: "2026-11-20T10:00:00+01:00")?.description  // "2026-11-20T09:00:00.000Z"
    /// ```
    public init?(rfc3339 text: String) {
        let bytes = Array(text.utf8)
        func digits(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<(start + count)] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func byte(_ index: Int, _ allowed: String) -> Bool { index < bytes.count && allowed.utf8.contains(bytes[index]) }
        guard let year = digits(0, 4), byte(4, "-"), let month = digits(5, 2), byte(7, "-"), let day = digits(8, 2), byte(10, "Tt "),
            let hour = digits(11, 2), byte(13, ":"), let minute = digits(14, 2), byte(16, ":"), let second = digits(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60
        else { return nil }
        var index = 19
        var millis = 0
        if byte(index, ".") {
            index += 1
            let start = index
            while let digit = digits(index, 1) {
                if index - start < 3 { millis = millis * 10 + digit }
                index += 1
            }
            guard index > start else { return nil }
            for _ in min(index - start, 3)..<3 { millis *= 10 }
        }
        var offset = 0
        if byte(index, "Zz") {
            index += 1
        } else if byte(index, "+-"), let hours = digits(index + 1, 2), byte(index + 3, ":"), let minutes = digits(index + 4, 2) {
            offset = (bytes[index] == UInt8(ascii: "-") ? -1 : 1) * (hours * 60 + minutes) * 60
            index += 6
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = Int64(timegm(&parts)) - Int64(offset)
        self.init(millisecondsSinceEpoch: seconds * 1000 + Int64(millis))
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
        // Floor division, so that a time before 1970 has its milliseconds counted forward.
        let ms = self.millisecondsSinceEpoch
        var seconds = time_t(ms >= 0 ? ms / 1000 : (ms - 999) / 1000)
        let millis = Int(ms - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var out = [UInt8]()
        out.reserveCapacity(24)
        func put(_ value: Int, width: Int) {
            let value = max(0, value)  // RFC 3339 has no year before 0000
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
