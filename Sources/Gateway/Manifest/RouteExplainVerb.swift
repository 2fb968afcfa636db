import Foundation

/// `gateway route explain FILE`: maps a manifest file (CUSCAR D95B/D96A or the project's XML) to the canonical
/// model and shows, for each agency with a `[partner.routing]` rule, whether it gets a copy, in which format,
/// and for each consignment whether it is in that copy and why: what the pipeline's routing decides.
public enum RouteExplainVerb {
    /// One manifest's decisions, as `--json` prints them.
    public struct Explanation: Codable, Sendable {
        public var documentNumber: String
        public var function: String
        public var consignments: Int
        public var decisions: [RoutingDecision]
    }

    /// Exit status: 0 explained, 1 the file does not map (its mapping errors printed), 2 usage.
    public static func run(filePath: String, configPath: String, json: Bool, out: OutputSink, err: OutputSink) -> CommandStatus {
        defer { out.flush(); err.flush() }
        guard let configuration = ConfigurationLoader.loadReporting(path: configPath, err: err, nothingWas: "explained") else {
            return .failure
        }
        let absolute = Paths.resolve(filePath, against: Paths.currentDirectory())
        var bytes: [UInt8] = []
        do {
            try ChunkedFile.forEachChunk(path: absolute) { bytes.append(contentsOf: $0) }
        } catch {
            err.line("\(filePath): \(error)")
            return .failure
        }
        let rules = configuration.partners.compactMap(\.routing)
        if rules.isEmpty { err.line("\(configPath): no agency has a [partner.routing] rule; nothing would be routed") }
        var manifests: [Manifest] = []
        var errors: [ManifestMappingError] = []
        if GatewayPipeline.looksLikeXML(bytes.prefix(512)) {
            switch XMLManifestMapping.manifest(from: bytes) {
            case .success(let manifest): manifests.append(manifest)
            case .failure(let failure): errors += failure.errors
            }
        } else {
            for result in CUSCARMapping.manifests(from: bytes) {
                switch result {
                case .success(let manifest): manifests.append(manifest)
                case .failure(let error): errors.append(error)
                }
            }
        }
        for error in errors { err.line("\(filePath): \(error)") }
        if manifests.isEmpty && errors.isEmpty { err.line("\(filePath): no manifest found (neither CUSCAR nor manifest XML)") }
        let explanations = manifests.map { manifest in
            Explanation(documentNumber: manifest.documentNumber, function: manifest.function.rawValue,
                        consignments: manifest.consignments.count, decisions: Router.route(manifest, rules: rules))
        }
        if json {
            out.write(OperatorFormat.json(explanations) + "\n")
        } else {
            for explanation in explanations { out.write(text(explanation)) }
        }
        return errors.isEmpty && !manifests.isEmpty ? .success : .invalid
    }

    static func text(_ e: Explanation) -> String {
        var lines = ["manifest \(e.documentNumber) (\(e.function)), \(e.consignments) consignment(s)"]
        for d in e.decisions {
            lines.append("  \(d.agency)  \(d.selected ? "gets" : "nothing")  \(d.format.rawValue)  — \(d.reason)")
            for c in d.consignments {
                lines.append("    \(c.selected ? "+" : "-") \(c.billOfLading)  \(c.reason)"
                             + (c.selected && !c.goods.isEmpty ? "  (goods \(c.goods.map(String.init).joined(separator: ", ")))" : ""))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
