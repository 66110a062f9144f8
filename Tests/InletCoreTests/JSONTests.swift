import InletCore
import Testing

@Suite struct JSONTests {
    @Test func arrayElementsAreCountedBeforeParsing() {
        func atMost(_ limit: Int, _ text: String) -> Bool {
            Array(text.utf8).withUnsafeBytes { JSONDocument.arrayHasAtMost(limit, elements: $0) }
        }
        #expect(atMost(3, "[1,2,3]"))
        #expect(!atMost(2, "[1,2,3]"))
        // Commas inside strings and nested values are not elements.
        #expect(atMost(2, #"[{"a":1,"b":[1,2,3]},"x,\",y"]"#))
        #expect(!atMost(1, #"[{"a":1,"b":[1,2,3]},"x,\",y"]"#))
        #expect(atMost(1, #"{"a":1,"b":2,"c":3}"#))
        #expect(atMost(1, "[]"))
    }

    @Test func readsTypedFieldsAndTreatsNullAsAbsent() throws {
        let document = try JSONDocument.parse(#"{"s":"h\u00e9llo \ud83d\ude00","n":42,"t":true,"f":false,"z":null,"o":{"k":"v"}}"#)
        let root = try document.root.requireObject()
        #expect(try root.string("s") == "héllo 😀")
        #expect(try root.int("n") == 42)
        #expect(try root.bool("t") == true)
        #expect(try root.bool("f") == false)
        #expect(try root.string("z") == nil)
        #expect(try root.string("absent") == nil)
        #expect(try root.object("o")?.string("k") == "v")
    }

    @Test func namesTheFieldWhenTheTypeIsWrong() throws {
        let root = try JSONDocument.parse(#"{"a":1,"o":{"b":[]}}"#).root
        #expect(throws: JSONError.wrongType("a", expected: "a string")) { try root.string("a") }
        #expect(throws: JSONError.wrongType("o.b", expected: "a boolean")) { try root.object("o")?.bool("b") }
        #expect(throws: JSONError.missingField("x")) { try root.requiredString("x") }
    }

    @Test func boundsDepthAndSize() throws {
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(throws: JSONError.tooDeep(limit: 32)) { try JSONDocument.parse(deep) }
        let shallow = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        _ = try JSONDocument.parse(shallow)
        // Brackets inside strings do not count.
        _ = try JSONDocument.parse(#"{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"[["}"#)
        #expect(throws: JSONError.tooLarge(limit: 8)) { try JSONDocument.parse(#"{"a":"123456"}"#, limits: .init(maxBytes: 8)) }
    }

    @Test(arguments: [#"{"a":1,"a":2}"#, #"{"a":"x\u0000y"}"#, "{", "", "nul", #"{"a":1}x"#])
    func rejectsAmbiguousOrBrokenDocuments(_ text: String) {
        #expect(throws: JSONError.self) { try JSONDocument.parse(text) }
    }

    @Test func serialisesInOrderAndRoundTrips() throws {
        let value: JSONValue = ["success": true, "user_id": .int(7), "name": "Zoë \"Z\"", "tags": ["a", nil, 1.5], "empty": ""]
        let text = value.serializedString
        #expect(text == #"{"success":true,"user_id":7,"name":"Zoë \"Z\"","tags":["a",null,1.5],"empty":""}"#)
        #expect(try JSONDocument.parse(text).root.value == value)
    }
}
