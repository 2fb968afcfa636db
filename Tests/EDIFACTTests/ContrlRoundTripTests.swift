import Foundation
import Testing
@testable import EDIFACT

/// The receipts the gateway sends must themselves be valid: every fixture's CONTRL, read back by our
/// own validator (CONTRL structure from the service directory), has no finding, says accepted or
/// rejected as the subject was, and is never answered with a CONTRL in turn.
@Suite struct ContrlRoundTripTests {
    static let at = EDIFACTDateTime(year: 2025, month: 1, day: 31, hour: 9, minute: 31)

    static var fixtures: [String] { FixtureTests.files("valid").map { "valid/\($0)" } + FixtureTests.files("invalid").map { "invalid/\($0)" } }

    /// The segments of an interchange as tag → elements (each element its components), via the pull reader.
    static func segments(_ bytes: [UInt8]) -> [(tag: String, elements: [[String]])] {
        let r = EDIFACTReader()
        r.feed(bytes)
        r.finish()
        var out: [(tag: String, elements: [[String]])] = []
        while true {
            switch r.next() {
            case .startSegment(let tag): out.append((tag.description, []))
            case .element(let t): out[out.count - 1].elements.append([r.string(t)])
            case .startComposite: out[out.count - 1].elements.append([])
            case .component(let t): out[out.count - 1].elements[out[out.count - 1].elements.count - 1].append(r.string(t))
            case .endOfInput, .needInput: return out
            default: break
            }
        }
    }

    @Test(arguments: fixtures)
    func contrlForFixtureIsValidAndNotAnsweredAgain(_ path: String) throws {
        let bytes = try [UInt8](Data(contentsOf: FixtureTests.root.appendingPathComponent(path)))
        for subject in EDIFACTValidator.validate(bytes) {
            let contrl = ContrlBuilder.contrl(for: subject, ourIdentity: ["SWGATEWAY", "ZZZ"], reference: "ACK1", at: Self.at)
            if subject.isControlInterchange || subject.sender.isEmpty {
                // Never a CONTRL for a CONTRL; and an unreadable header names no one to answer
                // (the intake pipeline answers those with the partner it knows from the drop directory).
                #expect(contrl == nil, "\(path)")
                continue
            }
            let reply = try #require(contrl, "\(path): no CONTRL built")
            let reports = EDIFACTValidator.validate(reply)
            #expect(reports.count == 1)
            #expect(reports.first?.allDiagnostics.isEmpty == true,
                    "\(path): CONTRL has findings \(reports.first?.allDiagnostics.map(\.description) ?? [])\n\(String(decoding: reply, as: UTF8.self))")
            #expect(reports.first?.isControlInterchange == true)
            #expect(ContrlBuilder.contrl(for: reports[0], ourIdentity: ["SWGATEWAY"], reference: "ACK2", at: Self.at) == nil)

            let segs = Self.segments(reply)
            let uci = try #require(segs.first { $0.tag == "UCI" })
            #expect(uci.elements.first == [String(subject.reference.prefix(14))], "\(path): UCI copies the subject reference (cut to an..14)")
            #expect(uci.elements.count > 3 && uci.elements[1] == subject.sender, "\(path): UCI copies the subject sender")
            let actions = segs.filter { ["UCI", "UCF", "UCM"].contains($0.tag) }.map { seg in
                seg.elements[seg.tag == "UCM" ? 2 : 3].first ?? ""
            }
            if subject.isAccepted {
                #expect(actions == ["7"], "\(path)")
            } else {
                #expect(actions.contains("4"), "\(path): a rejected subject gets action 4 somewhere: \(actions)")
            }
        }
    }
}
