import EDIFACT
import Foundation
import Testing

/// An independent reading of what we write: pydifact (PyPI, installed by scripts/setup-test-deps.sh) through
/// scripts/pydifact-dump.py, compared with our own reader segment by segment, value by value, and the UNT
/// and UNZ counts against the segments and messages pydifact finds.
enum Pydifact {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/pydifact-dump.py")

    static func expectSameReading(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pydifact-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("out.edi")
        try Data(bytes).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, file.path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0,
                     "pydifact-dump.py failed (run scripts/setup-test-deps.sh for pydifact): \(String(decoding: errors, as: UTF8.self))",
                     sourceLocation: sourceLocation)
        struct Segment: Decodable { var tag: String; var elements: [[String]] }
        let theirs = try JSONDecoder().decode([Segment].self, from: data).filter { $0.tag != "UNA" }

        // Ours: the tags and values our own reader sees.
        let reader = EDIFACTReader()
        reader.feed(bytes)
        reader.finish()
        var ours: [(String, [String])] = []
        loop: while true {
            switch reader.next() {
            case .startSegment(let tag):
                let view = reader.segment!
                ours.append((tag.description, view.tokens.dropFirst().map { reader.string($0) }))
            case .endOfInput, .needInput: break loop
            default: continue
            }
        }
        #expect(theirs.map(\.tag) == ours.map(\.0), sourceLocation: sourceLocation)
        // Values: pydifact drops trailing empty components; compare the non-empty values in order.
        for (t, o) in zip(theirs, ours) {
            let theirValues = t.elements.flatMap { $0 }.filter { !$0.isEmpty }
            let ourValues = o.1.filter { !$0.isEmpty }
            #expect(theirValues == ourValues, "\(t.tag): \(theirValues) vs \(ourValues)", sourceLocation: sourceLocation)
        }
        // Counts: UNT's count is the number of segments pydifact finds in each message; UNZ's the messages.
        var count = 0
        for segment in theirs {
            if segment.tag == "UNH" { count = 0 }
            count += 1
            if segment.tag == "UNT" { #expect(segment.elements.first == [String(count)], sourceLocation: sourceLocation) }
        }
        #expect(theirs.last?.elements.first == [String(theirs.filter { $0.tag == "UNH" }.count)], sourceLocation: sourceLocation)
    }
}
