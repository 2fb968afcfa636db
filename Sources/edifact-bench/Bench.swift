// edifact-bench: throughput and peak memory of the streaming EDIFACT validator (see scripts/bench-edifact.sh).
//
//   edifact-bench generate --megabytes N --out FILE [--seed S]
//   edifact-bench run FILE... [--chunk 65536] [--repeat K] [--tsv] [--reader] [--no-structure]
//
// Only Glibc is used, not Foundation, so the peak RSS a run reports is the validator's plus the
// runtime's, not a framework's. MB means 10^6 bytes; RSS is reported in MiB.
import EDIFACT

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The benchmark command: `generate` writes a CUSCAR corpus file, `run` measures the validator on files.
@main
struct EDIFACTBench {
    static let usage = """
        usage: edifact-bench generate --megabytes N --out FILE [--seed S]
               edifact-bench run FILE... [--chunk BYTES] [--repeat K] [--tsv] [--reader] [--no-structure]

        generate  writes a deterministic, valid CUSCAR D95B interchange of about N MB (10^6 bytes).
        run       parses each FILE in a fresh process (so peak RSS is per file): read in chunks, parse
                  time measured apart from read time, best of K; prints size, seconds, MB/s,
                  segments, findings and peak RSS. --reader pulls every EDIFACTReader event instead
                  of running EDIFACTValidator; --no-structure skips directory (message structure) checks.
        """

    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        guard let command = args.first else { die(usage, code: 2) }
        args.removeFirst()
        switch command {
        case "generate": generate(args)
        case "run": run(args)
        case "-h", "--help", "help": print(usage)
        default: die("edifact-bench: unknown command '\(command)'\n\(usage)", code: 2)
        }
    }

    // MARK: generate

    static func generate(_ args: [String]) {
        var megabytes: Double?
        var out: String?
        var seed: UInt64 = 1
        var i = 0
        while i < args.count {
            switch args[i] {
            case "--megabytes": megabytes = Double(value(args, &i))
            case "--out": out = value(args, &i)
            case "--seed": seed = UInt64(value(args, &i)) ?? { die("edifact-bench: --seed takes an integer", code: 2) }()
            default: die("edifact-bench generate: unexpected '\(args[i])'\n\(usage)", code: 2)
            }
            i += 1
        }
        guard let megabytes, megabytes > 0, let out else { die("edifact-bench generate: --megabytes N and --out FILE are required", code: 2) }
        let target = Int(megabytes * 1_000_000)
        guard let sink = FileSink(path: out) else { die("edifact-bench: cannot create \(out): \(errnoText())", code: 1) }
        var generator = CuscarGenerator(seed: seed)
        let summary = generator.write(targetBytes: target, to: sink)
        guard sink.close() else { die("edifact-bench: writing \(out) failed: \(errnoText())", code: 1) }
        print("wrote \(out): \(summary.bytes) bytes, \(summary.messages) messages, \(summary.segments) segments (seed \(seed))")
    }

    // MARK: run

    /// What one measured file gave.
    struct Measurement {
        var bytes: Int
        var bestParseSeconds: Double
        var readSeconds: Double
        var segments: Int
        var findings: Int
        var peakRSSKiB: Int
    }

    static func run(_ args: [String]) {
        var files: [String] = []
        var chunk = 65_536
        var repeats = 3
        var tsv = false, inProcess = false, reader = false, structure = true
        var i = 0
        while i < args.count {
            switch args[i] {
            case "--chunk": chunk = Int(value(args, &i)) ?? 0
            case "--repeat": repeats = Int(value(args, &i)) ?? 0
            case "--tsv": tsv = true
            case "--reader": reader = true
            case "--no-structure": structure = false
            case "--in-process": inProcess = true  // internal: the per-file child
            case let a where a.hasPrefix("--"): die("edifact-bench run: unknown option '\(a)'\n\(usage)", code: 2)
            default: files.append(args[i])
            }
            i += 1
        }
        guard !files.isEmpty, chunk > 0, repeats > 0 else { die("edifact-bench run: FILE..., --chunk > 0 and --repeat > 0 are required", code: 2) }

        if inProcess {
            for file in files { printRow(file, measure(file, chunk: chunk, repeats: repeats, reader: reader, structure: structure), tsv: tsv) }
            return
        }
        if tsv {
            print("file\tbytes\tparse_seconds\tmb_per_s\tsegments\tfindings\tpeak_rss_kib\tread_seconds")
        } else {
            print("\(reader ? "EDIFACTReader (all events)" : "EDIFACTValidator"), chunk \(chunk) B, best of \(repeats), structure checks \(structure ? "on" : "off"); one process per file")
            print(pad("file", 28) + lpad("size MB", 9) + lpad("parse s", 9) + lpad("MB/s", 9) + lpad("segments", 11)
                  + lpad("findings", 9) + lpad("peak RSS MiB", 13) + lpad("read s", 8))
        }
        // A fresh process per file: ru_maxrss never goes down, so one process would report the largest file's peak for all.
        fflush(nil)  // the header before the children's rows
        let me = executablePath()
        var failed = false
        for file in files {
            var childArgs = [me, "run", "--in-process", "--chunk", String(chunk), "--repeat", String(repeats)]
            if tsv { childArgs.append("--tsv") }
            if reader { childArgs.append("--reader") }
            if !structure { childArgs.append("--no-structure") }
            childArgs.append(file)
            if spawnAndWait(childArgs) != 0 { failed = true }
        }
        if failed { exit(1) }
    }

    static func measure(_ path: String, chunk: Int, repeats: Int, reader: Bool, structure: Bool) -> Measurement {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { die("edifact-bench: cannot open \(path): \(errnoText())", code: 1) }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        var options = ValidationOptions()
        options.validateMessageStructure = structure
        var best = Double.infinity, bestRead = 0.0
        var segments = 0, findings = 0, bytes = 0
        for _ in 0..<repeats {
            guard lseek(fd, 0, SEEK_SET) == 0 else { die("edifact-bench: cannot seek \(path): \(errnoText())", code: 1) }
            var parse = 0.0, readTime = 0.0
            bytes = 0
            findings = 0
            if reader {
                // Timed as a whole (a clock read per event would cost more than the event), read time subtracted.
                let r = EDIFACTReader(options: options)
                var count = 0
                var eof = false
                let start = now()
                loop: while true {
                    switch r.next() {
                    case .endOfInput: break loop
                    case .needInput:
                        if eof { die("edifact-bench: reader asked for input after finish", code: 1) }
                        let t1 = now()
                        let n = readChunk(fd, buffer, path)
                        readTime += now() - t1
                        if n == 0 { r.finish(); eof = true } else { r.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) }
                        bytes += n
                    case .startSegment: count += 1
                    case .diagnostic: findings += 1
                    default: break
                    }
                }
                _ = r.takeReports()
                parse = now() - start - readTime
                segments = count
            } else {
                let v = EDIFACTValidator(options: options)
                while true {
                    let t0 = now()
                    let n = readChunk(fd, buffer, path)
                    let t1 = now()
                    readTime += t1 - t0
                    if n == 0 { break }
                    v.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                    parse += now() - t1
                    bytes += n
                }
                let t2 = now()
                v.finish()
                let reports = v.takeReports()
                parse += now() - t2
                segments = v.segmentCount
                findings = reports.reduce(0) { $0 + $1.allDiagnostics.count }
            }
            if parse < best { best = parse; bestRead = readTime }
        }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Measurement(bytes: bytes, bestParseSeconds: best, readSeconds: bestRead, segments: segments, findings: findings,
                           peakRSSKiB: Int(usage.ru_maxrss))
    }

    static func readChunk(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ path: String) -> Int {
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { die("edifact-bench: cannot read \(path): \(errnoText())", code: 1) }
        }
    }

    static func printRow(_ file: String, _ m: Measurement, tsv: Bool) {
        let mbps = Double(m.bytes) / 1e6 / m.bestParseSeconds
        if tsv {
            print("\(file)\t\(m.bytes)\t\(fmt(m.bestParseSeconds, 6))\t\(fmt(mbps, 1))\t\(m.segments)\t\(m.findings)\t\(m.peakRSSKiB)\t\(fmt(m.readSeconds, 6))")
        } else {
            let name = file.split(separator: "/").last.map(String.init) ?? file
            print(pad(name, 28) + lpad(fmt(Double(m.bytes) / 1e6, 1), 9) + lpad(fmt(m.bestParseSeconds, 3), 9) + lpad(fmt(mbps, 1), 9)
                  + lpad(String(m.segments), 11) + lpad(String(m.findings), 9) + lpad(fmt(Double(m.peakRSSKiB) / 1024, 1), 13)
                  + lpad(fmt(m.readSeconds, 3), 8))
        }
    }

    // MARK: helpers

    static func value(_ args: [String], _ i: inout Int) -> String {
        guard i + 1 < args.count else { die("edifact-bench: \(args[i]) needs a value", code: 2) }
        i += 1
        return args[i]
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func fmt(_ x: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let r = (x * scale).rounded() / scale
        var s = String(r)
        if let dot = s.firstIndex(of: ".") {
            let have = s.distance(from: dot, to: s.endIndex) - 1
            if decimals == 0 { s = String(s[..<dot]) } else if have < decimals { s += String(repeating: "0", count: decimals - have) }
        } else if decimals > 0 {
            s += "." + String(repeating: "0", count: decimals)
        }
        return s
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
    static func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    static func die(_ message: String, code: Int32) -> Never {
        let bytes = Array((message + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(code)
    }

    static func executablePath() -> String {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { readlink("/proc/self/exe", $0, p.count - 1) }
        }
        return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : CommandLine.arguments[0]
    }

    /// Runs a child with the same stdout/stderr and returns its exit status.
    static func spawnAndWait(_ argv: [String]) -> Int32 {
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArgs.append(nil)
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], nil, nil, cArgs, environ)
        guard rc == 0 else { die("edifact-bench: cannot start \(argv[0]): \(String(cString: strerror(rc)))", code: 1) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { die("edifact-bench: waitpid: \(errnoText())", code: 1) }
        }
        // WIFEXITED / WEXITSTATUS are macros: decode the status word by hand.
        return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }
}

/// Buffered, streaming output to a file: the generated corpus is never held in memory.
final class FileSink {
    let fd: Int32
    var buffer: [UInt8] = []
    var failed = false
    private(set) var written = 0

    init?(path: String) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { return nil }
        buffer.reserveCapacity(1 << 20)
    }

    var count: Int { written + buffer.count }

    func append(_ bytes: [UInt8]) {
        buffer += bytes
        if buffer.count >= 1 << 20 { flush() }
    }

    func flush() {
        var off = 0
        buffer.withUnsafeBytes { p in
            while off < p.count {
                let n = write(fd, p.baseAddress! + off, p.count - off)
                if n < 0 { if errno == EINTR { continue }; failed = true; return }
                off += n
            }
        }
        written += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes; false when any write failed.
    func close() -> Bool {
        flush()
        let ok = !failed && fsync(fd) == 0
        return Glibc.close(fd) == 0 && ok
    }
}
