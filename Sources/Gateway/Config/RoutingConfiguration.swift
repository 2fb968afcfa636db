import Foundation

extension Checker {
    /// `[partner.routing]` of an agency: a preset, and optionally the format and narrowing filters.
    mutating func routing(_ node: Node, at path: String, agency: String?, role: PartnerRole?) -> RoutingRule? {
        guard var r = table(node, at: path) else { return nil }
        if let role, role != .agency {
            fail(path, "applies only to agencies (role = \"agency\"); this partner is a \(role.rawValue)")
        }
        let preset = choice(&r, "preset", AgencyPreset.self, required: true)
        let format = choice(&r, "format", RoutedFormat.self)
        var modes: Set<TransportMode>?
        if let items = strings(&r, "modes") {
            modes = []
            for (itemPath, text) in items {
                if let mode = TransportMode.allCases.first(where: { $0.configName == text }) { modes?.insert(mode) } else {
                    fail(itemPath, "'\(text)' is not one of: " + TransportMode.allCases.map(\.configName).joined(separator: ", "))
                }
            }
        }
        let ports = locodes(&r, "ports")
        var prefixes: [String]?
        if let items = strings(&r, "hs_prefixes") {
            prefixes = []
            for (itemPath, text) in items {
                if (2...10).contains(text.count), text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) { prefixes?.append(text) } else {
                    fail(itemPath, "'\(text)' is not an HS code prefix (2 to 10 digits)")
                }
            }
        }
        let dangerous = bool(&r, "dangerous_goods_only") ?? false
        let parties = strings(&r, "parties")?.map(\.value)
        finish(r)
        guard let agency, let preset else { return nil }
        return RoutingRule(agency: agency, preset: preset, format: format, modes: modes, ports: ports, hsPrefixes: prefixes,
                           dangerousGoodsOnly: dangerous, parties: parties)
    }

    /// A list of UN/LOCODEs (five capital letters or digits); nil when the key is absent.
    mutating func locodes(_ t: inout Table, _ key: String) -> Set<String>? {
        guard let items = strings(&t, key) else { return nil }
        var ports: Set<String> = []
        for (itemPath, text) in items {
            if text.count == 5, text.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) { ports.insert(text) } else {
                fail(itemPath, "'\(text)' is not a UN/LOCODE (five letters or digits, e.g. KEMBA)")
            }
        }
        return ports
    }
}
