import Testing
@testable import EDIFACT

@Suite struct ReaderSmokeTests {
    static let cuscar = """
    UNA:+.? '
    UNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+250131:0930+CUS000123++CUSCAR'
    UNH+M0001+CUSCAR:D:95B:UN'
    BGM+85+MAN2025-0042+9'
    FTX+AAA+++COTTON T-SHIRTS?, KNITTED'
    UNT+4+M0001'
    UNZ+1+CUS000123'
    """

    @Test func cleanInterchangeHasNoFindings() {
        let reports = EDIFACTValidator.validate(Array(Self.cuscar.utf8))
        #expect(reports.count == 1)
        #expect(reports[0].allDiagnostics.isEmpty, "\(reports[0].allDiagnostics)")
        #expect(reports[0].reference == "CUS000123")
        #expect(reports[0].sender == ["CARRIERX", "ZZZ"])
        #expect(reports[0].messages.map(\.reference) == ["M0001"])
        #expect(reports[0].messages[0].segmentCount == 4)
    }

    @Test func byteByByteFeedingGivesTheSameReport() {
        let bytes = Array(Self.cuscar.utf8)
        let v = EDIFACTValidator()
        for b in bytes { v.feed([b]) }
        v.finish()
        #expect(v.takeReports() == EDIFACTValidator.validate(bytes))
    }

    @Test func events() {
        let r = EDIFACTReader()
        r.feed(Array(Self.cuscar.utf8))
        r.finish()
        var values: [String] = []
        var kinds: [String] = []
        loop: while true {
            let e = r.next()
            switch e {
            case .endOfInput: break loop
            case .needInput: Issue.record("needInput after finish"); break loop
            case .element(let t), .component(let t): values.append(r.string(t))
            case .startSegment(let tag): kinds.append(tag.description)
            case .diagnostic(let d): Issue.record("unexpected \(d)")
            default: break
            }
        }
        #expect(kinds == ["UNB", "UNH", "BGM", "FTX", "UNT", "UNZ"])
        #expect(values.contains("COTTON T-SHIRTS, KNITTED"))
    }
}
