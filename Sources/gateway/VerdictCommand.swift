import ArgumentParser
import Foundation
import Gateway

extension CombinedState: ExpressibleByArgument {}

/// `gateway verdict explain REF`, `gateway verdict list`.
struct VerdictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verdict",
        abstract: "Show the combined state of goods from the agencies' instructions, and why.",
        discussion: """
            Agencies answer the copies they are routed with instructions (CUSRES: GIS 4 released, 5 required \
            for examination, 7 detained) about a manifest, a bill of lading or a container. The state of each \
            consignment, per container, is derived from those facts by the rule in [verdict]: any hold wins; \
            any inspect gives one inspection (joint when several agencies ask); a release from every agency the \
            goods were routed to releases them; goods routed to no agency are released after silence_seconds.
            """,
        subcommands: [Explain.self, List.self]
    )

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "explain",
            abstract: "Show the facts, the rule and the state of a bill of lading, container or manifest.",
            discussion: """
                REF is a bill of lading, a container number or a manifest (document) number (then every \
                consignment in it). For each consignment: its state, per container (or for goods in none) the \
                state with the rule that decided it, the agencies it was routed to and each agency's position, \
                then every instruction that applies, with when it was issued and received, the file (batch) it \
                came in and how its signature was judged. Exit status: 0 when REF names a consignment, 1 when \
                the library holds none or cannot be read, 2 on a usage error or when the configuration cannot \
                be read.
                """
        )

        @Argument(help: ArgumentHelp("A bill of lading, container number or manifest number.", valueName: "ref"))
        var reference: String

        @Flag(help: "Print one JSON document instead of text.")
        var json = false

        @OptionGroup var ledger: LedgerOptions

        func validate() throws {
            if reference.isEmpty { throw ValidationError("Invalid REF: it is empty") }
        }

        func run() throws {
            try finish(VerdictVerbs.explain(reference: reference, configPath: ledger.path, json: json,
                                            out: .standardOutput(), err: .standardError()))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List consignments with their combined state.",
            discussion: """
                One line per active consignment, oldest first: manifest, bill of lading, state, containers and \
                why. Exit status: 0 (an empty list included), 1 when the ledger cannot be read, 2 on a usage \
                error or when the configuration cannot be read.
                """
        )

        @Option(help: ArgumentHelp("Only consignments in this state: pending, released, inspection or held.", valueName: "state"))
        var state: CombinedState?

        @Option(help: ArgumentHelp("Look at most at this many consignments (oldest first).", valueName: "n"))
        var limit = 1000

        @Flag(help: "Print one JSON document instead of a table.")
        var json = false

        @OptionGroup var ledger: LedgerOptions

        func validate() throws {
            if limit < 1 { throw ValidationError("Invalid --limit: \(limit) is not at least 1") }
        }

        func run() throws {
            try finish(VerdictVerbs.list(state: state, limit: limit, configPath: ledger.path, json: json,
                                         out: .standardOutput(), err: .standardError()))
        }
    }
}
