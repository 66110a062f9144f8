internal import Hummingbird
internal import HTTPTypes
internal import Mustache
internal import NIOCore

/// Renders the console's pages from the Mustache templates compiled into the module
/// (`Console/Templates`, embedded with `.embedInCode`), and serves its stylesheet and script.
///
/// Every `{{value}}` is HTML-escaped by the template engine; no template uses the
/// unescaped forms, so a value taken from an event (a payload holding `<script>`) is
/// shown as text. Each page fills the `layout` template's `content` block.
///
/// ```swift
/// let pages = try ConsolePages()
/// return pages.render("events", title: "Events", section: .events, values: ["events": rows], session: session)
/// ```
struct ConsolePages: Sendable {
    let library: MustacheLibrary

    /// The console's sections, in navigation order.
    enum Section: String, CaseIterable, Sendable {
        case overview, events, deadLetters, handlers, employees

        var label: String {
            switch self {
            case .overview: "Overview"
            case .events: "Events"
            case .deadLetters: "Dead letters"
            case .handlers: "Handlers"
            case .employees: "Employees and logins"
            }
        }

        var href: String {
            switch self {
            case .overview: "/console/"
            case .events: "/console/events"
            case .deadLetters: "/console/dead-letters"
            case .handlers: "/console/handlers"
            case .employees: "/console/employees"
            }
        }
    }

    init() throws {
        var library = MustacheLibrary()
        let templates: [(String, [UInt8])] = [
            ("layout", PackageResources.layout_mustache), ("sign-in", PackageResources.sign_in_mustache),
            ("overview", PackageResources.overview_mustache), ("events", PackageResources.events_mustache),
            ("event", PackageResources.event_mustache), ("dead-letters", PackageResources.dead_letters_mustache),
            ("handlers", PackageResources.handlers_mustache), ("employees", PackageResources.employees_mustache),
            ("message", PackageResources.message_mustache),
        ]
        for (name, bytes) in templates {
            try library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        self.library = library
    }

    static let stylesheet = ByteBuffer(bytes: PackageResources.console_css)
    static let script = ByteBuffer(bytes: PackageResources.console_js)

    /// A page: `template` with `values`, in the layout, with the navigation and the sign-out
    /// form when `session` is given, and `flash` shown once at the top.
    func render(
        _ template: String, title: String, section: Section?, values: [String: Any] = [:], session: ConsoleSessions.SignedIn?,
        flash: String? = nil, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) -> Response {
        var context = values
        context["title"] = title
        context["signedIn"] = session != nil
        context["csrf"] = session?.csrfToken
        context["flash"] = flash
        context["nav"] = Section.allCases.map { item -> [String: Any] in
            ["href": item.href, "label": item.label, "current": item == section]
        }
        let html = self.library.render(Self.absentAsFalse(context), withTemplate: template) ?? "template \(template) is missing"
        var fields = headers
        fields[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// `values` with every absent (nil) value as `false`, recursively: a `{{#name}}` section
    /// then renders nothing for it (a boxed nil would render as "nil"), and the key stays,
    /// so that the lookup does not climb to an outer value of the same name.
    static func absentAsFalse(_ value: Any) -> Any {
        switch value {
        case let optional as any AbsentCheckable where optional.isAbsent:
            return false
        case let dictionary as [String: Any]:
            return dictionary.mapValues { absentAsFalse($0) }
        case let array as [[String: Any]]:
            return array.map { absentAsFalse($0) }
        default:
            return value
        }
    }

    /// A page that only says something (an error, a refusal).
    func message(title: String, text: String, status: HTTPResponse.Status, session: ConsoleSessions.SignedIn?) -> Response {
        self.render("message", title: title, section: nil, values: ["text": text], session: session, status: status)
    }
}

/// An `Optional` seen through `Any`: whether it holds nothing.
protocol AbsentCheckable {
    var isAbsent: Bool { get }
}

extension Optional: AbsentCheckable {
    var isAbsent: Bool {
        switch self {
        case .none: true
        case .some(let wrapped): (wrapped as? any AbsentCheckable)?.isAbsent ?? false
        }
    }
}
