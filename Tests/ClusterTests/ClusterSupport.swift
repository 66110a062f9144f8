import Foundation
import InletCore
import InletTestSupport
import Synchronization
import Testing

/// A folder under the system temp directory, removed when the test ends.
struct ScratchFolder: ~Copyable {
    let path: String

    init() throws {
        self.path = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-cluster-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}

typealias Answer = InletTestClient.Answer

/// One run of the `command` handler, as its script recorded it: `start|end EVENT_ID PID TIME`.
struct CommandRun: Sendable, CustomStringConvertible {
    let event: String
    let pid: Int32
    let start: Double
    /// Nil while it runs.
    var end: Double?

    var description: String { "\(self.event) on \(self.pid) \(self.start)–\(self.end.map { String($0) } ?? "running")" }

    /// The runs of a log the script wrote (a start and its end share event and pid).
    static func parse(_ text: String) -> [CommandRun] {
        var runs: [CommandRun] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 4, let pid = Int32(fields[2]), let time = Double(fields[3]) else { continue }
            let event = String(fields[1])
            if fields[0] == "start" {
                runs.append(CommandRun(event: event, pid: pid, start: time))
            } else if fields[0] == "end", let index = runs.lastIndex(where: { $0.event == event && $0.pid == pid && $0.end == nil }) {
                runs[index].end = time
            }
        }
        return runs
    }

    /// A bash script for the `command` handler that appends `start` and `end` lines to
    /// `file` (the pid is the inlet process that ran it), sleeping `slowSeconds` for events
    /// whose id starts with `slow-`.
    static func script(file: String, slowSeconds: Double) -> String {
        """
        read -r _
        printf 'start %s %s %s\\n' "$INLET_EVENT_ID" "$PPID" "$EPOCHREALTIME" >> '\(file)'
        case "$INLET_EVENT_ID" in slow-*) sleep \(slowSeconds) ;; esac
        printf 'end %s %s %s\\n' "$INLET_EVENT_ID" "$PPID" "$EPOCHREALTIME" >> '\(file)'
        """
    }
}
