import Foundation
@testable import InletCore
import Testing

/// The employee rules the door and the handlers share, kept equal to what they were when
/// they leaned on Foundation's character sets (now read without building one per call).
@Suite(.timeLimit(.minutes(1))) struct EmployeeTests {
    static let samples = [
        "", " ", "Ada", "  Ada  ", "\tAda\t", "\nAda\r\n", "Ada\n", "\u{00A0}Ada\u{2003}", "\u{0085}Ada\u{2028}", "\u{3000}Ada",
        "A d a", "\u{200B}Ada", "  \n\t ", "Zoë  ", " Łukasz", "\u{000B}Ada\u{000C}",
    ]

    @Test func trimmingMatchesFoundationsWhitespaceSets() {
        // Every scalar Foundation's sets hold, and a few they don't, at each end.
        let scalars = (0...0x3100).compactMap(Unicode.Scalar.init).filter {
            CharacterSet.whitespacesAndNewlines.contains($0) || ["A", "\u{180E}", "\u{FEFF}"].contains($0)
        }
        for text in Self.samples + scalars.map({ "\($0)Ada\($0)" }) {
            #expect(Employee.trimmed(text, newlines: false) == text.trimmingCharacters(in: .whitespaces), "\(Array(text.unicodeScalars))")
            #expect(Employee.trimmed(text, newlines: true) == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(Array(text.unicodeScalars))")
        }
    }

    @Test(arguments: [
        ("ada@example.com", true), ("ada.lovelace@mail.example.co.uk", true), ("ada@bücher.de", true), ("a-b@x-y.example", true),
        ("@", false), ("ada@", false), ("@example.com", false), ("ada@example", false), ("ada@-example.com", false),
        ("ada@example-.com", false), ("ada@exa_mple.com", false), ("ada@@example.com", false), ("ada @example.com", false),
        ("ada@example..com", false), ("ada@exa mple.com", false),
    ])
    func emailSyntax(_ email: String, _ valid: Bool) {
        #expect(Employee.isValidEmail(email) == valid, "\(email)")
    }
}
