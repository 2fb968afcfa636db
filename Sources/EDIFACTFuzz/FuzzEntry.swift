// libFuzzer target for the EDIFACT reader and validator, and a replay tool for the inputs it finds.
//
// Fuzz build (see scripts/fuzz.sh):
//   swift build --product EDIFACTFuzz --sanitize=fuzzer --sanitize=address -Xswiftc -parse-as-library \
//     -Xswiftc -DEDIFACT_LIBFUZZER --scratch-path .build-fuzz
// libFuzzer then brings its own `main`, so ours is compiled only without EDIFACT_LIBFUZZER.
// A plain `swift build` makes the replay tool: `EDIFACTFuzz FILE|DIR...` runs every file through the
// same checks and exits non-zero on the first broken invariant, so a crash artifact can be replayed
// (and debugged) without the sanitizer build.
//
// The whole input is the EDIFACT byte stream (so fixtures are seeds as they are); its first byte
// also seeds the chunk plan, so mutating it explores how segments are split across `feed` calls.
import EDIFACT

/// Runs one input through every check; traps (a crash to libFuzzer) when an invariant breaks.
@_cdecl("LLVMFuzzerTestOneInput")
public func edifactFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: size > 0 ? UnsafeRawPointer(data) : nil, count: size)
    FuzzChecks.run(input)
    return 0
}

/// The invariants the reader and validator must keep on any input whatsoever.
enum FuzzChecks {
    /// Above this size, byte-by-byte feeding is skipped: every feed compacts the buffer, so it is quadratic.
    static let byteByByteLimit = 1024

    static func run(_ input: UnsafeRawBufferPointer) {
        let whole = validate(input, plan: nil)
        let planned = validate(input, plan: ChunkPlan(seed: input.first ?? 0))
        check(planned == whole, "validator reports differ between one feed and chunked feeding (plan from byte \(input.first ?? 0))")
        if input.count <= byteByByteLimit {
            let single = validate(input, plan: ChunkPlan(fixed: 1))
            check(single == whole, "validator reports differ between one feed and byte-by-byte feeding")
        }
        checkOffsets(whole, inputCount: input.count)

        let (events, readerReports, readerSegments) = read(input, plan: nil)
        let (chunkedEvents, _, _) = read(input, plan: ChunkPlan(seed: (input.first ?? 0) &+ 1))
        check(events == chunkedEvents, "reader events differ between one feed and chunked feeding")
        check(readerReports == whole.reports, "the reader's reports differ from the validator's")
        check(readerSegments == whole.segmentCount, "the reader saw \(readerSegments) segments, the validator \(whole.segmentCount)")
    }

    /// Validator output for one chunking: the reports and the segment count.
    struct Outcome: Equatable {
        var reports: [InterchangeReport]
        var segmentCount: Int
    }

    static func validate(_ input: UnsafeRawBufferPointer, plan: ChunkPlan?) -> Outcome {
        let v = EDIFACTValidator()
        var reports: [InterchangeReport] = []
        if var plan {
            var i = 0
            while i < input.count {
                let n = min(plan.next(), input.count - i)
                v.feed(UnsafeRawBufferPointer(rebasing: input[i..<(i + n)]))
                i += n
                // Taking reports mid-stream must not lose or change any.
                if plan.takeNow() { reports += v.takeReports() }
            }
        } else {
            v.feed(input)
        }
        v.finish()
        reports += v.takeReports()
        check(v.takeReports().isEmpty, "takeReports returned a report twice")
        return Outcome(reports: reports, segmentCount: v.segmentCount)
    }

    static func checkOffsets(_ outcome: Outcome, inputCount n: Int) {
        func inside(_ offset: Int, _ what: @autoclosure () -> String) {
            check(offset >= 0 && offset <= n, "\(what()) byte offset \(offset) is outside the input (0...\(n))")
        }
        for r in outcome.reports {
            inside(r.byteOffset, "interchange")
            for d in r.allDiagnostics {
                inside(d.location.byteOffset, "diagnostic \(d)")
                check(d.location.segmentNumber >= 0 && d.location.segmentNumber <= outcome.segmentCount + 1,
                      "diagnostic \(d) names segment \(d.location.segmentNumber) of \(outcome.segmentCount)")
            }
            for g in r.groups { inside(g.byteOffset, "group") }
            for m in r.allMessages { inside(m.byteOffset, "message") }
        }
    }

    /// Pulls every event (with `needInput` answered by the next chunk) and checks each segment's tokens.
    static func read(_ input: UnsafeRawBufferPointer, plan: ChunkPlan?) -> (events: [EDIFACTEvent], reports: [InterchangeReport], segments: Int) {
        let r = EDIFACTReader()
        var plan = plan ?? ChunkPlan(fixed: input.count)
        var fed = 0
        var finished = false
        var events: [EDIFACTEvent] = []
        var segments = 0
        var reports: [InterchangeReport] = []
        // Every event is about a byte or a token; far more than this means the cursor is looping.
        let budget = 64 * input.count + 1024
        var steps = 0
        loop: while true {
            steps += 1
            check(steps <= budget, "reader did not reach endOfInput after \(budget) events (\(input.count) bytes)")
            let e = r.next()
            switch e {
            case .endOfInput:
                break loop
            case .needInput:
                check(!finished, "reader asked for input after finish()")
                if fed == input.count {
                    r.finish()
                    finished = true
                } else {
                    let n = min(plan.next(), input.count - fed)
                    r.feed(UnsafeRawBufferPointer(rebasing: input[fed..<(fed + n)]))
                    fed += n
                    if plan.takeNow() { reports += r.takeReports() }
                }
                continue
            case .startSegment:
                segments += 1
                guard let seg = r.segment else { fail("startSegment without a segment") }
                check(seg.byteOffset >= 0 && seg.byteOffset + seg.length <= input.count,
                      "segment \(seg.number) spans \(seg.byteOffset)+\(seg.length), beyond the input (\(input.count))")
                for t in seg.tokens {
                    check(t.start >= 0 && t.start <= t.end && Int(t.end) <= seg.length,
                          "token \(t) outside segment \(seg.number) of length \(seg.length)")
                }
            case .element(let t), .component(let t):
                guard let seg = r.segment else { fail("value without a segment") }
                _ = r.string(t)
                check(seg.length(t) <= t.rawLength, "value length \(seg.length(t)) exceeds its raw length \(t.rawLength)")
            case .diagnostic(let d):
                check(d.location.byteOffset >= 0 && d.location.byteOffset <= input.count,
                      "reader diagnostic \(d) byte offset outside the input (\(input.count))")
            default:
                break
            }
            events.append(e)
        }
        check(r.next() == .endOfInput, "reader did not stay at endOfInput")
        reports += r.takeReports()
        return (events, reports, segments)
    }

    static func check(_ condition: Bool, _ message: @autoclosure () -> String, line: UInt = #line) {
        if !condition { fail(message(), line: line) }
    }

    static func fail(_ message: String, line: UInt = #line) -> Never {
        fatalError("EDIFACT fuzz invariant broken: \(message)", line: line)
    }
}

/// Chunk sizes for one run: a small deterministic generator seeded from a byte, so a crash replays exactly.
struct ChunkPlan {
    var state: UInt32
    let maxChunk: Int
    let fixed: Int?

    /// Sizes 1...2^(seed & 7 + 1) in a pseudo-random order (1..2 up to 1..256 bytes).
    init(seed: UInt8) {
        state = UInt32(seed) &* 2_654_435_761 | 1
        maxChunk = 2 << Int(seed & 7)
        fixed = nil
    }

    /// Every chunk the same size.
    init(fixed: Int) {
        state = 1
        maxChunk = fixed
        self.fixed = fixed
    }

    mutating func step() -> UInt32 {
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return state
    }

    mutating func next() -> Int {
        if let fixed { return fixed }
        return 1 + Int(step() % UInt32(maxChunk))
    }

    /// True about one chunk in eight: the caller takes the reports so far.
    mutating func takeNow() -> Bool {
        fixed == nil && step() & 7 == 0
    }
}

#if !EDIFACT_LIBFUZZER
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replays inputs (files, or every file under a directory) through the fuzz checks, outside libFuzzer.
@main
struct EDIFACTFuzzReplay {
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        if args.isEmpty || args.contains("-h") || args.contains("--help") {
            print("usage: EDIFACTFuzz FILE|DIR...  (replays inputs through the reader/validator fuzz checks)")
            exit(args.isEmpty ? 2 : 0)
        }
        var count = 0
        for arg in args {
            for path in files(arg) {
                guard let bytes = readFile(path) else {
                    let message = Array("EDIFACTFuzz: cannot read \(path)\n".utf8)
                    _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
                    exit(2)
                }
                print("replaying \(path) (\(bytes.count) bytes)")
                bytes.withUnsafeBufferPointer { p in
                    _ = edifactFuzzTestOneInput(p.baseAddress, p.count)
                }
                count += 1
            }
        }
        print("ok: \(count) input(s) kept every invariant")
    }

    static func files(_ path: String) -> [String] {
        var st = stat()
        guard stat(path, &st) == 0 else { return [path] }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { return [path] }
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            out += files(path + "/" + name)
        }
        return out.sorted()
    }

    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue } else { return nil } }
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        return bytes
    }
}
#endif
