// sig-bench: detached CMS verification throughput, one thread, over real files on disk.
//
//   sig-bench --pki DIR [--count N] [--size BYTES] [--work DIR] [--repeat K] [--reuse]
//
// DIR holds what scripts/bench-signatures.sh makes with `openssl`: root.pem, inter.pem, root.crl.pem,
// inter.crl.pem, and for each of rsa2048 and p256 a leaf certificate and key (`<alg>.pem`, `<alg>.key`).
// For each algorithm it signs N distinct payloads of BYTES bytes with CMSSigner (the gateway's own
// signer), writes `F00001.edi` + `F00001.edi.p7s` ... under WORK/<alg>, then times
// CMSVerifier.verifyDetached over all of them (best of K passes), once with the verifier's caches on
// (decoded certificates and checked chains: the service's configuration) and once with them off. One line per measurement, `key=value` fields.
// --reuse keeps the signed files of an earlier run with the same --work, --count (for profiling).

import Foundation
import Gateway

#if canImport(Glibc)
import Glibc
#endif

struct Options {
    var pki = ""
    var count = 2000
    var size = 5 * 1024
    var work = "bench-data/sig"
    var repeats = 3
    var reuse = false
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("sig-bench: \(message)\n".utf8))
    exit(2)
}

var options = Options()
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    if argument == "--reuse" {
        options.reuse = true
        continue
    }
    guard let value = arguments.popFirst() else { fail("\(argument) needs a value") }
    func number() -> Int {
        guard let number = Int(value), number > 0 else { fail("\(argument) wants a positive number") }
        return number
    }
    switch argument {
    case "--pki": options.pki = value
    case "--count": options.count = number()
    case "--size": options.size = number()
    case "--work": options.work = value
    case "--repeat": options.repeats = number()
    default: fail("unknown argument \(argument)")
    }
}
guard !options.pki.isEmpty else { fail("--pki DIR is required (scripts/bench-signatures.sh makes it)") }

/// Deterministic, distinct EDIFACT-looking payloads of `size` bytes.
func payload(_ index: Int, size: Int) -> [UInt8] {
    var bytes = Array("UNA:+.? 'UNB+UNOC:3+CARRIERX:ZZZ+SWG:ZZZ+260601:0000+REF\(index)'".utf8)
    var line = 0
    while bytes.count < size {
        bytes += Array("UNH+\(line)+CUSCAR:D:95B:UN'BGM+85+BL\(index)-\(line)+9'EQD+CN+CONU\(1_000_000 + line)'".utf8)
        line += 1
    }
    return Array(bytes.prefix(size))
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

let pki = URL(fileURLWithPath: options.pki)
let at = Date(timeIntervalSince1970: 1_780_272_000)  // 2026-06-01, inside the bench PKI's validity
do {
    let anchors = try TrustAnchors(
        agency: "BENCH", certificateFiles: [pki.appendingPathComponent("root.pem").path, pki.appendingPathComponent("inter.pem").path],
        crlFiles: [pki.appendingPathComponent("root.crl.pem").path, pki.appendingPathComponent("inter.crl.pem").path])
    for algorithm in ["rsa2048", "p256"] {
        let signer = try CMSSigner(certificateFile: pki.appendingPathComponent("\(algorithm).pem").path,
                                   privateKeyFile: pki.appendingPathComponent("\(algorithm).key").path)
        let binding = SignerBinding(partner: "BENCH", fingerprints: [signer.certificateEvidence.sha256Fingerprint])
        let dir = URL(fileURLWithPath: options.work).appendingPathComponent(algorithm)
        let paths = (1...options.count).map { dir.appendingPathComponent(String(format: "F%05d.edi", $0)).path }
        let reusable = options.reuse && paths.allSatisfy { FileManager.default.fileExists(atPath: $0 + ".p7s") }
        if !reusable {
            try? FileManager.default.removeItem(at: dir)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for (index, path) in zip(1..., paths) {
                let bytes = payload(index, size: options.size)
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                try Data(signer.signDetached(bytes)).write(to: URL(fileURLWithPath: path + ".p7s"))
            }
        }
        for (label, capacity) in [("on", 4096), ("off", 0)] {
            let verifier = try CMSVerifier(anchors: anchors, chainCacheCapacity: capacity)
            var best = Double.infinity
            for _ in 0..<max(1, options.repeats) {
                let clock = ContinuousClock()
                let start = clock.now
                for path in paths {
                    let verdict = try verifier.verifyDetached(contentAt: path, signer: binding, at: at)
                    guard verdict.isValid else { fail("\(path): \(verdict)") }
                }
                best = min(best, seconds(clock.now - start))
            }
            let rate = Double(paths.count) / best
            print("algorithm=\(algorithm) caches=\(label) files=\(paths.count) bytes=\(options.size) seconds=\(String(format: "%.3f", best)) files_per_s=\(String(format: "%.0f", rate))")
        }
    }
} catch {
    fail("\(error)")
}
