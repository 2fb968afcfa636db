import ArgumentParser
import Foundation
import Gateway

/// `gateway route explain FILE`.
struct RouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Explain how manifests are routed to the agencies.",
        subcommands: [Explain.self]
    )

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "explain",
            abstract: "Show which agencies get which consignments of a manifest file, and why.",
            discussion: """
                Maps FILE (CUSCAR D95B or D96A, or the project's XML manifest, schemas/manifest-1.xsd) to the \
                canonical model and applies every agency's [partner.routing] rule: for each agency, whether it \
                gets a copy and in which format, and for each consignment whether it is in that copy and why. \
                Mapping errors name the consignment and the segment or element. Exit status: 0 when every \
                manifest in the file was explained, 1 when the file does not map, 2 on a usage error or when \
                the configuration cannot be read.
                """
        )

        @Argument(help: ArgumentHelp("The manifest file.", valueName: "file"))
        var file: String

        @Option(help: ArgumentHelp("""
            The configuration file. Default: $\(ConfigurationCheck.environmentVariable), else \
            \(ConfigurationCheck.defaultPath).
            """, valueName: "path"))
        var config: String?

        @Flag(help: "Print one JSON document instead of text.")
        var json = false

        func run() throws {
            let path = ConfigurationCheck.path(option: config, environment: ProcessInfo.processInfo.environment)
            try finish(RouteExplainVerb.run(filePath: file, configPath: path, json: json, out: .standardOutput(),
                                            err: .standardError()))
        }
    }
}
