// sig-bench: detached CMS verification throughput, one thread, over real files on disk.
//
//   sig-bench --pki DIR [--count N] [--size BYTES] [--work DIR] [--repeat K] [--reuse]
//
// DIR holds what scripts/bench-signatures.sh makes with `openssl`: root.pem, inter.pem, root.crl.pem,
// inter.crl.pem, and for each of rsa2048 and p256 a leaf certificate and key (`<alg>.pem`, `<alg>.key`).
// For each algorithm it signs N distinct payloads of BYTES bytes with CMSSigner (the gateway's own
// signer), writes `F00001.edi` + `F00001.edi.p7s` ... under WORK/<alg>, then times
// CMSVerifier.verifyDetached over all of them (best of K passes) three ways: as the service runs it
// (the plain-layout check of CMSPlainSignedData, caches of decoded certificates and checked chains on),
// through OpenSSL's CMS layer with the caches, and through it without them. One line per
// measurement, `key=value` fields. Before each pass it times as many raw verifications with the same
// key (RawVerify, what `openssl speed` measures), so every line carries its own side-by-side ratio.
// --reuse keeps the signed files of an earlier run with the same --work, --count; --algorithm,
// --caches and --path narrow the measurements (for profiling).

import COpenSSL
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
    var algorithms = ["rsa2048", "p256"]
    var caches = ["on", "off"]
    var paths = ["plain", "openssl"]
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
    case "--algorithm": options.algorithms = [value]
    case "--caches": options.caches = [value]
    case "--path": options.paths = [value]
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

/// The raw verify operation `openssl speed` times: one public-key verification of a SHA-256 digest with
/// a context set up once (EVP_PKEY_verify), no hashing of content, no parsing. Timed here, interleaved
/// with our passes, so the ratio compares two measurements taken in the same moments of a shared,
/// noisy machine; `openssl speed` is still printed beside it by the script.
final class RawVerify {
    private let context: OpaquePointer
    private var signature = [UInt8](repeating: 0, count: 512)
    private var signatureLength = 0
    private let digest = [UInt8](repeating: 0x5A, count: 32)

    init(keyFile: String) {
        guard let bio = BIO_new_file(keyFile, "r"), let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
            fail("cannot read \(keyFile)")
        }
        BIO_free(bio)
        defer { EVP_PKEY_free(key) }
        guard let signing = EVP_PKEY_CTX_new(key, nil), EVP_PKEY_sign_init(signing) == 1,
              EVP_PKEY_CTX_set_signature_md(signing, EVP_sha256()) == 1 else { fail("cannot set up signing") }
        defer { EVP_PKEY_CTX_free(signing) }
        signatureLength = signature.count
        guard EVP_PKEY_sign(signing, &signature, &signatureLength, digest, digest.count) == 1 else { fail("cannot sign") }
        guard let verifying = EVP_PKEY_CTX_new(key, nil), EVP_PKEY_verify_init(verifying) == 1,
              EVP_PKEY_CTX_set_signature_md(verifying, EVP_sha256()) == 1 else { fail("cannot set up verifying") }
        context = verifying
    }

    deinit { EVP_PKEY_CTX_free(context) }

    /// Seconds for `count` verifications.
    func time(_ count: Int) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<count where EVP_PKEY_verify(context, signature, signatureLength, digest, digest.count) != 1 {
            fail("the raw verification failed")
        }
        return seconds(clock.now - start)
    }
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
    for algorithm in options.algorithms {
        let signer = try CMSSigner(certificateFile: pki.appendingPathComponent("\(algorithm).pem").path,
                                   privateKeyFile: pki.appendingPathComponent("\(algorithm).key").path)
        let binding = SignerBinding(partner: "BENCH", fingerprints: [signer.certificateEvidence.sha256Fingerprint])
        let raw = RawVerify(keyFile: pki.appendingPathComponent("\(algorithm).key").path)
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
        // The service's configuration (plain-layout check, caches on), then OpenSSL's CMS layer for
        // every file with the caches, then without them (every certificate decoded, every chain built).
        for (label, capacity, path) in [("on", 4096, "plain"), ("on", 4096, "openssl"), ("off", 0, "openssl")]
        where options.caches.contains(label) && options.paths.contains(path) {
            let verifier = try CMSVerifier(anchors: anchors, chainCacheCapacity: capacity, openSSLOnly: path == "openssl")
            var best = Double.infinity
            var bestRaw = Double.infinity
            for _ in 0..<max(1, options.repeats) {
                bestRaw = min(bestRaw, raw.time(paths.count))
                let clock = ContinuousClock()
                let start = clock.now
                for path in paths {
                    let verdict = try verifier.verifyDetached(contentAt: path, signer: binding, at: at)
                    guard verdict.isValid else { fail("\(path): \(verdict)") }
                }
                best = min(best, seconds(clock.now - start))
            }
            let rate = Double(paths.count) / best
            let rawRate = Double(paths.count) / bestRaw
            print("algorithm=\(algorithm) path=\(path) caches=\(label) files=\(paths.count) bytes=\(options.size) "
                  + "seconds=\(String(format: "%.3f", best)) files_per_s=\(String(format: "%.0f", rate)) "
                  + "raw_verify_per_s=\(String(format: "%.0f", rawRate)) ratio=\(String(format: "%.3f", rate / rawRate))")
        }
    }
} catch {
    fail("\(error)")
}
