internal import Foundation
internal import InletCore

/// The Auth0 log event types the log-stream intake stores (`INLET_AUTH0_LOG_TYPES`):
/// a comma-separated list, or `*` for every type. Entries of other types are answered
/// 200 and counted as skipped, so Auth0 does not retry them.
///
/// ```swift
/// let types = try Auth0LogTypes(parsing: "s,ss,du", setting: "INLET_AUTH0_LOG_TYPES")
/// types.contains("s")   // true
/// ```
public struct Auth0LogTypes: Sendable, Equatable {
    /// Every type is stored.
    public let all: Bool
    public let types: Set<String>

    /// The user-lifecycle and authentication types: logins and signups (and their
    /// failures), verification, deletion, password and email changes, logouts, and the
    /// brute-force and breached-password blocks. Not `sapi` or the token exchanges, which
    /// are many and say nothing about a user's lifecycle.
    public static let defaultList = "s,ss,f,fp,fu,fs,sv,fv,du,fd,scp,fcp,scpr,fcpr,sce,fce,slo,flo,limit_wc,limit_mu,pwd_leak"

    public static let `default` = Auth0LogTypes(all: false, types: Set(defaultList.split(separator: ",").map(String.init)))

    private init(all: Bool, types: Set<String>) {
        self.all = all
        self.types = types
    }

    public init(parsing text: String, setting: String) throws {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if items == ["*"] {
            self.init(all: true, types: [])
            return
        }
        guard !items.isEmpty else { throw ConfigurationError("\(setting) must list log event types (such as s,ss,du) or be *") }
        for item in items where item == "*" || !item.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
            throw ConfigurationError("\(setting) holds `\(item)`, which is not a log event type (letters, digits, _), or * alone")
        }
        self.init(all: false, types: Set(items))
    }

    public func contains(_ type: String) -> Bool { self.all || self.types.contains(type) }
}
