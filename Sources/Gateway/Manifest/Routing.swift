import Foundation

// Routing (issue 6): which agency gets which part of a manifest, in which format, and why. Rules live
// on the agency partners (`[partner.routing]`); each starts from a preset that makes sense for that kind
// of agency and may narrow it. The router is a pure function of the manifest and the rules, so
// `gateway route explain` shows exactly what the pipeline would send.

/// The kinds of agency the presets know.
public enum AgencyPreset: String, Sendable, Hashable, Codable, CaseIterable {
    /// Customs: every consignment, as CUSCAR.
    case customs
    /// Inspection and quarantine: goods whose HS codes are on its list, as XML.
    case inspection
    /// Border control: the transport means, its voyage and crew and passenger counts, as XML.
    case border
    /// Maritime authority: waterway transport only, the whole manifest as XML.
    case maritime
}

/// The format and message an agency takes.
public enum RoutedFormat: String, Sendable, Hashable, Codable, CaseIterable {
    case cuscarD95B = "cuscar-d95b"
    case cuscarD96A = "cuscar-d96a"
    /// The project's manifest XML (schemas/manifest-1.xsd).
    case manifestXML = "manifest-xml"
    /// The inspection-and-quarantine XML (schemas/ciq-manifest-1.xsd).
    case ciqXML = "ciq-xml"
    /// The border-control XML (schemas/border-1.xsd): transport level only.
    case borderXML = "border-xml"
}

/// One agency's routing rule: a preset, the format, and what narrows the selection.
public struct RoutingRule: Sendable, Hashable, Codable {
    /// The agency partner's id.
    public var agency: String
    public var preset: AgencyPreset
    public var format: RoutedFormat
    /// Only these transport modes (nil: any).
    public var modes: Set<TransportMode>?
    /// Only manifests touching one of these UN/LOCODEs as departure, arrival, loading or discharge port (nil: any).
    public var ports: Set<String>?
    /// Only goods items whose HS code starts with one of these (nil: any goods).
    public var hsPrefixes: [String]?
    /// Only goods items with dangerous goods.
    public var dangerousGoodsOnly: Bool
    /// Only consignments with a party whose id or name contains one of these (case-insensitive; nil: any).
    public var parties: [String]?

    public init(agency: String, preset: AgencyPreset, format: RoutedFormat? = nil, modes: Set<TransportMode>? = nil,
                ports: Set<String>? = nil, hsPrefixes: [String]? = nil, dangerousGoodsOnly: Bool = false, parties: [String]? = nil) {
        self.agency = agency
        self.preset = preset
        self.format = format ?? Self.defaultFormat(preset)
        self.modes = modes ?? (preset == .maritime ? [.sea, .inlandWaterway] : nil)
        self.ports = ports
        self.hsPrefixes = hsPrefixes ?? (preset == .inspection ? Self.inspectionHSPrefixes : nil)
        self.dangerousGoodsOnly = dangerousGoodsOnly
        self.parties = parties
    }

    static func defaultFormat(_ preset: AgencyPreset) -> RoutedFormat {
        switch preset {
        case .customs: .cuscarD96A
        case .inspection: .ciqXML
        case .border: .borderXML
        case .maritime: .manifestXML
        }
    }

    /// What inspection and quarantine looks at by default: live animals and animal products, plants and
    /// vegetable products, foodstuffs (HS chapters 01–24), wood (44), and used machinery's usual packing
    /// wood is out of reach of HS codes, so it is not listed. A deployment sets its own list.
    public static let inspectionHSPrefixes: [String] = (1...24).map { String(format: "%02d", $0) } + ["44"]

    /// Whether this rule looks at the transport means only (border control), not at consignments.
    public var transportLevel: Bool { format == .borderXML }
}

/// What one rule selected from one manifest, with the reasons, for the ledger and `route explain`.
public struct RoutingDecision: Sendable, Hashable, Codable {
    public var agency: String
    public var format: RoutedFormat
    /// Whether the agency gets a copy at all.
    public var selected: Bool
    /// Why (or why not), in plain words, at manifest level.
    public var reason: String
    /// The consignments it gets (bill of lading → reason), in manifest order; empty for transport-level rules.
    public var consignments: [ConsignmentChoice]

    public struct ConsignmentChoice: Sendable, Hashable, Codable {
        public var billOfLading: String
        public var selected: Bool
        public var reason: String
        /// Goods item numbers it gets (all of the consignment's unless an HS or dangerous-goods filter applies).
        public var goods: [Int]
    }
}

/// Applies rules to a manifest.
public enum Router {
    /// Every rule's decision for `manifest`, in rule order.
    public static func route(_ manifest: Manifest, rules: [RoutingRule]) -> [RoutingDecision] {
        rules.map { decide(manifest, $0) }
    }

    /// The part of `manifest` a decision selected: only its consignments, each with only its selected goods,
    /// and only the containers those goods are in. A transport-level decision keeps the transport and counts.
    public static func copy(of manifest: Manifest, for decision: RoutingDecision) -> Manifest {
        guard !decision.consignments.isEmpty else { return manifest }
        var copy = manifest
        let choices = decision.consignments
        if choices.count == manifest.consignments.count,
           zip(choices, manifest.consignments).allSatisfy({ $0.billOfLading == $1.billOfLading }) {
            // The router's own decision: one choice per consignment, in the manifest's order. Walked side by side,
            // and a consignment taken whole (every one, for customs) is kept as it is, not rebuilt: this runs
            // for every copy of every manifest.
            var kept: [Consignment] = []
            kept.reserveCapacity(choices.count)
            var whole = true
            for (choice, consignment) in zip(choices, manifest.consignments) {
                guard choice.selected else { whole = false; continue }
                if choice.goods.elementsEqual(consignment.goods.lazy.map(\.sequence)) {
                    kept.append(consignment)
                } else {
                    whole = false
                    var part = consignment
                    part.goods = consignment.goods.filter { choice.goods.contains($0.sequence) }
                    kept.append(part)
                }
            }
            if !whole { copy.consignments = kept }
        } else {
            // A decision from elsewhere (read back from the ledger): by bill of lading.
            let chosen = Dictionary(choices.filter(\.selected).map { ($0.billOfLading, Set($0.goods)) },
                                    uniquingKeysWith: { a, _ in a })
            copy.consignments = manifest.consignments.compactMap { consignment in
                guard let goods = chosen[consignment.billOfLading] else { return nil }
                var kept = consignment
                kept.goods = consignment.goods.filter { goods.contains($0.sequence) }
                return kept
            }
        }
        var used: Set<String> = []
        for consignment in copy.consignments {
            for item in consignment.goods {
                for share in item.containers { used.insert(share.container) }
            }
        }
        if !manifest.containers.allSatisfy({ used.contains($0.number) }) {
            copy.containers = manifest.containers.filter { used.contains($0.number) }
        }
        return copy
    }

    static func decide(_ manifest: Manifest, _ rule: RoutingRule) -> RoutingDecision {
        func no(_ reason: String) -> RoutingDecision {
            RoutingDecision(agency: rule.agency, format: rule.format, selected: false, reason: reason, consignments: [])
        }
        let transport = manifest.transport
        if let modes = rule.modes, !modes.contains(transport.mode) {
            return no("transport mode \(transport.mode.configName) is not among \(modes.map(\.configName).sorted().joined(separator: ", "))")
        }
        if let ports = rule.ports {
            let onList = { (port: String?) in port.map(ports.contains) ?? false }
            guard onList(transport.departurePort) || onList(transport.arrivalPort)
                    || manifest.consignments.contains(where: { onList($0.loadingPort) || onList($0.dischargePort) }) else {
                let touched = Set([transport.departurePort, transport.arrivalPort].compactMap { $0 }
                                  + manifest.consignments.flatMap { [$0.loadingPort, $0.dischargePort].compactMap { $0 } })
                return no("no port of the manifest (\(touched.sorted().joined(separator: ", "))) is among \(ports.sorted().joined(separator: ", "))")
            }
        }
        let modeReason = rule.modes == nil ? "any transport mode" : "transport mode \(transport.mode.configName)"
        if rule.transportLevel {
            return RoutingDecision(agency: rule.agency, format: rule.format, selected: true,
                                   reason: "\(rule.preset.rawValue): the transport means and voyage (\(modeReason))", consignments: [])
        }
        let hsList = rule.hsPrefixes.map(HSPrefixes.init)
        var choices: [RoutingDecision.ConsignmentChoice] = []
        choices.reserveCapacity(manifest.consignments.count)
        for consignment in manifest.consignments {
            var reasons: [String] = []
            if let parties = rule.parties {
                let names = consignment.parties.flatMap { [$0.id, $0.name].compactMap { $0?.lowercased() } }
                guard let match = parties.first(where: { p in names.contains { $0.contains(p.lowercased()) } }) else {
                    choices.append(.init(billOfLading: consignment.billOfLading, selected: false,
                                         reason: "no party matches \(parties.joined(separator: ", "))", goods: []))
                    continue
                }
                reasons.append("party matches '\(match)'")
            }
            // Positions in the consignment's goods, not copies of the items: this runs for every consignment
            // of every manifest, for each rule.
            let all = consignment.goods
            var goods = Array(all.indices)
            if let hsList {
                goods.removeAll { !(all[$0].hsCode.map(hsList.matches) ?? false) }
                if !goods.isEmpty { reasons.append("HS \(goods.compactMap { all[$0].hsCode }.joined(separator: ", ")) on the list") }
            }
            if rule.dangerousGoodsOnly {
                goods.removeAll { all[$0].dangerousGoods.isEmpty }
                if !goods.isEmpty {
                    reasons.append("dangerous goods UN \(goods.flatMap { all[$0].dangerousGoods.map(\.unNumber) }.joined(separator: ", "))")
                }
            }
            if goods.isEmpty && (rule.hsPrefixes != nil || rule.dangerousGoodsOnly) {
                choices.append(.init(billOfLading: consignment.billOfLading, selected: false,
                                     reason: rule.hsPrefixes != nil ? "no goods with an HS code on the list" : "no dangerous goods",
                                     goods: []))
                continue
            }
            if reasons.isEmpty { reasons.append("every consignment") }
            choices.append(.init(billOfLading: consignment.billOfLading, selected: true,
                                 reason: reasons.joined(separator: "; "), goods: goods.map { all[$0].sequence }))
        }
        let count = choices.filter(\.selected).count
        return RoutingDecision(agency: rule.agency, format: rule.format, selected: count > 0,
                               reason: count > 0 ? "\(rule.preset.rawValue): \(count) of \(choices.count) consignment(s) (\(modeReason))"
                                   : "\(rule.preset.rawValue): no consignment selected",
                               consignments: choices)
    }
}

/// A rule's HS code prefixes, matched on the codes' bytes. `String.hasPrefix` compares by characters (Unicode
/// canonical equivalence), which ASCII digits do not need: the configuration takes only digits as prefixes, and both
/// mappings keep only the digits of a code. Inspection's default list has 25 prefixes to try on every goods item of
/// every manifest.
struct HSPrefixes {
    private let prefixes: [[UInt8]]

    init(_ prefixes: [String]) { self.prefixes = prefixes.map { Array($0.utf8) } }

    func matches(_ code: String) -> Bool {
        var code = code
        return code.withUTF8 { code in
            prefixes.contains { prefix in
                prefix.count <= code.count && prefix.indices.allSatisfy { prefix[$0] == code[$0] }
            }
        }
    }
}

extension TransportMode {
    /// The spelling configuration files and messages use (`inland-waterway`).
    public var configName: String {
        switch self {
        case .inlandWaterway: "inland-waterway"
        case .fixedInstallation: "fixed-installation"
        default: rawValue
        }
    }
}
