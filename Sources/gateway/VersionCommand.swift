import ArgumentParser
import Gateway

/// `gateway version`: the gateway version and the C libraries it runs against.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the gateway version, the versions of the C libraries it runs against, and its allocator."
    )

    @Flag(help: "Print one JSON document instead of text.")
    var json = false

    func run() throws {
        let report = VersionReport.current()
        let out = OutputSink.standardOutput()
        out.write(json ? report.json : report.text)
        out.flush()
    }
}
