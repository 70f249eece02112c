import Testing

@testable import FHIRCore

@Suite struct JSONTests {
    @Test func numbersKeepTheirLexicalForm() throws {
        let value = try JSONParser.parse(#"{"a":1.50,"b":-0.0,"c":1e10,"d":12345678901234567890}"#)
        #expect(value["a"] == .number("1.50"))
        #expect(value["c"] == .number("1e10"))
        #expect(value.text == #"{"a":1.50,"b":-0.0,"c":1e10,"d":12345678901234567890}"#)
    }

    @Test func memberOrderIsKept() throws {
        let text = #"{"z":1,"a":2,"m":[true,false,null]}"#
        #expect(try JSONParser.parse(text).text == text)
    }

    @Test func escapesAndSurrogatesRoundTrip() throws {
        let value = try JSONParser.parse(#"{"s":"tab\tquote\"slash\/ \u00e9 \ud83d\ude00 \u0001"}"#)
        #expect(value["s"]?.stringValue == "tab\tquote\"slash/ é 😀 \u{01}")
        #expect(try JSONParser.parse(value.text) == value)
    }

    @Test(arguments: [
        ("{", "expected a quoted member name"),
        ("[1", "unexpected end of input in array"),
        (#"{"a":01}"#, "leading zero"),
        (#"{"a":1,"a":2}"#, "duplicate member name 'a'"),
        (#"{"a":"\ud800"}"#, "unpaired surrogate"),
        ("[1,]", "unexpected character"),
        (#"{"a":1} x"#, "unexpected content"),
        ("\"a\u{01}\"", "control character"),
        (#"{"a":tru}"#, "invalid literal"),
    ])
    func malformedInputIsRejected(text: String, message: String) {
        #expect {
            try JSONParser.parse(text)
        } throws: { error in
            (error as? JSONParseError)?.message.contains(message) == true
        }
    }

    @Test func errorsCarryLineAndColumn() {
        do {
            _ = try JSONParser.parse("{\n  \"a\": [1,\n  }")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 3)
            #expect(error.column == 3)
        }
    }

    @Test func deepNestingIsRejectedWithoutCrashing() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
    }

    @Test func invalidUTF8IsRejected() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func objectEditingKeepsOrder() {
        var object = JSONObject(["resourceType": .string("Patient"), "name": .array([])])
        object.set("id", .string("x"), after: "resourceType")
        object["name"] = nil
        object["gender"] = .string("other")
        #expect(object.keys == ["resourceType", "id", "gender"])
    }

    @Test func prettyWriterIndents() {
        let value = JSON.object(JSONObject(["a": .array([.int(1)])]))
        #expect(JSONWriter(pretty: true).string(value) == "{\n  \"a\": [\n    1\n  ]\n}")
    }
}

@Suite struct FHIRXMLTests {
    @Test func writesPrimitivesArraysExtensionsAndEscapes() throws {
        let json = try JSONParser.parse(
            Array(
                """
                {"resourceType":"Patient","id":"p1","active":true,"name":[{"family":"O'Brien & <Sons>","given":["Ann","B"]}],
                 "extension":[{"url":"http://example.org/x","valueDecimal":1.50}]}
                """.utf8))
        let xml = String(decoding: try #require(FHIRXML.document(json)), as: UTF8.self)
        #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Patient xmlns=\"http://hl7.org/fhir\">"))
        #expect(xml.contains("<id value=\"p1\"/><active value=\"true\"/>"))
        #expect(xml.contains("<name><family value=\"O'Brien &amp; &lt;Sons&gt;\"/><given value=\"Ann\"/><given value=\"B\"/></name>"))
        #expect(xml.contains("<extension url=\"http://example.org/x\"><valueDecimal value=\"1.50\"/></extension>"))
        #expect(FHIRXML.document(.array([])) == nil)
    }
}
