import Testing
@testable import EDIFACT

/// The builder's output as text, so expectations read like the examples in the notes.
private func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

private let us = ["SWGATEWAY", "ZZZ"]
private let carrier = ["CARRIERX", "ZZZ"]
private let cuscar = ["CUSCAR", "D", "95B", "UN"]
/// One line per segment, exactly as notes §2.6 prints them.
private let lines = ContrlOptions(segmentSuffix: "\n")

private func at(_ hour: Int, _ minute: Int) -> EDIFACTDateTime {
    EDIFACTDateTime(year: 2025, month: 1, day: 31, hour: hour, minute: minute)
}

/// A finding as the validator would report it; only the fields CONTRL reads matter here.
private func finding(_ code: Int, _ level: DiagnosticLevel, tag: String, position: Int = 0, element: Int = 0, component: Int = 0,
                     repetition: Int = 0) -> Diagnostic {
    Diagnostic(code: SyntaxErrorCode(rawValue: code), level: level,
               location: Location(byteOffset: 0, segmentNumber: 0, segmentPositionInMessage: position, segmentTag: tag,
                                  elementPosition: element, componentPosition: component, repetition: repetition),
               reason: "test")
}

private func message(_ reference: String, _ diagnostics: [Diagnostic] = [], identifier: [String] = cuscar) -> MessageReport {
    MessageReport(reference: reference, identifier: identifier, segmentCount: 30, byteOffset: 0, segmentNumber: 2, diagnostics: diagnostics)
}

private func subject(_ reference: String, sender: [String] = carrier, syntax: String = "UNOC", version: Int = 3,
                     diagnostics: [Diagnostic] = [], groups: [GroupReport] = [], messages: [MessageReport] = []) -> InterchangeReport {
    InterchangeReport(syntaxIdentifier: syntax, syntaxVersion: version, sender: sender, recipient: us, reference: reference,
                      acknowledgementRequest: "1", delimiters: .levelA(syntaxVersion: version), diagnostics: diagnostics,
                      groups: groups, messages: messages)
}

@Suite("CONTRL builder")
struct ContrlTests {
    @Test("notes §2.6 example 1: positive acknowledgement")
    func accepted() {
        let s = subject("CUS000123", messages: [message("M0001"), message("M0002")])
        #expect(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK000987", at: at(9, 31), options: lines)) == """
            UNB+UNOC:3+SWGATEWAY:ZZZ+CARRIERX:ZZZ+250131:0931+ACK000987'
            UNH+1+CONTRL:D:3:UN'
            UCI+CUS000123+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'
            UNT+3+1'
            UNZ+1+ACK000987'

            """)
        // Without a suffix it is the same interchange on one line.
        #expect(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK000987", at: at(9, 31)))
            == "UNB+UNOC:3+SWGATEWAY:ZZZ+CARRIERX:ZZZ+250131:0931+ACK000987'UNH+1+CONTRL:D:3:UN'"
            + "UCI+CUS000123+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'UNT+3+1'UNZ+1+ACK000987'")
    }

    @Test("notes §2.6 example 2: two messages rejected, one on UCM, one with UCS/UCD")
    func messagesRejected() {
        let s = subject("CUS000124", messages: [
            message("M0001", [finding(29, .message, tag: "UNT", position: 31, element: 2)]),
            message("M0002", [
                finding(12, .element, tag: "DTM", position: 3, element: 2, component: 2),
                finding(13, .segment, tag: "EQD", position: 20),
            ]),
            message("M0003"),
        ])
        #expect(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK000988", at: at(9, 31), options: lines)) == """
            UNB+UNOC:3+SWGATEWAY:ZZZ+CARRIERX:ZZZ+250131:0931+ACK000988'
            UNH+1+CONTRL:D:3:UN'
            UCI+CUS000124+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'
            UCM+M0001+CUSCAR:D:95B:UN+4+29+UNT+2'
            UCM+M0002+CUSCAR:D:95B:UN+4'
            UCS+3'
            UCD+12+2:2'
            UCS+20+13'
            UNT+8+1'
            UNZ+1+ACK000988'

            """)
    }

    @Test("notes §2.6 example 3: interchange rejected, unknown sender")
    func interchangeRejected() {
        let s = subject("CUS000999", sender: ["UNKNOWNX"], diagnostics: [finding(23, .interchange, tag: "UNB", element: 3)],
                        messages: [message("M0001")])
        #expect(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK000989", at: at(9, 32), options: lines)) == """
            UNB+UNOC:3+SWGATEWAY:ZZZ+UNKNOWNX+250131:0932+ACK000989'
            UNH+1+CONTRL:D:3:UN'
            UCI+CUS000999+UNKNOWNX+SWGATEWAY:ZZZ+4+23+UNB+3'
            UNT+3+1'
            UNZ+1+ACK000989'

            """)
    }

    @Test("notes §2.6 example 4: group rejected for a wrong UNE count")
    func groupRejected() {
        let g = GroupReport(reference: "G01", groupIdentifier: "CUSCAR", sender: carrier, recipient: us, byteOffset: 0, segmentNumber: 2,
                            diagnostics: [finding(29, .group, tag: "UNE", element: 2)], messages: [message("M0001"), message("M0002")])
        let s = subject("CUS000125", groups: [g])
        #expect(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK000990", at: at(9, 33), options: lines)) == """
            UNB+UNOC:3+SWGATEWAY:ZZZ+CARRIERX:ZZZ+250131:0933+ACK000990'
            UNH+1+CONTRL:D:3:UN'
            UCI+CUS000125+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'
            UCF+G01+CARRIERX:ZZZ+SWGATEWAY:ZZZ+4+29+UNE+2'
            UNT+4+1'
            UNZ+1+ACK000990'

            """)
    }

    @Test("grouped subject: a rejected message is reported under UCF+7, not as a top-level UCM")
    func groupedMessageRejected() {
        let g1 = GroupReport(reference: "G01", groupIdentifier: "CUSCAR", sender: carrier, recipient: us, byteOffset: 0, segmentNumber: 2,
                             messages: [message("M0001")])
        let g2 = GroupReport(reference: "G02", groupIdentifier: "CUSCAR", sender: carrier, recipient: us, byteOffset: 0, segmentNumber: 9,
                             messages: [message("M0002"), message("M0003", [finding(28, .message, tag: "UNT", position: 12, element: 3)])])
        let s = subject("CUS000126", groups: [g1, g2])
        #expect(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK000991", at: at(9, 34), options: lines)) == """
            UNB+UNOC:3+SWGATEWAY:ZZZ+CARRIERX:ZZZ+250131:0934+ACK000991'
            UNH+1+CONTRL:D:3:UN'
            UCI+CUS000126+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'
            UCF+G02+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'
            UCM+M0003+CUSCAR:D:95B:UN+4+28+UNT+3'
            UNT+5+1'
            UNZ+1+ACK000991'

            """)
        // Listing accepted ones too: every group and message, the rejected one with 4.
        let all = ContrlOptions(reportAcceptedMessages: true)
        #expect(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK000991", at: at(9, 34), options: all))
            == "UNB+UNOC:3+SWGATEWAY:ZZZ+CARRIERX:ZZZ+250131:0934+ACK000991'UNH+1+CONTRL:D:3:UN'"
            + "UCI+CUS000126+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'"
            + "UCF+G01+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'UCM+M0001+CUSCAR:D:95B:UN+7'"
            + "UCF+G02+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'UCM+M0002+CUSCAR:D:95B:UN+7'UCM+M0003+CUSCAR:D:95B:UN+4+28+UNT+3'"
            + "UNT+8+1'UNZ+1+ACK000991'")
    }

    @Test("reportAcceptedMessages lists clean bare messages with 7")
    func reportAccepted() {
        let s = subject("CUS000127", messages: [message("M0001"), message("M0002", [finding(39, .element, tag: "BGM", position: 2, element: 3)])])
        #expect(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK1", at: at(9, 35),
                                          options: ContrlOptions(reportAcceptedMessages: true)))
            == "UNB+UNOC:3+SWGATEWAY:ZZZ+CARRIERX:ZZZ+250131:0935+ACK1'UNH+1+CONTRL:D:3:UN'"
            + "UCI+CUS000127+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'UCM+M0001+CUSCAR:D:95B:UN+7'"
            + "UCM+M0002+CUSCAR:D:95B:UN+4'UCS+2'UCD+39+3'UNT+7+1'UNZ+1+ACK1'")
    }

    @Test("never a CONTRL in reply to a CONTRL")
    func noContrlForContrl() throws {
        let s = subject("CUS000128", messages: [message("1", [finding(29, .message, tag: "UNT", position: 3, element: 2)],
                                                        identifier: ["CONTRL", "D", "3", "UN"])])
        #expect(s.isControlInterchange)
        #expect(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK1", at: at(9, 36)) == nil)
        #expect(try ContrlBuilder.makeContrl(for: s, ourIdentity: us, reference: "ACK1", at: at(9, 36)) == nil)
    }

    @Test("receipt only: UCI+8 and nothing else, whatever was found")
    func receiptOnly() {
        let s = subject("CUS000129", diagnostics: [finding(29, .interchange, tag: "UNZ", element: 2)],
                        messages: [message("M0001", [finding(12, .element, tag: "DTM", position: 3, element: 2, component: 2)])])
        #expect(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK2", at: at(9, 37), options: ContrlOptions(receiptOnly: true)))
            == "UNB+UNOC:3+SWGATEWAY:ZZZ+CARRIERX:ZZZ+250131:0937+ACK2'UNH+1+CONTRL:D:3:UN'"
            + "UCI+CUS000129+CARRIERX:ZZZ+SWGATEWAY:ZZZ+8'UNT+3+1'UNZ+1+ACK2'")
    }

    @Test("syntax version 4: CONTRL:4:1:UN, CCYYMMDD, occurrence in S011")
    func version4() {
        let s = subject("CUS000130", version: 4, messages: [
            message("M0001", [finding(12, .element, tag: "DTM", position: 4, element: 2, component: 1, repetition: 3)],
                    identifier: ["CUSCAR", "D", "00B", "UN"]),
        ])
        #expect(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK3", at: at(9, 38)))
            == "UNB+UNOC:4+SWGATEWAY:ZZZ+CARRIERX:ZZZ+20250131:0938+ACK3'UNH+1+CONTRL:4:1:UN'"
            + "UCI+CUS000130+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'UCM+M0001+CUSCAR:D:00B:UN+4'UCS+4'UCD+12+2:1:3'UNT+6+1'UNZ+1+ACK3'")
        // Below version 4 there is no 0136: the occurrence is left out.
        var v3 = s
        v3.syntaxVersion = 3
        v3.delimiters = .levelA()
        #expect(text(ContrlBuilder.contrl(for: v3, ourIdentity: us, reference: "ACK3", at: at(9, 38)))?.contains("UCD+12+2:1'") == true)
    }

    @Test("unreadable syntax identifier: the reply falls back to UNOA:3")
    func unreadableSyntax() {
        var s = subject("CUS000131", syntax: "XXXX", version: 0, diagnostics: [finding(2, .interchange, tag: "UNB", element: 2, component: 1)])
        s.delimiters = .levelA()
        #expect(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK4", at: at(9, 39)))
            == "UNB+UNOA:3+SWGATEWAY:ZZZ+CARRIERX:ZZZ+250131:0939+ACK4'UNH+1+CONTRL:D:3:UN'"
            + "UCI+CUS000131+CARRIERX:ZZZ+SWGATEWAY:ZZZ+4+2+UNB+2:1'UNT+3+1'UNZ+1+ACK4'")
    }

    @Test("a finding about a data segment on UCI keeps its code but no tag: 0013 is a service segment tag")
    func nonServiceTagOnUCI() {
        let s = subject("CUS000132", diagnostics: [finding(33, .interchange, tag: "DTM", element: 2)])
        #expect(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK5", at: at(9, 40)))?
            .contains("UCI+CUS000132+CARRIERX:ZZZ+SWGATEWAY:ZZZ+4+33'") == true)
    }

    @Test("a lower-case sender in a UNOA subject: the reply widens to UNOC rather than fail")
    func widensRepertoire() throws {
        let s = subject("CUS000133", sender: ["carrierx", "ZZZ"], syntax: "UNOA",
                        diagnostics: [finding(21, .interchange, tag: "UNB", element: 3, component: 1)])
        #expect(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK6", at: at(9, 41)))
            == "UNB+UNOC:3+SWGATEWAY:ZZZ+carrierx:ZZZ+250131:0941+ACK6'UNH+1+CONTRL:D:3:UN'"
            + "UCI+CUS000133+carrierx:ZZZ+SWGATEWAY:ZZZ+4+21+UNB+3:1'UNT+3+1'UNZ+1+ACK6'")
        // Our own bad reference is not papered over: makeContrl says why, contrl gives nil.
        #expect(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "", at: at(9, 41)) == nil)
        #expect(throws: WriterError.self) { try ContrlBuilder.makeContrl(for: s, ourIdentity: us, reference: "", at: at(9, 41)) }
    }

    @Test("the subject's delimiters and UNA are mirrored")
    func mirrorsDelimiters() {
        var levelB = subject("CUS000134", syntax: "UNOB")
        levelB.delimiters = .levelB
        #expect(ContrlBuilder.contrl(for: levelB, ourIdentity: ["us"], reference: "ACK7", at: at(9, 42))
            == Array("UNB\u{1D}UNOB\u{1F}3\u{1D}us\u{1D}CARRIERX\u{1F}ZZZ\u{1D}250131\u{1F}0942\u{1D}ACK7\u{1C}".utf8)
            + Array("UNH\u{1D}1\u{1D}CONTRL\u{1F}D\u{1F}3\u{1F}UN\u{1C}".utf8)
            + Array("UCI\u{1D}CUS000134\u{1D}CARRIERX\u{1F}ZZZ\u{1D}SWGATEWAY\u{1F}ZZZ\u{1D}7\u{1C}".utf8)
            + Array("UNT\u{1D}3\u{1D}1\u{1C}UNZ\u{1D}1\u{1D}ACK7\u{1C}".utf8))

        var custom = subject("CUS000135")
        custom.delimiters = Delimiters(component: UInt8(ascii: ">"), element: UInt8(ascii: "*"), decimalMark: UInt8(ascii: ","),
                                       release: UInt8(ascii: "!"), repetition: nil, segment: UInt8(ascii: "~"))
        #expect(text(ContrlBuilder.contrl(for: custom, ourIdentity: us, reference: "ACK8", at: at(9, 43)))
            == "UNA>*,! ~UNB*UNOC>3*SWGATEWAY>ZZZ*CARRIERX>ZZZ*250131>0943*ACK8~UNH*1*CONTRL>D>3>UN~"
            + "UCI*CUS000135*CARRIERX>ZZZ*SWGATEWAY>ZZZ*7~UNT*3*1~UNZ*1*ACK8~")

        var announced = subject("CUS000136")
        announced.hadServiceStringAdvice = true
        #expect(text(ContrlBuilder.contrl(for: announced, ourIdentity: us, reference: "ACK9", at: at(9, 44)))?.hasPrefix("UNA:+.? 'UNB+UNOC:3+") == true)
    }

    @Test("several findings in one message: grouped by position, extra message-level ones as UCS/UCD")
    func manyFindings() {
        let m = message("M0001", [
            finding(29, .message, tag: "UNT", position: 40, element: 2),
            finding(28, .message, tag: "UNT", position: 40, element: 3),
            finding(37, .element, tag: "MEA", position: 17, element: 4, component: 3),
            finding(35, .segment, tag: "LOC", position: 9),
            finding(39, .element, tag: "MEA", position: 17, element: 2),
            finding(15, .segment, tag: "LOC", position: 9),
            finding(39, .element, tag: "MEA", position: 17, element: 2),
        ])
        let s = subject("CUS000137", messages: [m])
        #expect(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK10", at: at(9, 45)))
            == "UNB+UNOC:3+SWGATEWAY:ZZZ+CARRIERX:ZZZ+250131:0945+ACK10'UNH+1+CONTRL:D:3:UN'"
            + "UCI+CUS000137+CARRIERX:ZZZ+SWGATEWAY:ZZZ+7'UCM+M0001+CUSCAR:D:95B:UN+4+29+UNT+2'"
            + "UCS+9+35'UCS+9+15'UCS+17'UCD+37+4:3'UCD+39+2'UCS+40'UCD+28+3'UNT+11+1'UNZ+1+ACK10'")
    }

    @Test("at most 99 UCD per UCS and 999 UCS per message")
    func limits() throws {
        let manyElements = (1...150).map { finding(12, .element, tag: "FTX", position: 5, element: 2, component: $0) }
        let manySegments = (1...1200).map { finding(13, .segment, tag: "LOC", position: 5 + $0) }
        let s = subject("CUS000138", messages: [message("M0001", manyElements + manySegments)])
        let out = try #require(text(ContrlBuilder.contrl(for: s, ourIdentity: us, reference: "ACK11", at: at(9, 46), options: lines)))
        let segments = out.split(separator: "\n")
        #expect(segments.filter { $0.hasPrefix("UCD+") }.count == 99)
        #expect(segments.filter { $0.hasPrefix("UCS+") }.count == 999)
        #expect(segments.last == "UNZ+1+ACK11'")
        // UNT counts UNH, UCI, UCM, 999 UCS, 99 UCD and itself.
        let count: Int = 1 + 1 + 1 + 999 + 99 + 1
        #expect(segments.dropLast().last == Substring("UNT+\(count)+1'"))
    }
    @Test("a reference or sender holding characters no repertoire here has (NUL) is echoed with '?': the interchange is still answered")
    func substitutes() throws {
        let s = subject("NUL\u{0}REF", sender: ["CARRIER\u{0}X", "ZZZ"],
                        diagnostics: [finding(21, .interchange, tag: "UNB")])
        let out = try #require(text(ContrlBuilder.makeContrl(for: s, ourIdentity: us, reference: "ACK1", at: at(9, 31))))
        #expect(out.contains("UNB+UNOC:3+SWGATEWAY:ZZZ+CARRIER??X:ZZZ+250131:0931+ACK1'"), "\(out)")
        #expect(out.contains("UCI+NUL??REF+CARRIER??X:ZZZ+SWGATEWAY:ZZZ+4+21+UNB'"), "\(out)")
    }
}
