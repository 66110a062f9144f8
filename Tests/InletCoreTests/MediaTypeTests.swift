import InletCore
import Testing

/// The `Content-Type` parser request bodies are checked with (fuzzed as `content-type`).
@Suite struct MediaTypeTests {
    @Test(arguments: [
        ("application/json", "application/json", true),
        ("Application/JSON; charset=utf-8", "application/json", true),
        (" application / json ;", "application/json", true),
        ("application/cloudevents+json", "application/cloudevents+json", true),
        ("application/+json", "application/+json", false),
        ("text/json", "text/json", false),
        ("application/json-patch", "application/json-patch", false),
        ("", "", false),
    ])
    func mediaType(_ header: String, _ value: String, _ isJSON: Bool) {
        let mediaType = MediaType(contentType: header)
        #expect(mediaType.value == value)
        #expect(mediaType.isJSON == isJSON)
    }
}
