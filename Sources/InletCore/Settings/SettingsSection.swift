/// Settings of one part of Inlet, with a title: a table in the README, a block in `--help`.
public struct SettingsSection: Sendable {
    public let title: String
    public let settings: [Setting]

    public init(_ title: String, _ settings: [Setting]) {
        self.title = title
        self.settings = settings
    }

    /// The Markdown table the README holds for this section.
    public var markdownTable: String {
        var lines = ["| environment | config key | default | meaning |", "| --- | --- | --- | --- |"]
        for setting in self.settings {
            let variable = setting.variable.map { "`\($0)`" } ?? "—"
            let key = setting.key.map { "`\($0)`" } ?? "—"
            let meaning = setting.isSecret ? "secret: \(setting.meaning)" : setting.meaning
            lines.append("| \(variable) | \(key) | \(setting.defaultValue) | \(meaning) |")
        }
        return lines.joined(separator: "\n")
    }

    /// The plain-text block `inlet serve --help` shows for this section: each setting's
    /// names and default on one line, its meaning below, wrapped in lines shorter than 80
    /// columns (ArgumentParser breaks a line of 80 again).
    public var helpText: String {
        var lines = [Self.plain(self.title) + ":"]
        for setting in self.settings {
            let names = [setting.variable, setting.key.map { "(file: \($0))" }].compactMap { $0 }.joined(separator: " ")
            lines.append("  " + names + (setting.isSecret ? "  [secret]" : "  [default: \(Self.plain(setting.defaultValue))]"))
            lines += Self.wrap(Self.plain(setting.meaning), width: 73).map { "      " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    /// `text` in lines of at most `width` characters, broken at spaces.
    private static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// Markdown code spans shown without their backquotes.
    private static func plain(_ text: String) -> String {
        text.replacing("`", with: "")
    }
}
