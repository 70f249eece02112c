import FHIRCore
import FHIRInteractions

/// How a vendor shows the clinic's patients, as data (`render.Patient` in a profile): the
/// tenant stores the seed's Patients, and this step renders every Patient in a response in the
/// vendor's shape — identifiers with the vendor's systems, type labels and derived values, extra
/// extensions, duplicated names, telecom detail — and maps identifier searches in the vendor's
/// terms back to the stored identifiers.
public struct PatientRendering: FHIRRequestStep {
    public struct Identifier: Sendable, Equatable {
        /// The stored identifier it is made from (its system).
        public var from: String
        public var system: String
        /// `Identifier.type` (JSON).
        public var type: JSON?
        public var use: String?
        /// The value: `{value}` is the stored value, `{number}` the digits of the patient's id.
        public var value = "{value}"
        /// Labels that name it in `identifier={label}|{value}` searches (Epic: `MRN|203713`).
        public var searchLabels: [String] = []

        public init(from: String, system: String) {
            self.from = from
            self.system = system
        }
    }

    /// An extension added to every Patient, or chosen by `Patient.gender`.
    public struct Extension: Sendable, Equatable {
        public var always: JSON?
        public var byGender: [String: JSON] = [:]

        public init() {}
    }

    public struct Telecom: Sendable, Equatable {
        /// Phone values as raw digits (Cerner: `3095550162`, no formatting).
        public var phoneDigits = false
        /// The `iso21090-TEL-address` extension repeating the digits.
        public var telAddressExtension = false
        /// Element ids: `{number}` the patient's digits, `{index}` the entry's position.
        public var elementID: String?
        /// `rank` by position (1 first).
        public var rank = false
        /// Every n-th patient also has an expired duplicate of its first phone.
        public var expiredDuplicateEvery: Int?

        public init() {}
    }

    public struct Rules: Sendable, Equatable {
        public var identifiers: [Identifier] = []
        /// Keep stored identifiers no rule renders (false: only the rendered ones are shown).
        public var keepOtherIdentifiers = true
        public var extensions: [Extension] = []
        /// Each `official` name also shown as a `usual` one (Epic).
        public var usualNameCopies = false
        /// Reading a merged patient (`link` replaced-by) answers `301` with `Location` naming the
        /// surviving record and the `mergedRead` note (Epic's 4107), not the merged record.
        public var mergedReadRedirects = false
        /// Name searches match current names only, not `use: old` or `maiden` ones (Cerner).
        public var currentNamesOnly = false
        /// A merged patient (`link` replaced-by) is found by `_id` only (Cerner).
        public var mergedByIdOnly = false
        /// Primitive elements US Core requires that a patient may lack (`gender`): shown as
        /// `_gender` with the `data-absent-reason` extension (`unknown`), as Cerner does.
        public var dataAbsent: [String] = []
        /// An `identifier` search value without a type or system (`identifier=203713`) finds no
        /// patient (Epic: `{IDType}|{ID}` is required; a bare value can return 4101).
        public var identifierSearchNeedsType = false
        public var telecom = Telecom()

        public init() {}

        public var isEmpty: Bool { self == Rules() }
    }

    public let rules: Rules
    /// The profile's error dialect (for the merged-read note).
    public let dialect: ErrorDialect

    public init(rules: Rules, dialect: ErrorDialect = ErrorDialect()) {
        self.rules = rules
        self.dialect = dialect
    }

    /// An entry's Patient search uses the same identifier labels.
    public var appliesToEntries: Bool { true }

    public func check(_ request: FHIRRequest) -> FHIRResponse? { nil }

    /// `identifier={label or vendor system}|{value}` on Patient searches becomes the stored
    /// system (for identifiers whose value is the stored value).
    public func rewrite(_ request: inout FHIRRequest) {
        guard !rules.identifiers.isEmpty || rules.identifierSearchNeedsType, request.segments.first == "Patient",
            request.segments.count <= 2
        else { return }
        request.query = request.query.map { parameter in
            guard parameter.name == "identifier" else { return parameter }
            let values = parameter.value.split(separator: ",", omittingEmptySubsequences: false).map { part -> String in
                // R4's `|value` is "no system": no stored identifier lacks one, so nothing matches.
                guard let bar = part.firstIndex(of: "|") else { return rules.identifierSearchNeedsType ? "|" + part : String(part) }
                let system = String(part[..<bar])
                let rule = rules.identifiers.first {
                    $0.value == "{value}" && ($0.system == system || $0.searchLabels.contains(system))
                }
                return rule.map { $0.from + String(part[bar...]) } ?? String(part)
            }
            return (parameter.name, values.joined(separator: ","))
        }
    }

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {
        guard !rules.isEmpty, var json = response.jsonBody(), Self.mentionsPatient(json) else { return }
        if narrowsSearch(request), case .object(let bundle) = json, bundle["resourceType"]?.stringValue == "Bundle" {
            json = .object(narrow(bundle, for: request))
        }
        if rules.mergedReadRedirects, let redirect = mergedRedirect(json, for: request, status: response.status) {
            response = redirect
            return
        }
        response.setJSONBody(walk(json))
    }

    /// Search links repeat the identifier in the vendor's system, not the stored one.
    func vendorLink(_ url: String) -> String {
        var result = url
        for rule in rules.identifiers where rule.value == "{value}" {
            for (stored, shown) in [(rule.from, rule.system), (QueryString.escape(rule.from), QueryString.escape(rule.system))] {
                result = result.replacing("identifier=\(stored)|", with: "identifier=\(shown)|")
                    .replacing("identifier=\(stored)%7C", with: "identifier=\(shown)%7C")
            }
        }
        return result
    }

    /// Whether a Patient can be in the body: one, or a Bundle or Parameters that may hold one.
    static func mentionsPatient(_ json: JSON) -> Bool {
        ["Patient", "Bundle", "Parameters"].contains(json["resourceType"]?.stringValue ?? "")
    }

    /// A Patient, or the Patients a Bundle's entries or a Parameters' parameters hold (and the
    /// Bundle's links).
    func walk(_ json: JSON) -> JSON {
        guard case .object(var object) = json else { return json }
        switch object["resourceType"]?.stringValue {
        case "Patient":
            return .object(render(object))
        case "Bundle":
            for index in object.members.indices {
                switch object.members[index].key {
                case "entry":
                    object.members[index].value = .array(
                        (object.members[index].value.arrayValue ?? []).map { entry in
                            guard case .object(var item) = entry, let resource = item["resource"] else { return entry }
                            item["resource"] = walk(resource)
                            return .object(item)
                        })
                case "link":
                    object.members[index].value = .array(
                        (object.members[index].value.arrayValue ?? []).map { link in
                            guard case .object(var item) = link, let url = item["url"]?.stringValue else { return link }
                            item["url"] = .string(vendorLink(url))
                            return .object(item)
                        })
                default: break
                }
            }
            return .object(object)
        case "Parameters":
            object["parameter"] = object["parameter"].map { parameters in
                .array(
                    (parameters.arrayValue ?? []).map { parameter in
                        guard case .object(var item) = parameter, let resource = item["resource"] else { return parameter }
                        item["resource"] = walk(resource)
                        return .object(item)
                    })
            }
            return .object(object)
        default:
            return json
        }
    }

    /// The digits of a stored patient id (`pat-0042` → `42`), or a stable number for ids without any.
    static func number(of id: String) -> String {
        let digits = id.filter(\.isNumber).drop { $0 == "0" }
        if !digits.isEmpty && digits.count <= 12 { return String(digits) }
        var hash: UInt64 = 1_469_598_103_934_665_603
        for byte in id.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        return String(hash % 1_000_000)
    }

    func render(_ patient: JSONObject) -> JSONObject {
        var object = patient
        for element in rules.dataAbsent where patient[element] == nil && patient["_\(element)"] == nil {
            object["_\(element)"] = .object(
                JSONObject([
                    "extension": .array([
                        .object(
                            JSONObject([
                                "url": .string("http://hl7.org/fhir/StructureDefinition/data-absent-reason"),
                                "valueCode": .string("unknown"),
                            ]))
                    ])
                ]))
        }
        let number = Self.number(of: patient["id"]?.stringValue ?? "")
        if !rules.identifiers.isEmpty, let stored = patient["identifier"]?.arrayValue {
            var shown: [JSON] = []
            for rule in rules.identifiers {
                for identifier in stored where identifier["system"]?.stringValue == rule.from {
                    guard let value = identifier["value"]?.stringValue else { continue }
                    var item = JSONObject()
                    if let use = rule.use ?? identifier["use"]?.stringValue { item["use"] = .string(use) }
                    if let type = rule.type { item["type"] = type }
                    item["system"] = .string(rule.system)
                    item["value"] = .string(rule.value.replacing("{value}", with: value).replacing("{number}", with: number))
                    shown.append(.object(item))
                }
            }
            if rules.keepOtherIdentifiers {
                let rendered = Set(rules.identifiers.map(\.from))
                shown += stored.filter { !rendered.contains($0["system"]?.stringValue ?? "") }
            }
            object["identifier"] = shown.isEmpty ? nil : .array(shown)
        }
        if !rules.extensions.isEmpty {
            let gender = patient["gender"]?.stringValue ?? "unknown"
            let added = rules.extensions.compactMap { $0.always ?? $0.byGender[gender] }
            if !added.isEmpty {
                object.set(
                    "extension", .array((patient["extension"]?.arrayValue ?? []) + added), after: patient["text"] == nil ? "meta" : "text")
            }
        }
        if rules.usualNameCopies, let names = patient["name"]?.arrayValue {
            var shown: [JSON] = []
            for name in names {
                shown.append(name)
                guard case .object(var copy) = name, name["use"]?.stringValue == "official",
                    !names.contains(where: { $0["use"]?.stringValue == "usual" })
                else { continue }
                copy["use"] = .string("usual")
                shown.append(.object(copy))
            }
            object["name"] = .array(shown)
        }
        if let telecom = patient["telecom"]?.arrayValue, rules.telecom != Telecom() {
            object["telecom"] = .array(render(telecom, number: number))
        }
        return object
    }

    func render(_ telecom: [JSON], number: String) -> [JSON] {
        let style = rules.telecom
        var entries = telecom
        if let every = style.expiredDuplicateEvery, let value = Int(number), value % every == 0,
            case .object(var copy)? = entries.first(where: { $0["system"]?.stringValue == "phone" })
        {
            copy["period"] = .object(JSONObject(["start": .string("2015-01-01T00:00:00Z"), "end": .string("2019-12-31T00:00:00Z")]))
            entries.append(.object(copy))
        }
        return entries.enumerated().map { index, entry in
            guard case .object(var object) = entry else { return entry }
            var result = JSONObject()
            if let template = style.elementID {
                let kind = object["system"]?.stringValue == "email" ? "EM" : "PH"
                result["id"] = .string(
                    template.replacing("{number}", with: number).replacing("{index}", with: String(index)).replacing("{kind}", with: kind))
            }
            if object["system"]?.stringValue == "phone", let value = object["value"]?.stringValue {
                // "309-555-0100 x345" / "ext. 345": the number, and the extension apart (Cerner:
                // contactpoint-extension).
                let (number, phoneExtension) = style.phoneDigits ? Self.splitExtension(value) : (value, nil)
                let digits = style.phoneDigits ? number.filter(\.isNumber) : value
                object["value"] = .string(digits)
                var extensions: [JSON] = []
                if style.telAddressExtension {
                    extensions.append(
                        .object(
                            JSONObject([
                                "url": .string("http://hl7.org/fhir/StructureDefinition/iso21090-TEL-address"), "valueUrl": .string(digits),
                            ])))
                }
                if let phoneExtension {
                    extensions.append(
                        .object(
                            JSONObject([
                                "url": .string("http://hl7.org/fhir/StructureDefinition/contactpoint-extension"),
                                "valueString": .string(phoneExtension),
                            ])))
                }
                if !extensions.isEmpty { result["extension"] = .array(extensions) }
            }
            for member in object where member.key != "id" && member.key != "extension" { result[member.key] = member.value }
            if style.rank { result["rank"] = .int(index + 1) }
            return .object(result)
        }
    }

    /// A phone text split at an extension marker (`x`, `ext`, `ext.`, `extension`), e.g.
    /// `309-555-0100 x345` → (`309-555-0100`, `345`).
    static func splitExtension(_ value: String) -> (number: String, extension: String?) {
        for marker in ["extension", "ext.", "ext", "x"] {
            guard
                let range = [marker, marker.uppercased(), marker.prefix(1).uppercased() + marker.dropFirst()]
                    .compactMap({ value.ranges(of: $0).last }).max(by: { $0.lowerBound < $1.lowerBound })
            else { continue }
            let tail = String(value[range.upperBound...]).filter(\.isNumber)
            let head = String(value[..<range.lowerBound])
            guard !tail.isEmpty, head.filter(\.isNumber).count >= 7 else { continue }
            return (head, tail)
        }
        return (value, nil)
    }
}
