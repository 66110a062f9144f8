import Testing
@Test func auth0Placeholder() { #expect(Bool(true)) }
