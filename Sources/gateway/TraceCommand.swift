import ArgumentParser
import Foundation
import Gateway

/// `gateway trace REF`
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Tell the whole story of a bill of lading, container, manifest, batch or file.",
        discussion: """
            REF is a bill of lading, a container number, a manifest (document) number, a batch id (42 or B42), \
            an interchange reference or a dropped file's name. Prints, in time order, every file received about \
            it, each signature check, each step of its jobs, each filing of its manifest, each agency's routing \
            decision (for a bill of lading or container: about that consignment), each copy routed, each \
            receipt and copy delivered and picked up, each agency's instruction about its goods and each \
            release or cancellation sent to a terminal. Exit status: 0 when found, 1 when the ledger knows nothing \
            of REF or cannot be read, 2 on a usage error or when the configuration cannot be read.
            """
    )

    @Argument(help: ArgumentHelp("What to trace.", valueName: "ref"))
    var reference: String

    @Flag(help: "Print one JSON document instead of a table.")
    var json = false

    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
        if reference.isEmpty { throw ValidationError("Invalid REF: it is empty") }
    }

    func run() throws {
        try finish(TraceVerb.run(reference: reference, configPath: ledger.path, json: json, out: .standardOutput(),
                                 err: .standardError()))
    }
}
