import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import SandboxSeed

/// Appointment types, departments, providers and patients (vendor-quirks §3.4, §3.9): what a
/// voice agent reads to pick a slot and verify a caller.
/// ASSUMPTION (§3.4 gives only the envelopes and a few fields): the fields listed here, with
/// athena's habit of strings for ids and flags; providers' ids are numbers as in the open list.
extension AthenaAPI {
    /// `GET /appointmenttypes` (limit 1500, max 5000).
    func appointmentTypes(_ request: ProprietaryRequest) throws(AthenaFailure) -> ProprietaryResponse {
        let items: [JSON] = types.map { number, type in
            .object(
                JSONObject([
                    "appointmenttypeid": .string(String(number)), "name": .string(type.display), "shortname": .string(type.code),
                    "duration": .string(String(type.minutes)), "patientdisplayname": .string(type.display), "generic": .string("false"),
                    "patient": .string("true"), "templatetypeonly": .string("false"),
                ]))
        }
        return try page(items, key: "appointmenttypes", request: request, path: "appointmenttypes", defaultLimit: 1500, maxLimit: 5000)
    }

    /// `GET /departments`: the clinic's locations, `timezonename` the clinic's zone and
    /// `timezoneoffset` its offset now, in hours (§3.4).
    func departmentList(_ request: ProprietaryRequest) throws(AthenaFailure) -> ProprietaryResponse {
        let offset = seed.zone.offsetSeconds(atMilliseconds: now()) / 3600
        let items: [JSON] = departments.map { department in
            let location = department.location
            let address = location["address"]
            let phone = location["telecom"]?.arrayValue?.first { $0["system"]?.stringValue == "phone" }?["value"]?.stringValue
            var item = JSONObject([
                "departmentid": .string(String(department.number)), "name": .string(location["name"]?.stringValue ?? ""),
                "patientdepartmentname": .string(location["name"]?.stringValue ?? ""), "timezonename": .string(seed.zone.name),
                "timezoneoffset": .int(offset), "timezone": .int(offset), "providergroupid": .string("1"), "clinicals": .string("ON"),
            ])
            if let address {
                item["address"] = .string(address["line"]?.arrayValue?.first?.stringValue ?? "")
                if let second = address["line"]?.arrayValue?.dropFirst().first?.stringValue { item["address2"] = .string(second) }
                item["city"] = .string(address["city"]?.stringValue ?? "")
                item["state"] = .string(address["state"]?.stringValue ?? "")
                item["zip"] = .string(address["postalCode"]?.stringValue ?? "")
            }
            if let phone { item["phone"] = .string(phone) }
            return .object(item)
        }
        return try page(items, key: "departments", request: request, path: "departments", defaultLimit: 1500, maxLimit: 5000)
    }

    /// `GET /providers`: the clinic's practitioners.
    func providers(_ request: ProprietaryRequest) throws(AthenaFailure) -> ProprietaryResponse {
        let items: [JSON] = practitioners.keys.sorted { number($0, "Practitioner") < number($1, "Practitioner") }.map { id in
            let practitioner = practitioners[id]!
            let name = practitioner["name"]?.arrayValue?.first
            let first = name?["given"]?.arrayValue?.first?.stringValue ?? ""
            let last = name?["family"]?.stringValue ?? ""
            var item = JSONObject([
                "providerid": .int(number(id, "Practitioner")), "firstname": .string(first), "lastname": .string(last),
                "displayname": .string("\(last), \(first)"), "entitytype": .string("Person"),
                "providertype": .string(practitioner["qualification"]?.arrayValue?.first?["code"]?["text"]?.stringValue ?? ""),
                "specialty": .string(
                    practitioner["qualification"]?.arrayValue?.first?["code"]?["coding"]?.arrayValue?.first?["display"]?.stringValue ?? ""),
            ])
            if let npi = practitioner["identifier"]?.arrayValue?.first(where: {
                $0["system"]?.stringValue == "http://hl7.org/fhir/sid/us-npi"
            })?["value"]?.stringValue, let value = Int(npi) {
                item["npi"] = .int(value)
            }
            return .object(item)
        }
        return try page(items, key: "providers", request: request, path: "providers", defaultLimit: 1500, maxLimit: 5000)
    }

    /// `GET /patients` by `firstname`, `lastname`, `dob` (`mm/dd/yyyy`): how an agent verifies a
    /// caller. ASSUMPTION (§3.4): names match as FHIR string searches do (case-insensitive,
    /// from the start); at least one of the three is required.
    func patients(_ request: ProprietaryRequest) throws(AthenaFailure) -> ProprietaryResponse {
        var parameters: [(name: String, value: String)] = []
        if let first = request.value("firstname"), !first.isEmpty { parameters.append((name: "given", value: first)) }
        if let last = request.value("lastname"), !last.isEmpty { parameters.append((name: "family", value: last)) }
        if let dob = try day(request, "dob") {
            let (year, month, date) = CivilCalendar.civilFromDays(dob)
            parameters.append(
                (name: "birthdate", value: "\(InstantFormat.pad(year, 4))-\(InstantFormat.pad(month, 2))-\(InstantFormat.pad(date, 2))"))
        }
        guard !parameters.isEmpty else {
            throw AthenaFailure("Additional fields are required.", detail: "Search by at least one of firstname, lastname and dob.")
        }
        let found = try search("Patient", parameters).map { patient in (numberText(patient["id"]?.stringValue ?? "", "Patient"), patient) }
        let items = found.sorted { $0.0.count != $1.0.count ? $0.0.count < $1.0.count : $0.0 < $1.0 }.map { rendered(patient: $0.1) }
        return try page(items, key: "patients", request: request, path: "patients", defaultLimit: 1000, maxLimit: 10000)
    }

    /// `GET /patients/{patientid}`: a one-element array.
    func patient(_ text: String) throws(AthenaFailure) -> ProprietaryResponse {
        guard let id = stored(text, "Patient"), let patient = try load("Patient", [id]).first else {
            throw AthenaFailure(status: 404, "The patient ID is invalid.", detail: "There is no patient \(text) in this practice.")
        }
        return .json(.array([rendered(patient: patient)]))
    }

    func rendered(patient: JSONObject) -> JSON {
        let name = patient["name"]?.arrayValue?.first { $0["use"]?.stringValue == "official" } ?? patient["name"]?.arrayValue?.first
        let telecom = patient["telecom"]?.arrayValue ?? []
        func contact(_ system: String, _ use: String?) -> String? {
            telecom.first { $0["system"]?.stringValue == system && (use == nil || $0["use"]?.stringValue == use) }?["value"]?.stringValue
        }
        var item = JSONObject([
            "patientid": .string(numberText(patient["id"]?.stringValue ?? "", "Patient")),
            "firstname": .string(name?["given"]?.arrayValue?.first?.stringValue ?? ""),
            "lastname": .string(name?["family"]?.stringValue ?? ""),
            "sex": .string(["female": "F", "male": "M"][patient["gender"]?.stringValue ?? ""] ?? "U"),
            "status": .string(patient["active"]?.boolValue == false ? "inactive" : "active"),
            "departmentid": .string(departments.first.map { String($0.number) } ?? ""), "countrycode": .string("USA"),
        ])
        if let birth = patient["birthDate"]?.stringValue, let parsed = FHIRDateTime.parse(birth, form: .date), parsed.precision == .day {
            item["dob"] = .string(Self.date(CivilCalendar.daysFromCivil(year: parsed.year, month: parsed.month, day: parsed.day)))
        }
        if let phone = contact("phone", "home") { item["homephone"] = .string(Self.digits(phone)) }
        if let phone = contact("phone", "mobile") { item["mobilephone"] = .string(Self.digits(phone)) }
        if let email = contact("email", nil) { item["email"] = .string(email) }
        if let address = patient["address"]?.arrayValue?.first {
            item["address1"] = .string(address["line"]?.arrayValue?.first?.stringValue ?? "")
            item["city"] = .string(address["city"]?.stringValue ?? "")
            item["state"] = .string(address["state"]?.stringValue ?? "")
            item["zip"] = .string(address["postalCode"]?.stringValue ?? "")
        }
        return .object(item)
    }

    static func digits(_ phone: String) -> String { String(phone.filter(\.isNumber)) }

    /// `POST /patients`: `firstname`, `lastname`, `dob`, `departmentid` required. The duplicate
    /// trap as athena documents it (3p, awell-health athenahealth extension): a patient with the
    /// same name, date of birth and email already there is not created again: the answer is the
    /// existing `patientid`, as for a new one (`[{"patientid": "..."}]`, 200 either way). A
    /// caller whose email differs becomes a second chart.
    func createPatient(_ request: ProprietaryRequest) throws(AthenaFailure) -> ProprietaryResponse {
        let request = try form(request)
        let first = try required(request, "firstname")
        let last = try required(request, "lastname")
        guard let dob = try day(request, "dob") else { throw AthenaFailure("Missing required field: dob.", detail: "dob is required.") }
        guard let departmentNumber = try integer(request, "departmentid") else {
            throw AthenaFailure("Missing required field: departmentid.", detail: "departmentid is required.")
        }
        guard department(number: departmentNumber) != nil else {
            throw AthenaFailure("Invalid departmentid.", detail: "There is no department \(departmentNumber) in this practice.")
        }
        let sex = request.value("sex")?.uppercased()
        guard sex == nil || sex == "" || sex == "M" || sex == "F" else {
            throw AthenaFailure("Invalid sex.", detail: "sex must be M or F.")
        }
        let email = request.value("email").flatMap { $0.isEmpty ? nil : $0 }
        let (year, month, date) = CivilCalendar.civilFromDays(dob)
        let birthDate = "\(InstantFormat.pad(year, 4))-\(InstantFormat.pad(month, 2))-\(InstantFormat.pad(date, 2))"
        let id = try write { writer throws(FHIRError) -> String in
            let query = try SearchQueryParser(registry: .r4, zone: seed.zone).parse(
                type: "Patient", parameters: [(name: "birthdate", value: birthDate)], strict: true, now: 0)
            var born: [JSONObject] = []
            for key in try writer.transaction.search(query) {
                if let patient = try writer.current("Patient", key.id)?.resource { born.append(patient) }
            }
            let same = born.first { patient in
                let item = rendered(patient: patient)
                return item["firstname"]?.stringValue?.lowercased() == first.lowercased()
                    && item["lastname"]?.stringValue?.lowercased() == last.lowercased()
                    && item["email"]?.stringValue?.lowercased() == email?.lowercased()
            }
            if let existing = same?["id"]?.stringValue { return existing }
            var telecom: [JSON] = []
            for (field, use) in [("homephone", "home"), ("mobilephone", "mobile")] {
                if let phone = request.value(field), !phone.isEmpty {
                    telecom.append(.object(JSONObject(["system": .string("phone"), "value": .string(phone), "use": .string(use)])))
                }
            }
            if let email { telecom.append(.object(JSONObject(["system": .string("email"), "value": .string(email)]))) }
            var patient = JSONObject([
                "resourceType": .string("Patient"), "active": .bool(true),
                "name": .array([
                    .object(JSONObject(["use": .string("official"), "family": .string(last), "given": .array([.string(first)])]))
                ]),
                "birthDate": .string(birthDate),
            ])
            if let sex, !sex.isEmpty { patient["gender"] = .string(sex == "F" ? "female" : "male") }
            if !telecom.isEmpty { patient["telecom"] = .array(telecom) }
            if let line = request.value("address1"), !line.isEmpty {
                var address = JSONObject(["use": .string("home"), "line": .array([.string(line)])])
                for (field, key) in [("city", "city"), ("state", "state"), ("zip", "postalCode")] {
                    if let value = request.value(field), !value.isEmpty { address[key] = .string(value) }
                }
                patient["address"] = .array([.object(address)])
            }
            // The next free chart number (pat-NNNN shows as 60177 + NNNN).
            var number = 1
            while number < 9999, try writer.current("Patient", "pat-" + InstantFormat.pad(number, 4)) != nil { number += 1 }
            return try writer.put("Patient", id: "pat-" + InstantFormat.pad(number, 4), patient).id
        }
        return .json(.array([.object(JSONObject(["patientid": .string(numberText(id, "Patient"))]))]))
    }
}
