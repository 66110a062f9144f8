internal import Foundation

/// The name an inlet instance records with each attempt it runs (``AttemptRecord/instance``):
/// `host:pid` unless configured (``Dispatcher/Options/instance``), so that attempts of
/// instances sharing a PostgreSQL database can be told apart.
public enum InstanceName {
    /// `host:pid` of this process.
    public static let `default`: String = {
        let info = ProcessInfo.processInfo
        return "\(info.hostName):\(info.processIdentifier)"
    }()
}
