// GENERATED from schemas/*.xsd: do not edit by hand. Each constant below is its file's bytes verbatim
// between the raw-string delimiters (the file's final newline, then an empty line, then the closing
// delimiter). After changing a schema, paste the new file in place of the old text; the test
// "embedded schemas equal the files in schemas/" (XMLManifestTests) fails until they match.
//
// Why embedded: the gateway binary must validate without finding a `schemas/` directory at run time
// (installed binaries, tests, the fuzz harness all run from different places), and a schema read from
// disk at run time could be swapped. The files in schemas/ stay the published, reviewable source.

/// The XML schemas the gateway ships, embedded byte for byte (see `schemas/` at the package root).
public enum ManifestSchema: String, Sendable, Hashable, CaseIterable {
    /// `schemas/manifest-1.xsd`, `urn:swg:manifest:1`: the project's XML manifest, as carriers file it.
    case manifest = "manifest-1.xsd"
    /// `schemas/ciq-manifest-1.xsd`, `urn:swg:ciq:1`: the inspection-and-quarantine copy.
    case ciqManifest = "ciq-manifest-1.xsd"
    /// `schemas/border-1.xsd`, `urn:swg:border:1`: the border-control copy.
    case border = "border-1.xsd"
    /// `schemas/instruction-1.xsd`, `urn:swg:instruction:1`: an agency's instruction (release, inspect, hold).
    case instruction = "instruction-1.xsd"
    /// `schemas/terminal-notice-1.xsd`, `urn:swg:terminal-notice:1`: a release, inspection or hold notice to a terminal.
    case terminalNotice = "terminal-notice-1.xsd"
    /// `schemas/status-1.xsd`, `urn:swg:status:1`: consignments' combined state, to carriers and agencies.
    case status = "status-1.xsd"
    /// `schemas/status-request-1.xsd`, `urn:swg:status-request:1`: a partner's request for a status file.
    case statusRequest = "status-request-1.xsd"

    /// The file name under `schemas/`.
    public var fileName: String { rawValue }

    /// The target namespace.
    public var namespace: String {
        switch self {
        case .manifest: "urn:swg:manifest:1"
        case .ciqManifest: "urn:swg:ciq:1"
        case .border: "urn:swg:border:1"
        case .instruction: "urn:swg:instruction:1"
        case .terminalNotice: "urn:swg:terminal-notice:1"
        case .status: "urn:swg:status:1"
        case .statusRequest: "urn:swg:status-request:1"
        }
    }

    /// The schema text, identical to the file.
    public var text: String {
        switch self {
        case .manifest: manifestSchemaText
        case .ciqManifest: ciqManifestSchemaText
        case .border: borderSchemaText
        case .instruction: instructionSchemaText
        case .terminalNotice: terminalNoticeSchemaText
        case .status: statusSchemaText
        case .statusRequest: statusRequestSchemaText
        }
    }
}

// schemas/manifest-1.xsd
private let manifestSchemaText = #"""
<?xml version="1.0" encoding="UTF-8"?>
<!--
  Single Window Gateway XML manifest, version 1 (namespace urn:swg:manifest:1).

  What a carrier files when it sends XML instead of CUSCAR: the same content as the canonical model
  (Sources/Gateway/Manifest/Manifest.swift). Codes are spelled as their standards spell them
  (UN/LOCODE, ISO 6346, ISO 3166 alpha-2, HS digits, UN numbers); weights carry their unit.

  Self-contained on purpose: no xs:import or xs:include, so validating never fetches anything.
  The enveloped XML-DSig signature (verified by the gateway before mapping) is admitted by a
  skip wildcard in the xmldsig namespace, so the xmldsig schema is never needed.
  Identity rules (unique bills of lading and container numbers, goods referring to declared
  containers, ISO 6346 check digits) are checked by the mapping, which names the consignment.
-->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns="urn:swg:manifest:1"
           targetNamespace="urn:swg:manifest:1"
           elementFormDefault="qualified"
           attributeFormDefault="unqualified">

  <xs:element name="Manifest" type="ManifestType"/>

  <xs:complexType name="ManifestType">
    <xs:sequence>
      <xs:element name="DocumentNumber" type="Code35"/>
      <xs:element name="Function" type="FunctionType"/>
      <xs:element name="IssueTime" type="Timestamp" minOccurs="0"/>
      <xs:element name="Sender" type="Code35"/>
      <xs:element name="Transport" type="TransportType"/>
      <xs:element name="Containers" type="ContainersType" minOccurs="0"/>
      <xs:element name="Consignments" type="ConsignmentsType" minOccurs="0"/>
      <!-- The enveloped signature, last. Only ds:Signature is accepted (the mapping checks the name). -->
      <xs:any namespace="http://www.w3.org/2000/09/xmldsig#" processContents="skip" minOccurs="0"/>
    </xs:sequence>
    <!-- The element the enveloped signature references (URI="" or "#Id"). Not xs:ID on purpose:
         the signature verifier registers the ID itself, and nothing else must claim it. -->
    <xs:attribute name="Id" type="xs:NCName" use="optional"/>
  </xs:complexType>

  <xs:complexType name="TransportType">
    <xs:sequence>
      <xs:element name="Mode" type="ModeType"/>
      <xs:element name="Voyage" type="Code35"/>
      <xs:element name="MeansId" type="Code35" minOccurs="0"/>
      <xs:element name="MeansName" type="Text512" minOccurs="0"/>
      <xs:element name="Nationality" type="CountryCode" minOccurs="0"/>
      <xs:element name="Carrier" type="Code35" minOccurs="0"/>
      <xs:element name="DeparturePort" type="LOCODE" minOccurs="0"/>
      <xs:element name="ArrivalPort" type="LOCODE" minOccurs="0"/>
      <xs:element name="DepartureTime" type="Timestamp" minOccurs="0"/>
      <xs:element name="ArrivalTime" type="Timestamp" minOccurs="0"/>
      <xs:element name="CrewCount" type="PersonCount" minOccurs="0"/>
      <xs:element name="PassengerCount" type="PersonCount" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="ContainersType">
    <xs:sequence>
      <xs:element name="Container" type="ContainerType" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="ContainerType">
    <xs:sequence>
      <xs:element name="Number" type="ContainerNumber"/>
      <xs:element name="SizeType" type="SizeTypeCode" minOccurs="0"/>
      <xs:element name="Seal" type="Code35" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="Status" type="ContainerStatus" minOccurs="0"/>
      <xs:element name="GrossWeight" type="Weight" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="ConsignmentsType">
    <xs:sequence>
      <xs:element name="Consignment" type="ConsignmentType" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="ConsignmentType">
    <xs:sequence>
      <xs:element name="BillOfLading" type="Code35"/>
      <xs:element name="MasterBillOfLading" type="Code35" minOccurs="0"/>
      <xs:element name="LoadingPort" type="LOCODE" minOccurs="0"/>
      <xs:element name="DischargePort" type="LOCODE" minOccurs="0"/>
      <xs:element name="Party" type="PartyType" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="GoodsItem" type="GoodsItemType" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="PartyType">
    <xs:sequence>
      <xs:element name="Id" type="Code35" minOccurs="0"/>
      <xs:element name="Name" type="Text512" minOccurs="0"/>
      <xs:element name="Address" type="Text1024" minOccurs="0"/>
      <xs:element name="Country" type="CountryCode" minOccurs="0"/>
    </xs:sequence>
    <xs:attribute name="role" type="PartyRoleType" use="required"/>
  </xs:complexType>

  <xs:complexType name="GoodsItemType">
    <xs:sequence>
      <xs:element name="Sequence" type="ItemSequence"/>
      <xs:element name="Packages" type="PackageCount" minOccurs="0"/>
      <xs:element name="PackageType" type="PackageTypeCode" minOccurs="0"/>
      <xs:element name="Description" type="Text8192"/>
      <xs:element name="GrossWeight" type="Weight" minOccurs="0"/>
      <xs:element name="HSCode" type="HSCodeType" minOccurs="0"/>
      <xs:element name="DangerousGoods" type="DangerousGoodsType" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="InContainer" type="ContainerShareType" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="DangerousGoodsType">
    <xs:sequence>
      <xs:element name="UNNumber" type="UNNumberType"/>
      <xs:element name="Class" type="HazardClass" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <!-- The part of a goods item in one declared container: the container number, with the packages in it. -->
  <xs:complexType name="ContainerShareType">
    <xs:simpleContent>
      <xs:extension base="ContainerNumber">
        <xs:attribute name="packages" type="PackageCount" use="optional"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>

  <!-- A weight, converted to kilograms by the mapping. -->
  <xs:complexType name="Weight">
    <xs:simpleContent>
      <xs:extension base="WeightValue">
        <xs:attribute name="unit" type="WeightUnit" use="required"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>

  <!-- Simple types -->

  <xs:simpleType name="FunctionType">
    <xs:restriction base="xs:string">
      <xs:enumeration value="original"/>
      <xs:enumeration value="replace"/>
      <xs:enumeration value="change"/>
      <xs:enumeration value="cancel"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- UN/ECE Recommendation 19 modes, spelled as the model spells them. -->
  <xs:simpleType name="ModeType">
    <xs:restriction base="xs:string">
      <xs:enumeration value="sea"/>
      <xs:enumeration value="rail"/>
      <xs:enumeration value="road"/>
      <xs:enumeration value="air"/>
      <xs:enumeration value="mail"/>
      <xs:enumeration value="multimodal"/>
      <xs:enumeration value="fixedInstallation"/>
      <xs:enumeration value="inlandWaterway"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="PartyRoleType">
    <xs:restriction base="xs:string">
      <xs:enumeration value="shipper"/>
      <xs:enumeration value="consignee"/>
      <xs:enumeration value="notify"/>
      <xs:enumeration value="carrier"/>
      <xs:enumeration value="freightForwarder"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="ContainerStatus">
    <xs:restriction base="xs:string">
      <xs:enumeration value="full"/>
      <xs:enumeration value="empty"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="WeightUnit">
    <xs:restriction base="xs:string">
      <xs:enumeration value="kg"/>
      <xs:enumeration value="t"/>
      <xs:enumeration value="lb"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Plain decimal digits, no exponent and no sign: what every agency system reads. -->
  <xs:simpleType name="WeightValue">
    <xs:restriction base="xs:string">
      <xs:pattern value="[0-9]{1,13}(\.[0-9]{1,20})?"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Times carry their zone: a manifest crosses time zones, and a local time without one is ambiguous. -->
  <xs:simpleType name="Timestamp">
    <xs:restriction base="xs:dateTime">
      <xs:pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+\-][0-9]{2}:[0-9]{2})"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- UN/LOCODE: ISO 3166 country and three letters or digits 2-9, no space. -->
  <xs:simpleType name="LOCODE">
    <xs:restriction base="xs:string">
      <xs:pattern value="[A-Z]{2}[A-Z2-9]{3}"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="CountryCode">
    <xs:restriction base="xs:string">
      <xs:pattern value="[A-Z]{2}"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- ISO 6346: owner code, category U/J/Z, six-digit serial and check digit (checked by the mapping). -->
  <xs:simpleType name="ContainerNumber">
    <xs:restriction base="xs:string">
      <xs:pattern value="[A-Z]{3}[UJZ][0-9]{7}"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- ISO 6346 size-type code (45G1, 22R1). -->
  <xs:simpleType name="SizeTypeCode">
    <xs:restriction base="xs:string">
      <xs:pattern value="[0-9A-Z]{4}"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- UN/ECE Recommendation 21 package type (CT, PK, 1A). -->
  <xs:simpleType name="PackageTypeCode">
    <xs:restriction base="xs:string">
      <xs:pattern value="[0-9A-Z]{2}"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="HSCodeType">
    <xs:restriction base="xs:string">
      <xs:pattern value="[0-9]{6,10}"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="UNNumberType">
    <xs:restriction base="xs:string">
      <xs:pattern value="[0-9]{4}"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- IMDG / ADR class or division: 1 to 9, optionally a division (2.1) and a compatibility letter (1.4S). -->
  <xs:simpleType name="HazardClass">
    <xs:restriction base="xs:string">
      <xs:pattern value="[1-9](\.[1-9])?[A-Z]?"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="PersonCount">
    <xs:restriction base="xs:nonNegativeInteger">
      <xs:maxInclusive value="100000"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="PackageCount">
    <xs:restriction base="xs:nonNegativeInteger">
      <xs:maxInclusive value="999999999"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="ItemSequence">
    <xs:restriction base="xs:positiveInteger">
      <xs:maxInclusive value="99999"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Identifiers and references: EDIFACT's an..35, no surrounding or inner line breaks. -->
  <xs:simpleType name="Code35">
    <xs:restriction base="xs:string">
      <xs:minLength value="1"/>
      <xs:maxLength value="35"/>
      <xs:pattern value="\S([^\n\r\t]*\S)?"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Free text: at least one non-space character. -->
  <xs:simpleType name="Text512">
    <xs:restriction base="xs:string">
      <xs:maxLength value="512"/>
      <xs:pattern value="\s*\S[\s\S]*"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="Text1024">
    <xs:restriction base="xs:string">
      <xs:maxLength value="1024"/>
      <xs:pattern value="\s*\S[\s\S]*"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="Text8192">
    <xs:restriction base="xs:string">
      <xs:maxLength value="8192"/>
      <xs:pattern value="\s*\S[\s\S]*"/>
    </xs:restriction>
  </xs:simpleType>
</xs:schema>

"""#

// schemas/ciq-manifest-1.xsd
private let ciqManifestSchemaText = #"""
<?xml version="1.0" encoding="UTF-8"?>
<!--
  Single Window Gateway: the inspection-and-quarantine copy of a manifest, version 1 (namespace urn:swg:ciq:1).

  What the inspection and quarantine agency receives: a summary of the transport, and only the
  consignments the routing selected for it, with their parties, goods (HS codes, descriptions,
  dangerous goods) and the containers those goods are in. Weights are in kilograms.
  Generated by the gateway from the canonical model; self-contained (no xs:import or xs:include).
-->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns="urn:swg:ciq:1"
           targetNamespace="urn:swg:ciq:1"
           elementFormDefault="qualified"
           attributeFormDefault="unqualified">

  <xs:element name="CIQManifest" type="CIQManifestType"/>

  <xs:complexType name="CIQManifestType">
    <xs:sequence>
      <xs:element name="Header" type="HeaderType"/>
      <xs:element name="Transport" type="TransportSummaryType"/>
      <xs:element name="Containers" type="ContainersType" minOccurs="0"/>
      <xs:element name="Consignments" type="ConsignmentsType"/>
    </xs:sequence>
  </xs:complexType>

  <!-- Which filing this copy comes from, and when the gateway made it. -->
  <xs:complexType name="HeaderType">
    <xs:sequence>
      <xs:element name="SourceDocument" type="Code35"/>
      <xs:element name="Function" type="FunctionType"/>
      <xs:element name="IssueTime" type="Timestamp" minOccurs="0"/>
      <xs:element name="Sender" type="Code35"/>
      <xs:element name="GeneratedAt" type="Timestamp"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="TransportSummaryType">
    <xs:sequence>
      <xs:element name="Mode" type="ModeType"/>
      <xs:element name="Voyage" type="Code35"/>
      <xs:element name="MeansId" type="Code35" minOccurs="0"/>
      <xs:element name="MeansName" type="Text512" minOccurs="0"/>
      <xs:element name="Nationality" type="CountryCode" minOccurs="0"/>
      <xs:element name="Carrier" type="Code35" minOccurs="0"/>
      <xs:element name="DeparturePort" type="LOCODE" minOccurs="0"/>
      <xs:element name="ArrivalPort" type="LOCODE" minOccurs="0"/>
      <xs:element name="DepartureTime" type="Timestamp" minOccurs="0"/>
      <xs:element name="ArrivalTime" type="Timestamp" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <!-- Only the containers the selected consignments' goods are in. -->
  <xs:complexType name="ContainersType">
    <xs:sequence>
      <xs:element name="Container" type="ContainerType" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="ContainerType">
    <xs:sequence>
      <xs:element name="Number" type="ContainerNumber"/>
      <xs:element name="SizeType" type="SizeTypeCode" minOccurs="0"/>
      <xs:element name="Seal" type="Code35" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="Status" type="ContainerStatus" minOccurs="0"/>
      <xs:element name="GrossWeight" type="Weight" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="ConsignmentsType">
    <xs:sequence>
      <xs:element name="Consignment" type="ConsignmentType" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="ConsignmentType">
    <xs:sequence>
      <xs:element name="BillOfLading" type="Code35"/>
      <xs:element name="MasterBillOfLading" type="Code35" minOccurs="0"/>
      <xs:element name="LoadingPort" type="LOCODE" minOccurs="0"/>
      <xs:element name="DischargePort" type="LOCODE" minOccurs="0"/>
      <xs:element name="Party" type="PartyType" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="GoodsItem" type="GoodsItemType" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="PartyType">
    <xs:sequence>
      <xs:element name="Id" type="Code35" minOccurs="0"/>
      <xs:element name="Name" type="Text512" minOccurs="0"/>
      <xs:element name="Address" type="Text1024" minOccurs="0"/>
      <xs:element name="Country" type="CountryCode" minOccurs="0"/>
    </xs:sequence>
    <xs:attribute name="role" type="PartyRoleType" use="required"/>
  </xs:complexType>

  <xs:complexType name="GoodsItemType">
    <xs:sequence>
      <xs:element name="Sequence" type="ItemSequence"/>
      <xs:element name="Packages" type="PackageCount" minOccurs="0"/>
      <xs:element name="PackageType" type="PackageTypeCode" minOccurs="0"/>
      <xs:element name="Description" type="Text8192"/>
      <xs:element name="GrossWeight" type="Weight" minOccurs="0"/>
      <xs:element name="HSCode" type="HSCodeType" minOccurs="0"/>
      <xs:element name="DangerousGoods" type="DangerousGoodsType" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="InContainer" type="ContainerShareType" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="DangerousGoodsType">
    <xs:sequence>
      <xs:element name="UNNumber" type="UNNumberType"/>
      <xs:element name="Class" type="HazardClass" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <!-- The part of a goods item in one declared container: the container number, with the packages in it. -->
  <xs:complexType name="ContainerShareType">
    <xs:simpleContent>
      <xs:extension base="ContainerNumber">
        <xs:attribute name="packages" type="PackageCount" use="optional"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>

  <!-- A weight, converted to kilograms by the mapping. -->
  <xs:complexType name="Weight">
    <xs:simpleContent>
      <xs:extension base="WeightValue">
        <xs:attribute name="unit" type="WeightUnit" use="required"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>

  <!-- Simple types -->

  <xs:simpleType name="FunctionType">
    <xs:restriction base="xs:string">
      <xs:enumeration value="original"/>
      <xs:enumeration value="replace"/>
      <xs:enumeration value="change"/>
      <xs:enumeration value="cancel"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- UN/ECE Recommendation 19 modes, spelled as the model spells them. -->
  <xs:simpleType name="ModeType">
    <xs:restriction base="xs:string">
      <xs:enumeration value="sea"/>
      <xs:enumeration value="rail"/>
      <xs:enumeration value="road"/>
      <xs:enumeration value="air"/>
      <xs:enumeration value="mail"/>
      <xs:enumeration value="multimodal"/>
      <xs:enumeration value="fixedInstallation"/>
      <xs:enumeration value="inlandWaterway"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="PartyRoleType">
    <xs:restriction base="xs:string">
      <xs:enumeration value="shipper"/>
      <xs:enumeration value="consignee"/>
      <xs:enumeration value="notify"/>
      <xs:enumeration value="carrier"/>
      <xs:enumeration value="freightForwarder"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="ContainerStatus">
    <xs:restriction base="xs:string">
      <xs:enumeration value="full"/>
      <xs:enumeration value="empty"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="WeightUnit">
    <xs:restriction base="xs:string">
      <xs:enumeration value="kg"/>
      <xs:enumeration value="t"/>
      <xs:enumeration value="lb"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Plain decimal digits, no exponent and no sign: what every agency system reads. -->
  <xs:simpleType name="WeightValue">
    <xs:restriction base="xs:string">
      <xs:pattern value="[0-9]{1,13}(\.[0-9]{1,20})?"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Times carry their zone: a manifest crosses time zones, and a local time without one is ambiguous. -->
  <xs:simpleType name="Timestamp">
    <xs:restriction base="xs:dateTime">
      <xs:pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+\-][0-9]{2}:[0-9]{2})"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- UN/LOCODE: ISO 3166 country and three letters or digits 2-9, no space. -->
  <xs:simpleType name="LOCODE">
    <xs:restriction base="xs:string">
      <xs:pattern value="[A-Z]{2}[A-Z2-9]{3}"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="CountryCode">
    <xs:restriction base="xs:string">
      <xs:pattern value="[A-Z]{2}"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- ISO 6346: owner code, category U/J/Z, six-digit serial and check digit (checked by the mapping). -->
  <xs:simpleType name="ContainerNumber">
    <xs:restriction base="xs:string">
      <xs:pattern value="[A-Z]{3}[UJZ][0-9]{7}"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- ISO 6346 size-type code (45G1, 22R1). -->
  <xs:simpleType name="SizeTypeCode">
    <xs:restriction base="xs:string">
      <xs:pattern value="[0-9A-Z]{4}"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- UN/ECE Recommendation 21 package type (CT, PK, 1A). -->
  <xs:simpleType name="PackageTypeCode">
    <xs:restriction base="xs:string">
      <xs:pattern value="[0-9A-Z]{2}"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="HSCodeType">
    <xs:restriction base="xs:string">
      <xs:pattern value="[0-9]{6,10}"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="UNNumberType">
    <xs:restriction base="xs:string">
      <xs:pattern value="[0-9]{4}"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- IMDG / ADR class or division: 1 to 9, optionally a division (2.1) and a compatibility letter (1.4S). -->
  <xs:simpleType name="HazardClass">
    <xs:restriction base="xs:string">
      <xs:pattern value="[1-9](\.[1-9])?[A-Z]?"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="PersonCount">
    <xs:restriction base="xs:nonNegativeInteger">
      <xs:maxInclusive value="100000"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="PackageCount">
    <xs:restriction base="xs:nonNegativeInteger">
      <xs:maxInclusive value="999999999"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="ItemSequence">
    <xs:restriction base="xs:positiveInteger">
      <xs:maxInclusive value="99999"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Identifiers and references: EDIFACT's an..35, no surrounding or inner line breaks. -->
  <xs:simpleType name="Code35">
    <xs:restriction base="xs:string">
      <xs:minLength value="1"/>
      <xs:maxLength value="35"/>
      <xs:pattern value="\S([^\n\r\t]*\S)?"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Free text: at least one non-space character. -->
  <xs:simpleType name="Text512">
    <xs:restriction base="xs:string">
      <xs:maxLength value="512"/>
      <xs:pattern value="\s*\S[\s\S]*"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="Text1024">
    <xs:restriction base="xs:string">
      <xs:maxLength value="1024"/>
      <xs:pattern value="\s*\S[\s\S]*"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="Text8192">
    <xs:restriction base="xs:string">
      <xs:maxLength value="8192"/>
      <xs:pattern value="\s*\S[\s\S]*"/>
    </xs:restriction>
  </xs:simpleType>
</xs:schema>

"""#

// schemas/border-1.xsd
private let borderSchemaText = #"""
<?xml version="1.0" encoding="UTF-8"?>
<!--
  Single Window Gateway: the border-control copy of a manifest, version 1 (namespace urn:swg:border:1).

  Border control (immigration, frontier inspection) needs the means of transport, its voyage,
  ports and times, who is on board (crew and passenger counts), and how much cargo it carries
  (consignment and container counts) - and nothing about goods, parties or bills of lading.
  Generated by the gateway from the canonical model; self-contained (no xs:import or xs:include).
-->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns="urn:swg:border:1"
           targetNamespace="urn:swg:border:1"
           elementFormDefault="qualified"
           attributeFormDefault="unqualified">

  <xs:element name="BorderManifest" type="BorderManifestType"/>

  <xs:complexType name="BorderManifestType">
    <xs:sequence>
      <xs:element name="Header" type="HeaderType"/>
      <xs:element name="Transport" type="TransportType"/>
      <xs:element name="ConsignmentCount" type="xs:nonNegativeInteger"/>
      <xs:element name="ContainerCount" type="xs:nonNegativeInteger"/>
    </xs:sequence>
  </xs:complexType>

  <!-- Which filing this copy comes from, and when the gateway made it. -->
  <xs:complexType name="HeaderType">
    <xs:sequence>
      <xs:element name="SourceDocument" type="Code35"/>
      <xs:element name="Function" type="FunctionType"/>
      <xs:element name="IssueTime" type="Timestamp" minOccurs="0"/>
      <xs:element name="Sender" type="Code35"/>
      <xs:element name="GeneratedAt" type="Timestamp"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="TransportType">
    <xs:sequence>
      <xs:element name="Mode" type="ModeType"/>
      <xs:element name="Voyage" type="Code35"/>
      <xs:element name="MeansId" type="Code35" minOccurs="0"/>
      <xs:element name="MeansName" type="Text512" minOccurs="0"/>
      <xs:element name="Nationality" type="CountryCode" minOccurs="0"/>
      <xs:element name="DeparturePort" type="LOCODE" minOccurs="0"/>
      <xs:element name="ArrivalPort" type="LOCODE" minOccurs="0"/>
      <xs:element name="DepartureTime" type="Timestamp" minOccurs="0"/>
      <xs:element name="ArrivalTime" type="Timestamp" minOccurs="0"/>
      <xs:element name="CrewCount" type="PersonCount" minOccurs="0"/>
      <xs:element name="PassengerCount" type="PersonCount" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <xs:simpleType name="FunctionType">
    <xs:restriction base="xs:string">
      <xs:enumeration value="original"/>
      <xs:enumeration value="replace"/>
      <xs:enumeration value="change"/>
      <xs:enumeration value="cancel"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- UN/ECE Recommendation 19 modes, spelled as the model spells them. -->
  <xs:simpleType name="ModeType">
    <xs:restriction base="xs:string">
      <xs:enumeration value="sea"/>
      <xs:enumeration value="rail"/>
      <xs:enumeration value="road"/>
      <xs:enumeration value="air"/>
      <xs:enumeration value="mail"/>
      <xs:enumeration value="multimodal"/>
      <xs:enumeration value="fixedInstallation"/>
      <xs:enumeration value="inlandWaterway"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Times carry their zone: a manifest crosses time zones, and a local time without one is ambiguous. -->
  <xs:simpleType name="Timestamp">
    <xs:restriction base="xs:dateTime">
      <xs:pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+\-][0-9]{2}:[0-9]{2})"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- UN/LOCODE: ISO 3166 country and three letters or digits 2-9, no space. -->
  <xs:simpleType name="LOCODE">
    <xs:restriction base="xs:string">
      <xs:pattern value="[A-Z]{2}[A-Z2-9]{3}"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="CountryCode">
    <xs:restriction base="xs:string">
      <xs:pattern value="[A-Z]{2}"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="PersonCount">
    <xs:restriction base="xs:nonNegativeInteger">
      <xs:maxInclusive value="100000"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Identifiers and references: EDIFACT's an..35, no surrounding or inner line breaks. -->
  <xs:simpleType name="Code35">
    <xs:restriction base="xs:string">
      <xs:minLength value="1"/>
      <xs:maxLength value="35"/>
      <xs:pattern value="\S([^\n\r\t]*\S)?"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Free text: at least one non-space character. -->
  <xs:simpleType name="Text512">
    <xs:restriction base="xs:string">
      <xs:maxLength value="512"/>
      <xs:pattern value="\s*\S[\s\S]*"/>
    </xs:restriction>
  </xs:simpleType>
</xs:schema>

"""#

// schemas/instruction-1.xsd
private let instructionSchemaText = #"""
<?xml version="1.0" encoding="UTF-8"?>
<!--
  Single Window Gateway: an agency's instruction, version 1 (namespace urn:swg:instruction:1).

  What an agency dropping XML (instead of CUSRES) says about goods it was routed: release, inspect, hold,
  or the result of an inspection it asked for (passed, failed). The objects are bills of lading and/or
  containers, narrowed to one manifest when Manifest is given; with no Bill and no Container the
  instruction is about the whole Manifest. Reference is the agency's own number for the instruction (a
  repeat with the same reference, action and object is one fact); IssueTime orders an agency's
  instructions that arrive out of order. Self-contained (no xs:import or xs:include).
-->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns="urn:swg:instruction:1"
           targetNamespace="urn:swg:instruction:1"
           elementFormDefault="qualified"
           attributeFormDefault="unqualified">

  <xs:element name="Instruction" type="InstructionType"/>

  <xs:complexType name="InstructionType">
    <xs:sequence>
      <xs:element name="Reference" type="Code35"/>
      <xs:element name="Action" type="ActionType"/>
      <xs:element name="IssueTime" type="Timestamp" minOccurs="0"/>
      <xs:element name="Manifest" type="Code35" minOccurs="0"/>
      <xs:element name="Bill" type="Code35" minOccurs="0" maxOccurs="9999"/>
      <xs:element name="Container" type="ContainerNumber" minOccurs="0" maxOccurs="9999"/>
      <xs:element name="Note" type="Text512" minOccurs="0"/>
      <!-- An enveloped XML-DSig signature (verified before mapping), skipped by the schema. -->
      <xs:any namespace="http://www.w3.org/2000/09/xmldsig#" processContents="skip" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>

  <xs:simpleType name="ActionType">
    <xs:restriction base="xs:string">
      <xs:enumeration value="release"/>
      <xs:enumeration value="inspect"/>
      <xs:enumeration value="hold"/>
      <xs:enumeration value="passed"/>
      <xs:enumeration value="failed"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- ISO 6346: owner code (U, J or Z as the fourth letter), serial and check digit (checked by the gateway). -->
  <xs:simpleType name="ContainerNumber">
    <xs:restriction base="xs:string">
      <xs:pattern value="[A-Z]{3}[UJZ][0-9]{7}"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Times carry their zone. -->
  <xs:simpleType name="Timestamp">
    <xs:restriction base="xs:dateTime">
      <xs:pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+\-][0-9]{2}:[0-9]{2})"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Identifiers and references: EDIFACT's an..35, no surrounding or inner line breaks. -->
  <xs:simpleType name="Code35">
    <xs:restriction base="xs:string">
      <xs:minLength value="1"/>
      <xs:maxLength value="35"/>
      <xs:pattern value="\S([^\n\r\t]*\S)?"/>
    </xs:restriction>
  </xs:simpleType>

  <!-- Free text: at least one non-space character. -->
  <xs:simpleType name="Text512">
    <xs:restriction base="xs:string">
      <xs:maxLength value="512"/>
      <xs:pattern value="\s*\S[\s\S]*"/>
    </xs:restriction>
  </xs:simpleType>
</xs:schema>

"""#

// schemas/terminal-notice-1.xsd
private let terminalNoticeSchemaText = #"""
<?xml version="1.0" encoding="UTF-8"?>
<!--
  Single Window Gateway: a notice to a terminal, version 1 (namespace urn:swg:terminal-notice:1).

  Beside the COREOR releases, the gateway tells a terminal which boxes are not to go: a joint-inspection
  notice lists the containers to present for inspection and every agency that will attend (the box is
  moved and opened once for all of them); a hold notice lists the containers an agency holds and who holds
  them. A terminal that takes XML rather than EDIFACT (partner notices = "xml") also gets its releases here:
  kind "release" with the release's expiry (ValidUntil) and the agencies that released each box, and kind
  "release-cancellation" naming the release it withdraws (Cancels). Generated by the gateway; self-contained
  (no xs:import or xs:include).
-->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns="urn:swg:terminal-notice:1"
           targetNamespace="urn:swg:terminal-notice:1"
           elementFormDefault="qualified"
           attributeFormDefault="unqualified">

  <xs:element name="TerminalNotice" type="TerminalNoticeType"/>

  <xs:complexType name="TerminalNoticeType">
    <xs:sequence>
      <xs:element name="Reference" type="Code35"/>
      <xs:element name="Kind" type="KindType"/>
      <xs:element name="GeneratedAt" type="Timestamp"/>
      <xs:element name="Cancels" type="Code35" minOccurs="0"/>
      <xs:element name="ValidUntil" type="Timestamp" minOccurs="0"/>
      <xs:element name="Manifest" type="Code35"/>
      <xs:element name="Voyage" type="Code35"/>
      <xs:element name="MeansName" type="Text512" minOccurs="0"/>
      <xs:element name="Container" type="ContainerType" maxOccurs="9999"/>
    </xs:sequence>
  </xs:complexType>

  <xs:simpleType name="KindType">
    <xs:restriction base="xs:string">
      <xs:enumeration value="joint-inspection"/>
      <xs:enumeration value="inspection"/>
      <xs:enumeration value="hold"/>
      <xs:enumeration value="release"/>
      <xs:enumeration value="release-cancellation"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:complexType name="ContainerType">
    <xs:sequence>
      <xs:element name="Number" type="ContainerNumber"/>
      <xs:element name="Bill" type="Code35" maxOccurs="9999"/>
      <xs:element name="Agency" type="Code35" minOccurs="0" maxOccurs="99"/>
    </xs:sequence>
  </xs:complexType>

  <xs:simpleType name="ContainerNumber">
    <xs:restriction base="xs:string">
      <xs:pattern value="[A-Z]{3}[UJZ][0-9]{7}"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="Timestamp">
    <xs:restriction base="xs:dateTime">
      <xs:pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+\-][0-9]{2}:[0-9]{2})"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="Code35">
    <xs:restriction base="xs:string">
      <xs:minLength value="1"/>
      <xs:maxLength value="35"/>
      <xs:pattern value="\S([^\n\r\t]*\S)?"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="Text512">
    <xs:restriction base="xs:string">
      <xs:maxLength value="512"/>
      <xs:pattern value="\s*\S[\s\S]*"/>
    </xs:restriction>
  </xs:simpleType>
</xs:schema>

"""#

// schemas/status-1.xsd
private let statusSchemaText = #"""
<?xml version="1.0" encoding="UTF-8"?>
<!--
  Single Window Gateway: a status, version 1 (namespace urn:swg:status:1).

  The combined state of consignments, as the merge of the agencies' instructions has it: sent to a carrier
  and to the agencies concerned when it changes (partners with notices = "xml"; others get CUSRES), and in
  reply to a status request (InReplyTo: the request's Reference). An agency's copy also carries each
  agency's position (Agency), the others' results included. A reference a request named that the partner
  cannot see is listed as NotFound. Generated by the gateway; self-contained (no xs:import or xs:include).
-->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns="urn:swg:status:1"
           targetNamespace="urn:swg:status:1"
           elementFormDefault="qualified"
           attributeFormDefault="unqualified">

  <xs:element name="Status" type="StatusType"/>

  <xs:complexType name="StatusType">
    <xs:sequence>
      <xs:element name="Reference" type="Code35"/>
      <xs:element name="GeneratedAt" type="Timestamp"/>
      <xs:element name="InReplyTo" type="Code35" minOccurs="0"/>
      <xs:element name="Consignment" type="ConsignmentType" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="NotFound" type="Code35" minOccurs="0" maxOccurs="999"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="ConsignmentType">
    <xs:sequence>
      <xs:element name="Manifest" type="Code35"/>
      <xs:element name="Bill" type="Code35"/>
      <xs:element name="State" type="StateType"/>
      <xs:element name="Reason" type="Text512" minOccurs="0"/>
      <xs:element name="Container" type="ContainerType" minOccurs="0" maxOccurs="9999"/>
      <xs:element name="Agency" type="AgencyType" minOccurs="0" maxOccurs="99"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="ContainerType">
    <xs:sequence>
      <xs:element name="Number" type="ContainerNumber"/>
      <xs:element name="State" type="StateType"/>
    </xs:sequence>
  </xs:complexType>

  <xs:complexType name="AgencyType">
    <xs:sequence>
      <xs:element name="Id" type="Code35"/>
      <xs:element name="Position" type="PositionType"/>
    </xs:sequence>
  </xs:complexType>

  <xs:simpleType name="StateType">
    <xs:restriction base="xs:string">
      <xs:enumeration value="pending"/>
      <xs:enumeration value="released"/>
      <xs:enumeration value="inspection"/>
      <xs:enumeration value="held"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="PositionType">
    <xs:restriction base="xs:string">
      <xs:enumeration value="waiting"/>
      <xs:enumeration value="released"/>
      <xs:enumeration value="inspecting"/>
      <xs:enumeration value="holding"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="ContainerNumber">
    <xs:restriction base="xs:string">
      <xs:pattern value="[A-Z]{3}[UJZ][0-9]{7}"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="Timestamp">
    <xs:restriction base="xs:dateTime">
      <xs:pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+\-][0-9]{2}:[0-9]{2})"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="Code35">
    <xs:restriction base="xs:string">
      <xs:minLength value="1"/>
      <xs:maxLength value="35"/>
      <xs:pattern value="\S([^\n\r\t]*\S)?"/>
    </xs:restriction>
  </xs:simpleType>

  <xs:simpleType name="Text512">
    <xs:restriction base="xs:string">
      <xs:maxLength value="512"/>
      <xs:pattern value="\s*\S[\s\S]*"/>
    </xs:restriction>
  </xs:simpleType>
</xs:schema>

"""#

// schemas/status-request-1.xsd
private let statusRequestSchemaText = #"""
<?xml version="1.0" encoding="UTF-8"?>
<!--
  Single Window Gateway: a status request, version 1 (namespace urn:swg:status-request:1).

  For partners that can only drop and pick up files: a carrier (or an agency) drops a StatusRequest naming
  bills of lading, containers or manifests, and gets one status file back in its pickup (status-1.xsd, or
  CUSRES for partners that take EDIFACT) with the combined state of each consignment it may see: a carrier
  its own, an agency what it was routed. The reply's InReplyTo is this Reference. At most 999 references.
  Self-contained (no xs:import or xs:include).
-->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns="urn:swg:status-request:1"
           targetNamespace="urn:swg:status-request:1"
           elementFormDefault="qualified"
           attributeFormDefault="unqualified">

  <xs:element name="StatusRequest" type="StatusRequestType"/>

  <xs:complexType name="StatusRequestType">
    <xs:sequence>
      <xs:element name="Reference" type="Code35"/>
      <xs:choice maxOccurs="999">
        <xs:element name="Bill" type="Code35"/>
        <xs:element name="Container" type="Code35"/>
        <xs:element name="Manifest" type="Code35"/>
      </xs:choice>
    </xs:sequence>
  </xs:complexType>

  <xs:simpleType name="Code35">
    <xs:restriction base="xs:string">
      <xs:minLength value="1"/>
      <xs:maxLength value="35"/>
      <xs:pattern value="\S([^\n\r\t]*\S)?"/>
    </xs:restriction>
  </xs:simpleType>
</xs:schema>

"""#
