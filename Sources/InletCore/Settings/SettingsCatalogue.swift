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
