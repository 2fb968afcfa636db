import Foundation
import Testing
@testable import EDIFACT

/// The builder's output as text, so expectations read like the example in the notes.
private func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

private let us = ["SWGATEWAY", "ZZZ"]
private let sent = EDIFACTDateTime(year: 2025, month: 1, day: 31, hour: 9, minute: 30)
private let now = EDIFACTDateTime(year: 2025, month: 1, day: 31, hour: 9, minute: 45)

private func subject(_ messages: [MessageReport], hadUNA: Bool = true) -> InterchangeReport {
    InterchangeReport(syntaxIdentifier: "UNOC", syntaxVersion: 3, sender: ["CARRIERX", "ZZZ"], recipient: us, reference: "CUS000123",
                      applicationReference: "CUSCAR", delimiters: .levelA(), hadServiceStringAdvice: hadUNA, messages: messages)
}

private let m0001 = MessageReport(reference: "M0001", identifier: ["CUSCAR", "D", "95B", "UN"], segmentCount: 40, byteOffset: 70, segmentNumber: 2)

@Suite("APERAK builder")
struct AperakTests {
    @Test("notes §3 example: CUSCAR M0001 rejected for two business errors")
    func notesExample() {
        let errors = [
            ApplicationError(code: "E104", text: "UNKNOWN PORT OF LOADING CODE XXABC", reference: (qualifier: "BM", value: "MEDUSH123456")),
            ApplicationError(code: "E221", text: "GROSS WEIGHT OF GOODS EXCEEDS CONTAINER WEIGHT", reference: (qualifier: "AAQ", value: "MSCU1234566")),
        ]
        let out = AperakBuilder.aperak(for: subject([m0001]), message: m0001, errors: errors, ourIdentity: us, reference: "APK000311",
                                       messageReference: "A0001", documentNumber: "APK0001", at: now, messageDate: sent,
                                       options: AperakOptions(segmentSuffix: "\n"))
        #expect(text(out) == """
            UNA:+.? '
            UNB+UNOC:3+SWGATEWAY:ZZZ+CARRIERX:ZZZ+250131:0945+APK000311'
            UNH+A0001+APERAK:D:96A:UN'
            BGM+963+APK0001+27'
            DTM+137:202501310945:203'
            RFF+ACW:M0001'
            DTM+171:202501310930:203'
            NAD+MS+SWGATEWAY::ZZZ'
            NAD+MR+CARRIERX::ZZZ'
            ERC+E104'
            FTX+AAO+++UNKNOWN PORT OF LOADING CODE XXABC'
            RFF+BM:MEDUSH123456'
            ERC+E221'
            FTX+AAO+++GROSS WEIGHT OF GOODS EXCEEDS CONTAINER WEIGHT'
            RFF+AAQ:MSCU1234566'
            UNT+14+A0001'
            UNZ+1+APK000311'

            """)
    }

    @Test("accepted: 1225 = 29, no ERC; without a known message date, no DTM+171; document code configurable")
    func accepted() {
        let out = AperakBuilder.aperak(for: subject([m0001], hadUNA: false), message: m0001, errors: [], ourIdentity: us,
                                       reference: "APK000312", documentNumber: "APK0002", at: now,
                                       options: AperakOptions(documentCode: "312"))
        #expect(text(out) == "UNB+UNOC:3+SWGATEWAY:ZZZ+CARRIERX:ZZZ+250131:0945+APK000312'UNH+1+APERAK:D:96A:UN'"
            + "BGM+312+APK0002+29'DTM+137:202501310945:203'RFF+ACW:M0001'NAD+MS+SWGATEWAY::ZZZ'NAD+MR+CARRIERX::ZZZ'"
            + "UNT+7+1'UNZ+1+APK000312'")
    }

    @Test("long text is cut into 70-character FTX components, at most five; service characters released")
    func longText() throws {
        let text70 = String(repeating: "A", count: 69) + "+"
        let long = text70 + String(repeating: "B", count: 70) + String(repeating: "C", count: 70) + String(repeating: "D", count: 70)
            + String(repeating: "E", count: 70) + "DROPPED"
        let errors = [ApplicationError(code: "E1", text: long), ApplicationError(code: "E2", text: "")]
        let out = try #require(text(AperakBuilder.aperak(for: subject([m0001], hadUNA: false), message: m0001, errors: errors, ourIdentity: us,
                                                         reference: "APK3", documentNumber: "APK3", at: now)))
        let expected = "ERC+E1'FTX+AAO+++" + String(repeating: "A", count: 69) + "?+:" + String(repeating: "B", count: 70) + ":"
            + String(repeating: "C", count: 70) + ":" + String(repeating: "D", count: 70) + ":" + String(repeating: "E", count: 70) + "'ERC+E2'UNT+"
        #expect(out.contains(expected))
        #expect(!out.contains("DROPPED"))
        #expect(AperakBuilder.textLines("SHORT") == ["SHORT"])
        #expect(AperakBuilder.textLines("") == [])
        #expect(AperakBuilder.textLines(String(repeating: "X", count: 140)).count == 2)
        // Words stay whole: a line breaks after its last space (in its second half), which it keeps, so the
        // lines put back together are the text exactly.
        let words = String(repeating: "word ", count: 30)  // 150 characters
        let lines = AperakBuilder.textLines(words)
        #expect(lines.allSatisfy { $0.count <= 70 && !$0.hasPrefix(" ") }, "\(lines)")
        #expect(lines.joined() == words, "\(lines)")
        #expect(lines.first == String(repeating: "word ", count: 14))
    }

    @Test("never an APERAK in reply to an APERAK or a CONTRL")
    func noReceiptForReceipts() {
        let aperak = MessageReport(reference: "A1", identifier: ["APERAK", "D", "96A", "UN"], byteOffset: 0, segmentNumber: 2)
        let contrl = MessageReport(reference: "C1", identifier: ["CONTRL", "D", "3", "UN"], byteOffset: 0, segmentNumber: 2)
        let error = [ApplicationError(code: "E1", text: "X")]
        for m in [aperak, contrl] {
            #expect(AperakBuilder.aperak(for: subject([m]), message: m, errors: error, ourIdentity: us, reference: "R",
                                         documentNumber: "D", at: now) == nil)
        }
        // A receipt-only interchange is not answered even about a message we were handed by mistake.
        #expect(AperakBuilder.aperak(for: subject([aperak, contrl]), message: m0001, errors: error, ourIdentity: us, reference: "R",
                                     documentNumber: "D", at: now) == nil)
    }

    @Test("an error code longer than an..8 is refused")
    func codeTooLong() {
        let errors = [ApplicationError(code: "E123456789", text: "X")]
        #expect(AperakBuilder.aperak(for: subject([m0001]), message: m0001, errors: errors, ourIdentity: us, reference: "R",
                                     documentNumber: "D", at: now) == nil)
        let error = #expect(throws: WriterError.self) {
            try AperakBuilder.makeAperak(for: subject([m0001]), message: m0001, errors: errors, ourIdentity: us, reference: "R",
                                         documentNumber: "D", at: now)
        }
        #expect(error?.segmentTag == "ERC")
    }

    @Test("UNOA partner, lower-case text: the reply widens to UNOC rather than fail")
    func widens() throws {
        var s = subject([m0001], hadUNA: false)
        s.syntaxIdentifier = "UNOA"
        let out = try #require(text(AperakBuilder.aperak(for: s, message: m0001, errors: [ApplicationError(code: "E9", text: "Unknown port")],
                                                         ourIdentity: us, reference: "R", documentNumber: "D", at: now)))
        #expect(out.hasPrefix("UNB+UNOC:3+"))
        #expect(out.contains("FTX+AAO+++Unknown port'"))
        let upper = try #require(text(AperakBuilder.aperak(for: s, message: m0001, errors: [ApplicationError(code: "E9", text: "UNKNOWN PORT")],
                                                           ourIdentity: us, reference: "R", documentNumber: "D", at: now)))
        #expect(upper.hasPrefix("UNB+UNOA:3+"))
    }
    @Test("a file name or text the repertoire cannot hold even widened (another script, U+2026) is written with '?': answered, not dropped")
    func substitutes() throws {
        let out = try #require(text(AperakBuilder.fileAperak(
            fileName: "舱单.edi", errors: [ApplicationError(code: "SWG-ARCH", text: "member 舱单…: refused")], ourIdentity: us,
            recipient: ["CARRIERX", "ZZZ"], syntax: .UNOA, reference: "R", documentNumber: "D", at: now)))
        #expect(out.hasPrefix("UNB+UNOC:3+"), "\(out)")
        #expect(out.contains("RFF+ACE:????.edi'") && out.contains("member ???????: refused"), "\(out)")
    }
}
