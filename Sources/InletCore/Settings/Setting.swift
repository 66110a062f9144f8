/// One setting Inlet reads: declared once, next to the code that reads it, and listed in
/// `inlet serve --help` and the README's settings tables from that one declaration.
///
/// ```swift
/// static let settings: [Setting] = [
///     Setting("INLET_LISTEN", key: "listen", default: "`127.0.0.1:8080`", "`host:port` to listen on"),
///     Setting(secret: "ADMIN_API_TOKEN", "bearer token of `/admin/*`; unset disables it"),
/// ]
/// ```
public struct Setting: Sendable, Equatable {
    /// The environment variable; nil for a setting only the config file holds.
    public let variable: String?
    /// The config-file key; nil for a setting read only from the environment.
    public let key: String?
    /// The default as shown to people (Markdown), `unset` or `none` when there is none.
    public let defaultValue: String
    /// What it does (Markdown, one line).
    public let meaning: String
    /// Read only from the environment or from the file `NAME_FILE` names; never logged.
    public let isSecret: Bool

    public init(_ variable: String?, key: String? = nil, default defaultValue: String, _ meaning: String) {
        self.variable = variable
        self.key = key
        self.defaultValue = defaultValue
        self.meaning = meaning
        self.isSecret = false
    }

    /// A secret: environment (or `NAME_FILE`) only, unset by default.
    public init(secret variable: String, _ meaning: String) {
        self.variable = variable
        self.key = nil
        self.defaultValue = "unset"
        self.meaning = meaning
        self.isSecret = true
    }
}

extension Setting {
    /// The Auth0 tenant, read by the access-token verifier and by the Management API
    /// client alike: declared once for both.
    public static let auth0Domain = Setting(
        "AUTH0_DOMAIN", default: "unset",
        "the tenant (`tenant.eu.auth0.com`; may carry a port), for `/auth/*` and for the Management API handlers; always reached over verified HTTPS"
    )
}

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
    /// names and default on one line, its meaning below, wrapped to fit 80 columns.
    public var helpText: String {
        var lines = [Self.plain(self.title) + ":"]
        for setting in self.settings {
            let names = [setting.variable, setting.key.map { "(file: \($0))" }].compactMap { $0 }.joined(separator: " ")
            lines.append("  " + names + (setting.isSecret ? "  [secret]" : "  [default: \(Self.plain(setting.defaultValue))]"))
            lines += Self.wrap(Self.plain(setting.meaning), width: 74).map { "      " + $0 }
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

/// Every setting of a build: the sections of the receiver, of the modules it uses and of
/// its handlers, each setting once (the first section that declares it lists it).
public struct SettingsCatalogue: Sendable {
    public let sections: [SettingsSection]

    public init(_ sections: [SettingsSection]) {
        var seen = Set<String>()
        var merged: [SettingsSection] = []
        for section in sections {
            let fresh = section.settings.filter { setting in
                let name = setting.variable ?? "key:" + (setting.key ?? "")
                return seen.insert(name).inserted
            }
            if let index = merged.firstIndex(where: { $0.title == section.title }) {
                merged[index] = SettingsSection(section.title, merged[index].settings + fresh)
            } else if !fresh.isEmpty {
                merged.append(SettingsSection(section.title, fresh))
            }
        }
        self.sections = merged
    }

    /// The README's settings tables: each section's title in bold, then its table.
    public var markdown: String {
        self.sections.map { "**\($0.title)**\n\n\($0.markdownTable)" }.joined(separator: "\n\n")
    }

    /// What `inlet serve --help` shows.
    public var helpText: String {
        let intro = """
            Settings come from the environment, or from the JSON file of --config / INLET_CONFIG for those \
            with a config key (the environment wins). Secrets come only from the environment, or from a file \
            named by NAME_FILE.
            """
        return ([intro] + self.sections.map(\.helpText)).joined(separator: "\n\n")
    }
}
