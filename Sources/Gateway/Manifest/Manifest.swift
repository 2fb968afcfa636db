import Foundation

// The canonical manifest (issue 6): what a carrier files once, whatever its format (CUSCAR D95B or D96A,
// or the project's XML manifest), normalized so every agency's copy is generated from one model and the
// library can answer "what happened to this bill of lading?". Codes are kept as the standards spell
// them (UN/LOCODE ports, ISO 6346 container numbers, ISO 6346 size-type codes, HS codes as digits,
// UN numbers for dangerous goods); weights are kilograms.

/// One manifest as filed: a document number, what the filing does (original, replace, change, cancel),
/// the transport means and voyage, the containers, and the consignments with their goods.
public struct Manifest: Sendable, Hashable, Codable {
    /// The manifest or report number (CUSCAR BGM 1004).
    public var documentNumber: String
    /// What this filing does to the library (CUSCAR BGM 1225).
    public var function: ManifestFunction
    /// When the carrier issued it (CUSCAR DTM 137), if it says.
    public var issuedAt: Date?
    /// The filing party's identification (UNB sender, or the XML's), for messages.
    public var sender: String
    public var transport: TransportMeans
    /// Equipment reported with the manifest (CUSCAR header EQD groups), by container number.
    public var containers: [Container]
    public var consignments: [Consignment]

    public init(documentNumber: String, function: ManifestFunction, issuedAt: Date? = nil, sender: String,
                transport: TransportMeans, containers: [Container] = [], consignments: [Consignment] = []) {
        self.documentNumber = documentNumber
        self.function = function
        self.issuedAt = issuedAt
        self.sender = sender
        self.transport = transport
        self.containers = containers
        self.consignments = consignments
    }
}

/// What a filing does to the library (BGM 1225 message function).
public enum ManifestFunction: String, Sendable, Hashable, Codable, CaseIterable {
    /// 9: a new manifest.
    case original
    /// 5: replaces the whole earlier filing with the same document number.
    case replace
    /// 4: changes the consignments it lists; the others stay as they were.
    case change
    /// 1: withdraws the earlier filing.
    case cancel

    /// The EDIFACT 1225 code.
    public var code: String {
        switch self {
        case .original: "9"
        case .replace: "5"
        case .change: "4"
        case .cancel: "1"
        }
    }

    public init?(code: String) {
        guard let match = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = match
    }
}

/// Mode of transport (UN/ECE Recommendation 19, EDIFACT 8067).
public enum TransportMode: String, Sendable, Hashable, Codable, CaseIterable {
    case sea, rail, road, air, mail, multimodal, fixedInstallation, inlandWaterway

    /// The Rec. 19 code.
    public var code: String {
        switch self {
        case .sea: "1"
        case .rail: "2"
        case .road: "3"
        case .air: "4"
        case .mail: "5"
        case .multimodal: "6"
        case .fixedInstallation: "7"
        case .inlandWaterway: "8"
        }
    }

    public init?(code: String) {
        guard let match = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = match
    }

    /// Waterway transport (sea or inland waterway): what the maritime authority takes.
    public var isWaterway: Bool { self == .sea || self == .inlandWaterway }
}

/// The means of transport and its voyage (CUSCAR header TDT group).
public struct TransportMeans: Sendable, Hashable, Codable {
    public var mode: TransportMode
    /// Voyage, flight or trip number (TDT 8028).
    public var voyage: String
    /// Identification of the means: vessel call sign or IMO number, flight, train or vehicle id (TDT C222 8213).
    public var meansId: String?
    /// Name of the vessel or means (TDT C222 8212).
    public var meansName: String?
    /// Nationality of the means, ISO 3166 alpha-2 (TDT C222 8453).
    public var nationality: String?
    /// Carrier identification (TDT C040 3127).
    public var carrier: String?
    /// UN/LOCODEs: place of departure (LOC 5) and of arrival or discharge (LOC 60), when given.
    public var departurePort: String?
    public var arrivalPort: String?
    /// Estimated departure (DTM 133) and arrival (DTM 132) times.
    public var departure: Date?
    public var arrival: Date?
    /// Crew and passengers on board, where the filing says (border control's interest).
    public var crewCount: Int?
    public var passengerCount: Int?

    public init(mode: TransportMode, voyage: String, meansId: String? = nil, meansName: String? = nil,
                nationality: String? = nil, carrier: String? = nil, departurePort: String? = nil,
                arrivalPort: String? = nil, departure: Date? = nil, arrival: Date? = nil,
                crewCount: Int? = nil, passengerCount: Int? = nil) {
        self.mode = mode
        self.voyage = voyage
        self.meansId = meansId
        self.meansName = meansName
        self.nationality = nationality
        self.carrier = carrier
        self.departurePort = departurePort
        self.arrivalPort = arrivalPort
        self.departure = departure
        self.arrival = arrival
        self.crewCount = crewCount
        self.passengerCount = passengerCount
    }
}

/// One container (CUSCAR EQD group).
public struct Container: Sendable, Hashable, Codable {
    /// ISO 6346 number, owner code + serial + check digit, upper case, no spaces (`MSCU1234566`).
    public var number: String
    /// ISO 6346 size-type code (`45G1`).
    public var sizeType: String?
    /// Seal numbers (SEL).
    public var seals: [String]
    /// Full or empty (EQD 8169: 4 empty, 5/7/8 full).
    public var isFull: Bool?
    /// Gross weight in kilograms (MEA AAE G).
    public var grossWeightKg: Double?

    public init(number: String, sizeType: String? = nil, seals: [String] = [], isFull: Bool? = nil, grossWeightKg: Double? = nil) {
        self.number = number
        self.sizeType = sizeType
        self.seals = seals
        self.isFull = isFull
        self.grossWeightKg = grossWeightKg
    }
}

/// The role a party plays in a consignment (EDIFACT 3035).
public enum PartyRole: String, Sendable, Hashable, Codable, CaseIterable {
    case shipper, consignee, notify, carrier, freightForwarder

    /// The 3035 qualifier.
    public var code: String {
        switch self {
        case .shipper: "CZ"
        case .consignee: "CN"
        case .notify: "N1"
        case .carrier: "CA"
        case .freightForwarder: "FW"
        }
    }

    /// From a 3035 qualifier (`NI` is read as notify too).
    public init?(code: String) {
        if code == "NI" { self = .notify; return }
        guard let match = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = match
    }
}

/// A party to a consignment (CUSCAR NAD in the consignment).
public struct Party: Sendable, Hashable, Codable {
    public var role: PartyRole
    /// Coded identification (NAD C082 3039), when given.
    public var id: String?
    /// Name (NAD C080, lines joined by a space).
    public var name: String?
    /// Street and city lines (NAD C059, 3164), joined by ", ".
    public var address: String?
    /// ISO 3166 alpha-2 country (NAD 3207).
    public var country: String?

    public init(role: PartyRole, id: String? = nil, name: String? = nil, address: String? = nil, country: String? = nil) {
        self.role = role
        self.id = id
        self.name = name
        self.address = address
        self.country = country
    }
}

/// Dangerous goods on a goods item (DGS).
public struct DangerousGoods: Sendable, Hashable, Codable {
    /// UN number, four digits (`1263`).
    public var unNumber: String
    /// IMDG / ADR hazard class (`3`, `2.1`).
    public var hazardClass: String?

    public init(unNumber: String, hazardClass: String? = nil) {
        self.unNumber = unNumber
        self.hazardClass = hazardClass
    }
}

/// One goods item of a consignment (CUSCAR GID group).
public struct GoodsItem: Sendable, Hashable, Codable {
    /// Item number within the consignment (GID 1496).
    public var sequence: Int
    /// Number and kind of packages (GID C213 7224, 7065 UN/ECE Rec. 21 code).
    public var packages: Int?
    public var packageType: String?
    /// Goods description (FTX AAA lines joined by a space).
    public var description: String
    /// Gross weight in kilograms.
    public var grossWeightKg: Double?
    /// HS code as digits only, 6 to 10 of them (CST C246 7361 with 1131 = 122 or 169).
    public var hsCode: String?
    public var dangerousGoods: [DangerousGoods]
    /// The containers it is in, with the packages in each (SGP).
    public var containers: [ContainerShare]

    public init(sequence: Int, packages: Int? = nil, packageType: String? = nil, description: String,
                grossWeightKg: Double? = nil, hsCode: String? = nil, dangerousGoods: [DangerousGoods] = [],
                containers: [ContainerShare] = []) {
        self.sequence = sequence
        self.packages = packages
        self.packageType = packageType
        self.description = description
        self.grossWeightKg = grossWeightKg
        self.hsCode = hsCode
        self.dangerousGoods = dangerousGoods
        self.containers = containers
    }
}

/// The part of a goods item in one container (SGP).
public struct ContainerShare: Sendable, Hashable, Codable {
    public var container: String
    public var packages: Int?

    public init(container: String, packages: Int? = nil) {
        self.container = container
        self.packages = packages
    }
}

/// One consignment: a bill of lading with its parties, ports and goods (CUSCAR CNI group).
public struct Consignment: Sendable, Hashable, Codable {
    /// The bill of lading (RFF BM; BH for a house bill).
    public var billOfLading: String
    /// The master bill a house bill belongs to (RFF MB), if any.
    public var masterBillOfLading: String?
    /// UN/LOCODEs of loading (LOC 9) and discharge (LOC 11).
    public var loadingPort: String?
    public var dischargePort: String?
    public var parties: [Party]
    public var goods: [GoodsItem]

    public init(billOfLading: String, masterBillOfLading: String? = nil, loadingPort: String? = nil,
                dischargePort: String? = nil, parties: [Party] = [], goods: [GoodsItem] = []) {
        self.billOfLading = billOfLading
        self.masterBillOfLading = masterBillOfLading
        self.loadingPort = loadingPort
        self.dischargePort = dischargePort
        self.parties = parties
        self.goods = goods
    }

    /// The containers its goods are in, each once, in order of first mention.
    public var containerNumbers: [String] {
        // Usually a consignment's goods are in one or two containers: a scan of the few found is cheaper than
        // hashing every number (this getter runs for every copy, filing and routing decision). Many go to a set.
        var numbers: [String] = []
        var seen: Set<String> = []  // from the 16th on
        for item in goods {
            for share in item.containers {
                let number = share.container
                if numbers.count < 16 {
                    guard !numbers.contains(number) else { continue }
                    numbers.append(number)
                    if numbers.count == 16 { seen = Set(numbers) }
                } else if seen.insert(number).inserted {
                    numbers.append(number)
                }
            }
        }
        return numbers
    }
}

/// A mapping refusal: an application error (APERAK), naming the consignment and the segment.
public struct ManifestMappingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable code, `manifest.<kind>` (`manifest.container-check-digit`, `manifest.missing-bill-of-lading`, ...).
    public var code: String
    /// The bill of lading concerned, when the error is inside a consignment.
    public var consignment: String?
    /// Where: for EDIFACT the segment tag and its position (`EQD` segment 12), for XML the element path.
    public var location: String
    /// Byte offset in the file, when known.
    public var offset: Int?
    /// Plain words for the partner and the operator.
    public var message: String

    public init(code: String, consignment: String? = nil, location: String, offset: Int? = nil, message: String) {
        self.code = code
        self.consignment = consignment
        self.location = location
        self.offset = offset
        self.message = message
    }

    public var description: String {
        var text = "[\(code)]"
        if let consignment { text += " consignment \(consignment):" }
        text += " \(location)"
        if let offset { text += " (byte \(offset))" }
        return text + ": " + message
    }
}

/// ISO 6346 container numbers: the check digit over owner code, category and serial.
public enum ISO6346 {
    /// Whether `number` is 4 letters (the 4th U, J or Z), 6 digits and a check digit that matches.
    public static func isValid(_ number: String) -> Bool {
        // Straight over the UTF-8 view: no byte array or string per container (it is run on every EQD read).
        let utf8 = number.utf8
        guard utf8.count == 11 else { return false }
        var sum = 0, index = 0, check = 0
        for c in utf8 {
            if index < 4 {
                guard c >= 65 && c <= 90, index < 3 || c == 85 || c == 74 || c == 90 else { return false }  // U, J or Z
            } else {
                guard c >= 48 && c <= 57 else { return false }
            }
            if index < 10 { sum += value(c)! << index } else { check = Int(c - 48) }
            index += 1
        }
        return sum % 11 % 10 == check
    }

    /// The check digit of the first 10 characters (letters valued 10..38 skipping multiples of 11).
    public static func checkDigit(_ first10: String) -> Int? {
        let chars = Array(first10.utf8)
        guard chars.count == 10 else { return nil }
        var sum = 0
        for (index, c) in chars.enumerated() {
            guard let value = value(c) else { return nil }
            sum += value << index
        }
        return sum % 11 % 10
    }

    /// A character's value in the check digit sum: digits 0-9, letters 10..38 skipping multiples of 11.
    private static func value(_ c: UInt8) -> Int? {
        if c >= 48 && c <= 57 { return Int(c - 48) }
        guard c >= 65 && c <= 90 else { return nil }
        var v = 10
        for _ in UInt8(65)..<c {
            v += 1
            if v % 11 == 0 { v += 1 }
        }
        return v
    }
}
