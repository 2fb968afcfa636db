import Foundation
import Testing
@testable import EDIFACT

/// Every fixture through the real streaming validator: valid ones have no finding; each negative has
/// exactly the findings its `.expect` file lists (code, segment number, byte offset, element, component).
@Suite struct FixtureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func files(_ kind: String) -> [String] {
        let dir = root.appendingPathComponent(kind)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".edi") }.sorted()
    }

    static func validate(_ bytes: [UInt8], options: ValidationOptions = .init(), chunk: Int = 4096) -> [InterchangeReport] {
        let v = EDIFACTValidator(options: options)
        var i = 0
        while i < bytes.count {
            v.feed(bytes[i..<min(i + chunk, bytes.count)])
            i += chunk
        }
        v.finish()
        return v.takeReports()
    }

    @Test func fixturesArePresent() {
        #expect(Self.files("valid").count >= 5)
        #expect(Self.files("invalid").count >= 20)
    }

    @Test(arguments: files("valid"))
    func validFixtureHasNoFinding(_ name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.root.appendingPathComponent("valid/\(name)")))
        let reports = Self.validate(bytes)
        #expect(!reports.isEmpty)
        for r in reports {
            #expect(r.allDiagnostics.isEmpty, "\(name): \(r.allDiagnostics.map(\.description).joined(separator: "\n"))")
            #expect(!r.allMessages.isEmpty)
        }
        // The same verdict whatever the chunking (a segment split across chunks is resumed, not rescanned).
        for chunk in [1, 7, 64] {
            #expect(Self.validate(bytes, chunk: chunk) == reports, "\(name) chunk \(chunk)")
        }
    }

    @Test(arguments: files("invalid"))
    func negativeFixtureHasExactlyTheExpectedFindings(_ name: String) throws {
        let base = Self.root.appendingPathComponent("invalid/\(name)")
        let bytes = try [UInt8](Data(contentsOf: base))
        let expectText = try String(contentsOf: base.deletingPathExtension().appendingPathExtension("expect"), encoding: .utf8)
        var options = ValidationOptions()
        var expected: [String] = []
        for line in expectText.split(separator: "\n") {
            if line.hasPrefix("# options:") {
                if line.contains("strict-release") { options.strictReleaseCharacter = true }
                continue
            }
            expected.append(String(line))
        }
        let reports = Self.validate(bytes, options: options)
        let found = reports.flatMap(\.allDiagnostics).map {
            "\($0.code.rawValue) \($0.location.segmentNumber) \($0.location.byteOffset) \($0.location.elementPosition) \($0.location.componentPosition)"
        }
        #expect(found.sorted() == expected.sorted(),
                "\(name): \(reports.flatMap(\.allDiagnostics).map(\.description).joined(separator: "\n"))")
        #expect(Self.validate(bytes, options: options, chunk: 1) == reports, "\(name): byte-by-byte feeding differs")
    }
}
