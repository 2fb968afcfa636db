// sftp-bench: SFTPSession transfer throughput over one session, sequential, as a pickup or delivery job
// uses it.
//
//   sftp-bench --port P --user U --key FILE --known-hosts FILE --remote DIR --local DIR
//              [--host H] [--count N] [--repeat K] [--only download|upload]
//
// The remote DIR must hold `small/` (N files, `f00001`...) and `big.bin` (scripts/bench-sftp-transfer.sh
// makes them and starts the sshd). Four measurements, each best of K: download of the N small files,
// download of big.bin, upload of the N small files (from LOCAL/src-small) and upload of big.bin (from
// LOCAL/src-big.bin). Downloads land in LOCAL/ours-*, uploads in REMOTE/ours-up-*; both are removed
// before every pass. One line per measurement, `key=value` fields.

import Foundation
import Gateway

struct Options {
    var host = "127.0.0.1"
    var port = 22
    var user = ""
    var key = ""
    var knownHosts = ""
    var remote = ""
    var local = ""
    var count = 1000
    var repeats = 3
    var only: String?
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("sftp-bench: \(message)\n".utf8))
    exit(2)
}

var options = Options()
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fail("\(argument) needs a value") }
    switch argument {
    case "--host": options.host = value
    case "--port": options.port = Int(value) ?? 0
    case "--user": options.user = value
    case "--key": options.key = value
    case "--known-hosts": options.knownHosts = value
    case "--remote": options.remote = value
    case "--local": options.local = value
    case "--count": options.count = Int(value) ?? 0
    case "--repeat": options.repeats = max(1, Int(value) ?? 1)
    case "--only": options.only = value
    default: fail("unknown argument \(argument)")
    }
}
guard options.port > 0, !options.user.isEmpty, !options.key.isEmpty, !options.remote.isEmpty, !options.local.isEmpty else {
    fail("usage: sftp-bench --port P --user U --key FILE --known-hosts FILE --remote DIR --local DIR")
}

let endpoint = SFTPEndpoint(name: "bench", host: options.host, port: options.port, user: options.user,
                            privateKeyPath: options.key, knownHostsPath: options.knownHosts)
let names = (1...options.count).map { String(format: "f%05d", $0) }
let fm = FileManager.default

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func fresh(_ path: String) {
    try? fm.removeItem(atPath: path)
    try? fm.createDirectory(atPath: path, withIntermediateDirectories: true)
}

/// Runs `body` K times (after `prepare`), returns the best time.
@MainActor
func best(_ prepare: () throws -> Void, _ body: () throws -> Int64) throws -> (seconds: Double, bytes: Int64) {
    var bestTime = Double.infinity
    var bytes: Int64 = 0
    for _ in 0..<options.repeats {
        try prepare()
        let start = now()
        bytes = try body()
        bestTime = min(bestTime, now() - start)
    }
    return (bestTime, bytes)
}

func report(_ name: String, files: Int, _ result: (seconds: Double, bytes: Int64)) {
    let mb = Double(result.bytes) / 1e6
    print(String(format: "op=%@ files=%d bytes=%lld seconds=%.3f files_per_s=%.1f mb_per_s=%.1f",
                 name, files, result.bytes, result.seconds, Double(files) / result.seconds, mb / result.seconds))
}

do {
    let session = try SFTPSession.connect(endpoint)
    defer { session.close() }
    let remote = options.remote
    let local = options.local
    if options.only != "upload" {
        let small = try best({ fresh("\(local)/ours-small") }) {
            var total: Int64 = 0
            for name in names {
                total += try session.download("\(remote)/small/\(name)", to: "\(local)/ours-small/\(name)", expectedSize: nil).size
            }
            return total
        }
        report("download-small", files: names.count, small)
        let big = try best({ try? fm.removeItem(atPath: "\(local)/ours-big.bin") }) {
            try session.download("\(remote)/big.bin", to: "\(local)/ours-big.bin", expectedSize: nil).size
        }
        report("download-big", files: 1, big)
    }
    if options.only != "download" {
        func clearRemote(_ directory: String) throws {
            if let entries = try? session.list(directory) {
                for entry in entries { try session.remove("\(directory)/\(entry.name)") }
            }
            try session.makeDirectory(directory)
        }
        let small = try best({ try clearRemote("\(remote)/ours-up-small") }) {
            var total: Int64 = 0
            for name in names {
                total += try session.upload(from: "\(local)/src-small/\(name)", to: "\(remote)/ours-up-small/\(name)")
            }
            return total
        }
        report("upload-small", files: names.count, small)
        let big = try best({ try clearRemote("\(remote)/ours-up-big") }) {
            try session.upload(from: "\(local)/src-big.bin", to: "\(remote)/ours-up-big/big.bin")
        }
        report("upload-big", files: 1, big)
    }
} catch {
    fail("\(error)")
}
