import Testing
@testable import EDIFACT

/// The writer's output as text, so expectations read like the interchanges in the notes.
private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

private let jan31 = EDIFACTDateTime(year: 2025, month: 1, day: 31, hour: 9, minute: 30)

@Suite("EDIFACTWriter")
struct WriterTests {
    @Test("a bare-message interchange: UNT counts UNH..UNT, UNZ counts messages")
    func bareMessages() throws {
        var w = EDIFACTWriter(syntaxIdentifier: .UNOC, syntaxVersion: 3, segmentSuffix: "\n")
        try w.beginInterchange(sender: ["CARRIERX", "ZZZ"], recipient: ["SWGATEWAY", "ZZZ"], at: jan31, reference: "CUS000123",
                               applicationReference: "CUSCAR")
        try w.beginMessage(reference: "M0001", identifier: ["CUSCAR", "D", "95B", "UN"])
        try w.segment("BGM", [["85"], ["MANIFEST1"], ["9"]])
        try w.segment("DTM", [["137", "202501310930", "203"]])
        try w.endMessage()
        try w.beginMessage(reference: "M0002", identifier: ["CUSCAR", "D", "95B", "UN"])
        try w.segment("BGM", [["85"], ["MANIFEST2"], ["9"]])
        try w.endMessage()
        try w.endInterchange()
        #expect(text(w.bytes) == """
            UNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+250131:0930+CUS000123++CUSCAR'
            UNH+M0001+CUSCAR:D:95B:UN'
            BGM+85+MANIFEST1+9'
            DTM+137:202501310930:203'
            UNT+4+M0001'
            UNH+M0002+CUSCAR:D:95B:UN'
            BGM+85+MANIFEST2+9'
            UNT+3+M0002'
            UNZ+2+CUS000123'

            """)
    }

    @Test("with groups: UNE counts its messages, UNZ counts groups")
    func groups() throws {
        var w = EDIFACTWriter(syntaxIdentifier: .UNOA)
        try w.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "R1", acknowledgementRequest: true, testIndicator: true)
        try w.beginGroup(identifier: "CUSCAR", sender: ["A", "ZZZ"], recipient: ["B"], at: jan31, reference: "G01", version: ["D", "95B"])
        for ref in ["1", "2", "3"] {
            try w.beginMessage(reference: ref, identifier: ["CUSCAR", "D", "95B", "UN"])
            try w.endMessage()
        }
        try w.endGroup()
        try w.beginGroup(identifier: "CUSCAR", sender: ["A"], recipient: ["B"], at: jan31, reference: "G02", version: ["D", "95B"])
        try w.beginMessage(reference: "4", identifier: ["CUSCAR", "D", "95B", "UN"])
        try w.endMessage()
        try w.endGroup()
        try w.endInterchange()
        #expect(text(w.bytes) == "UNB+UNOA:3+A+B+250131:0930+R1++++1++1'"
            + "UNG+CUSCAR+A:ZZZ+B+250131:0930+G01+UN+D:95B'"
            + "UNH+1+CUSCAR:D:95B:UN'UNT+2+1'UNH+2+CUSCAR:D:95B:UN'UNT+2+2'UNH+3+CUSCAR:D:95B:UN'UNT+2+3'UNE+3+G01'"
            + "UNG+CUSCAR+A+B+250131:0930+G02+UN+D:95B'UNH+4+CUSCAR:D:95B:UN'UNT+2+4'UNE+1+G02'"
            + "UNZ+2+R1'")
    }

    @Test("release character before each service character, decimal mark untouched")
    func escaping() throws {
        var w = EDIFACTWriter(syntaxIdentifier: .UNOA)
        try w.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "R1")
        try w.beginMessage(reference: "1", identifier: ["X", "D", "96A", "UN"])
        try w.segment("FTX", [["AAA"], [], [], ["WHAT? A+B:C'D 1.5*2"]])
        try w.segment("RFF", [["BM", "?:+'"]])
        try w.endMessage()
        try w.endInterchange()
        #expect(text(w.bytes) == "UNB+UNOA:3+A+B+250131:0930+R1'UNH+1+X:D:96A:UN'"
            + "FTX+AAA+++WHAT?? A?+B?:C?'D 1.5*2'RFF+BM:???:?+?''UNT+4+1'UNZ+1+R1'")
    }

    @Test("version 4: UNA with repetition separator, CCYYMMDD, and * released in data")
    func version4() throws {
        var w = EDIFACTWriter(syntaxIdentifier: .UNOC, syntaxVersion: 4, serviceStringAdvice: true)
        try w.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "R1")
        try w.beginMessage(reference: "1", identifier: ["X", "4", "1", "UN"])
        try w.segment("FTX", [["AAA"], [], [], ["2*3"]])
        try w.endMessage()
        try w.endInterchange()
        #expect(text(w.bytes) == "UNA:+.?*'UNB+UNOC:4+A+B+20250131:0930+R1'UNH+1+X:4:1:UN'FTX+AAA+++2?*3'UNT+3+1'UNZ+1+R1'")
    }

    @Test("version 3 UNA has a space in UNA5 and * is plain data")
    func version3ServiceStringAdvice() throws {
        var w = EDIFACTWriter(syntaxIdentifier: .UNOA, syntaxVersion: 3, delimiters: .levelA(syntaxVersion: 4), serviceStringAdvice: true)
        try w.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "R1")
        try w.beginMessage(reference: "1", identifier: ["X"])
        try w.segment("FTX", [["AAA"], [], [], ["2*3"]])
        try w.endMessage()
        try w.endInterchange()
        #expect(text(w.bytes).hasPrefix("UNA:+.? 'UNB+UNOA:3+"))
        #expect(text(w.bytes).contains("FTX+AAA+++2*3'"))
    }

    @Test("truncation: trailing empty components and elements are omitted, inner ones kept")
    func truncation() throws {
        var w = EDIFACTWriter()
        try w.beginInterchange(sender: ["A", "", ""], recipient: ["B", "ZZZ", ""], at: jan31, reference: "R1", applicationReference: "")
        try w.beginMessage(reference: "1", identifier: ["X", "D", "96A", "UN", ""])
        try w.segment("NAD", [["MS"], ["ID", "", "ZZZ", ""], [], ["", ""]])
        try w.segment("CNT", [])
        try w.segment("CNT", [[], [""]])
        try w.segment("LOC", [[], ["X"]])
        try w.endMessage()
        try w.endInterchange()
        #expect(text(w.bytes) == "UNB+UNOA:3+A+B:ZZZ+250131:0930+R1'UNH+1+X:D:96A:UN'"
            + "NAD+MS+ID::ZZZ'CNT'CNT'LOC++X'UNT+6+1'UNZ+1+R1'")
    }

    @Test("Level B: IS separators, and a separator in data is refused (no release character)")
    func levelB() throws {
        var w = EDIFACTWriter(syntaxIdentifier: .UNOB, delimiters: .levelB)
        try w.beginInterchange(sender: ["a"], recipient: ["b"], at: jan31, reference: "R1")
        try w.beginMessage(reference: "1", identifier: ["X"])
        try w.segment("FTX", [["AAA"], [], [], ["a+b:c'd?"]])
        let before = w.bytes
        let error = #expect(throws: WriterError.self) {
            try w.segment("FTX", [["AAA"], [], [], ["one", "two\u{1D}three"]])
        }
        #expect(error?.code == .separatorWithoutRelease)
        #expect(error?.segmentTag == "FTX")
        #expect(error?.elementPosition == 5)
        #expect(error?.componentPosition == 2)
        #expect(error?.message.contains("two") == false)
        #expect(w.bytes == before)
        try w.endMessage()
        try w.endInterchange()
        #expect(w.bytes == Array("UNB\u{1D}UNOB\u{1F}3\u{1D}a\u{1D}b\u{1D}250131\u{1F}0930\u{1D}R1\u{1C}UNH\u{1D}1\u{1D}X\u{1C}".utf8)
            + Array("FTX\u{1D}AAA\u{1D}\u{1D}\u{1D}a+b:c'd?\u{1C}UNT\u{1D}3\u{1D}1\u{1C}UNZ\u{1D}1\u{1D}R1\u{1C}".utf8))
    }

    @Test("UNA4 space (no release character): a + in data is refused")
    func noReleaseCharacter() throws {
        let d = Delimiters(component: UInt8(ascii: ":"), element: UInt8(ascii: "+"), decimalMark: UInt8(ascii: "."),
                           release: nil, repetition: nil, segment: UInt8(ascii: "'"))
        var w = EDIFACTWriter(syntaxIdentifier: .UNOA, delimiters: d, serviceStringAdvice: true)
        try w.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "R1")
        try w.beginMessage(reference: "1", identifier: ["X"])
        #expect(throws: WriterError(code: .separatorWithoutRelease, segmentTag: "RFF", elementPosition: 2, componentPosition: 2,
                                    message: "RFF element 2:2: the value contains a service character and there is no release character to escape it")) {
            try w.segment("RFF", [["BM", "A+B"]])
        }
        #expect(text(w.bytes).hasPrefix("UNA:+.  'UNB"))
    }

    @Test("UNOA refuses lower case, naming segment and element but not the value")
    func unoaRefusesLowerCase() throws {
        var w = EDIFACTWriter(syntaxIdentifier: .UNOA)
        try w.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "R1")
        try w.beginMessage(reference: "1", identifier: ["X"])
        let before = w.bytes
        let error = #expect(throws: WriterError.self) {
            try w.segment("NAD", [["MS"], ["Secret"]])
        }
        #expect(error?.code == .notRepresentable)
        #expect(error?.message == "NAD element 3: a character (U+0065) is not in the UNOA repertoire")
        #expect(w.bytes == before)
        // The same value is fine in UNOB, which has lower case.
        var b = EDIFACTWriter(syntaxIdentifier: .UNOB)
        try b.beginInterchange(sender: ["a"], recipient: ["b"], at: jan31, reference: "r1")
        #expect(text(b.bytes) == "UNB+UNOB:3+a+b+250131:0930+r1'")
        // And in the envelope too.
        var e = EDIFACTWriter(syntaxIdentifier: .UNOA)
        #expect(throws: WriterError.self) {
            try e.beginInterchange(sender: ["carrierx"], recipient: ["B"], at: jan31, reference: "R1")
        }
        #expect(e.bytes.isEmpty)
    }

    @Test("UNOC writes Latin-1 bytes")
    func latin1() throws {
        var w = EDIFACTWriter(syntaxIdentifier: .UNOC)
        try w.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "R1")
        try w.beginMessage(reference: "1", identifier: ["X"])
        try w.segment("FTX", [["AAA"], [], [], ["Müller"]])
        #expect(Array(w.bytes.suffix(10)) == Array("+++M".utf8) + [0xFC] + Array("ller'".utf8))
    }

    @Test("calls out of order are refused")
    func outOfOrder() throws {
        var w = EDIFACTWriter()
        #expect(throws: WriterError.self) { try w.segment("BGM", [["85"]]) }
        #expect(throws: WriterError.self) { try w.endInterchange() }
        try w.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "R1")
        #expect(throws: WriterError.self) { try w.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "R2") }
        #expect(throws: WriterError.self) { try w.endMessage() }
        #expect(throws: WriterError.self) { try w.endGroup() }
        try w.beginMessage(reference: "1", identifier: ["X"])
        let error = #expect(throws: WriterError.self) { try w.segment("UNT", [["2"], ["1"]]) }
        #expect(error?.code == .invalidTag)
        #expect(throws: WriterError.self) { try w.segment("nad", [["MS"]]) }
        #expect(throws: WriterError.self) { try w.endInterchange() }
        try w.endMessage()
        // Groups and bare messages must not be mixed.
        let mixed = #expect(throws: WriterError.self) {
            try w.beginGroup(identifier: "X", sender: ["A"], recipient: ["B"], at: jan31, reference: "G1", version: ["D", "96A"])
        }
        #expect(mixed?.code == .outOfOrder)
        try w.endInterchange()
        // A second interchange may follow in the same output.
        try w.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "R2")
        try w.beginGroup(identifier: "X", sender: ["A"], recipient: ["B"], at: jan31, reference: "G1", version: ["D", "96A"])
        try w.endGroup()
        #expect(throws: WriterError.self) { try w.beginMessage(reference: "2", identifier: ["X"]) }
        try w.endInterchange()
        #expect(text(w.bytes).hasSuffix("UNZ+1+R1'UNB+UNOA:3+A+B+250131:0930+R2'UNG+X+A+B+250131:0930+G1+UN+D:96A'UNE+0+G1'UNZ+1+R2'"))
    }

    @Test("bad envelope values, dates and delimiters are refused")
    func invalidValues() throws {
        var w = EDIFACTWriter()
        #expect(throws: WriterError.self) { try w.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "") }
        #expect(throws: WriterError.self) { try w.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "123456789012345") }
        #expect(throws: WriterError.self) { try w.beginInterchange(sender: [], recipient: ["B"], at: jan31, reference: "R1") }
        #expect(throws: WriterError.self) {
            try w.beginInterchange(sender: ["A"], recipient: ["B"], at: EDIFACTDateTime(year: 2025, month: 2, day: 29, hour: 0, minute: 0), reference: "R1")
        }
        var same = Delimiters.levelA()
        same.segment = same.element
        var bad = EDIFACTWriter(delimiters: same)
        let error = #expect(throws: WriterError.self) { try bad.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "R1") }
        #expect(error?.code == .invalidDelimiters)
        var v5 = EDIFACTWriter(syntaxVersion: 5)
        #expect(throws: WriterError.self) { try v5.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "R1") }
        #expect(w.bytes.isEmpty)
    }

    @Test("value by value writes the same bytes as segment(_:_:), and a refused value discards its segment")
    func valueByValue() throws {
        func interchange(_ body: (inout EDIFACTWriter) throws(WriterError) -> Void) throws -> [UInt8] {
            var w = EDIFACTWriter(syntaxIdentifier: .UNOC, serviceStringAdvice: true, segmentSuffix: "\n")
            try w.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "R1")
            try w.beginMessage(reference: "1", identifier: ["X"])
            try body(&w)
            try w.endMessage()
            try w.endInterchange()
            return w.bytes
        }
        let whole = try interchange { (w) throws(WriterError) in
            try w.segment("NAD", [["CZ"], ["ID", "", "ZZZ", ""], [], ["SOCIÉTÉ D'A+B"], [], [""]])
            try w.segment("FTX", [["AAA"], [], [], ["ONE", "TWO?", ""]])
            try w.segment("CNT", [[], [""]])
        }
        let byValue = try interchange { (w) throws(WriterError) in
            try w.beginSegment("NAD")
            try w.element("CZ")
            try w.element(components: ["ID", "", "ZZZ", ""])
            try w.element("")
            try w.element(components: ["SOCIÉTÉ D'A+B"])
            try w.element(components: [])
            try w.element("")
            try w.endSegment()
            try w.beginSegment("FTX")
            try w.element("AAA")
            try w.element("")
            try w.element("")
            try w.beginComposite()
            try w.component("ONE")
            try w.component("TWO?")
            try w.component("")
            try w.endSegment()
            try w.beginSegment("CNT")
            try w.endSegment()
        }
        #expect(byValue == whole)
        #expect(text(whole).contains("NAD+CZ+ID::ZZZ++SOCI"))

        var w = EDIFACTWriter(syntaxIdentifier: .UNOA)
        try w.beginInterchange(sender: ["A"], recipient: ["B"], at: jan31, reference: "R1")
        try w.beginMessage(reference: "1", identifier: ["X"])
        let before = w.bytes
        try w.beginSegment("NAD")
        try w.element("MS")
        let error = #expect(throws: WriterError.self) { try w.element("Secret") }
        #expect(error?.message == "NAD element 3: a character (U+0065) is not in the UNOA repertoire")
        #expect(w.bytes == before)
        #expect(throws: WriterError.self) { try w.endSegment() }  // the segment is gone
        try w.beginSegment("RFF")
        try w.beginComposite()
        try w.component("BM")
        let composite = #expect(throws: WriterError.self) { try w.component("b") }
        #expect(composite?.elementPosition == 2 && composite?.componentPosition == 2)
        #expect(throws: WriterError.self) { try w.beginSegment("UNT") }
        try w.endMessage()
        #expect(text(w.bytes).hasSuffix("UNH+1+X'UNT+2+1'"))
    }

    @Test("date formats by syntax version")
    func dates() {
        let d = EDIFACTDateTime(year: 2024, month: 2, day: 29, hour: 7, minute: 5)
        #expect(d.isValid)
        #expect(d.envelopeDate(syntaxVersion: 3) == "240229")
        #expect(d.envelopeDate(syntaxVersion: 4) == "20240229")
        #expect(d.hhmm == "0705")
        #expect(d.ccyymmddhhmm == "202402290705")
        #expect(!EDIFACTDateTime(year: 2100, month: 2, day: 29, hour: 0, minute: 0).isValid)
        #expect(!EDIFACTDateTime(year: 2025, month: 13, day: 1, hour: 0, minute: 0).isValid)
    }
}
