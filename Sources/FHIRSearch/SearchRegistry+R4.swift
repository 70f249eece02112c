/// The R4 search parameters for the resource types the sandbox serves — those a scheduling
/// integration uses, the Patient demographics set, and the common `_id`, `_lastUpdated`,
/// `_tag`, `_profile`, `_security`, `_source`. Data, not code: the CapabilityStatement and
/// the search engine both read this table.
extension SearchRegistry {
    public static let r4 = SearchRegistry(R4SearchParameters.table)
}

enum R4SearchParameters {
    typealias P = SearchParameter

    static let common: [P] = [
        P("_id", .token, ["id"], "Logical id of this artifact"),
        P("_lastUpdated", .date, ["meta.lastUpdated"], "When the resource version last changed"),
        P("_tag", .token, ["meta.tag"], "Tags applied to this resource"),
        P("_profile", .uri, ["meta.profile"], "Profiles this resource claims to conform to"),
        P("_security", .token, ["meta.security"], "Security labels applied to this resource"),
        P("_source", .uri, ["meta.source"], "Identifies where the resource comes from"),
    ]

    static func address(_ prefix: String = "address") -> [P] {
        [
            P(prefix, .string, ["address"], "Any part of the address"),
            P("\(prefix)-city", .string, ["address.city"], "A city specified in an address"),
            P("\(prefix)-country", .string, ["address.country"], "A country specified in an address"),
            P("\(prefix)-postalcode", .string, ["address.postalCode"], "A postal code specified in an address"),
            P("\(prefix)-state", .string, ["address.state"], "A state specified in an address"),
            P("\(prefix)-use", .token, ["address.use"], "A use code specified in an address"),
        ]
    }

    static func telecom() -> [P] {
        [
            P("email", .token, ["telecom[system=email]"], "A value in an email contact"),
            P("phone", .token, ["telecom[system=phone]"], "A value in a phone contact"),
            P("telecom", .token, ["telecom"], "The value in any kind of telecom details"),
        ]
    }

    static func person() -> [P] {
        [
            P("active", .token, ["active"], "Whether the record is active"),
            P("family", .string, ["name.family"], "A portion of the family name"),
            P("given", .string, ["name.given"], "A portion of the given name"),
            P("name", .string, ["name"], "Any part of the name: family, given, prefix, suffix or text"),
            P("phonetic", .string, ["name"], "A portion of the name using some kind of phonetic matching algorithm"),
            P("gender", .token, ["gender"], "Gender of the person"),
            P("identifier", .token, ["identifier"], "A person identifier"),
        ] + address() + telecom()
    }

    static let patient: [P] =
        person() + [
            P("birthdate", .date, ["birthDate"], "The patient's date of birth"),
            P("death-date", .date, ["deceasedDateTime"], "The date of death"),
            P("deceased", .token, ["deceasedBoolean"], "Whether the patient is deceased"),
            P(
                "general-practitioner", .reference, ["generalPractitioner"],
                targets: ["Practitioner", "Organization", "PractitionerRole"], "Patient's nominated general practitioner"),
            P("language", .token, ["communication.language"], "Language code"),
            P("link", .reference, ["link.other"], targets: ["Patient"], "All patients linked to the given patient"),
            P("organization", .reference, ["managingOrganization"], targets: ["Organization"], "The managing organization"),
        ]

    static let practitioner: [P] =
        person() + [
            P("communication", .token, ["communication"], "One of the languages the practitioner can communicate with")
        ]

    static let practitionerRole: [P] =
        [
            P("active", .token, ["active"], "Whether this practitioner role record is in active use"),
            P("date", .date, ["period"], "The period during which the practitioner is authorized"),
            P("identifier", .token, ["identifier"], "A practitioner's Identifier"),
            P("location", .reference, ["location"], targets: ["Location"], "Where the practitioner provides care"),
            P("organization", .reference, ["organization"], targets: ["Organization"], "The organization"),
            P("practitioner", .reference, ["practitioner"], targets: ["Practitioner"], "Practitioner in the role"),
            P("role", .token, ["code"], "The practitioner can perform this role at the organization"),
            P("service", .reference, ["healthcareService"], targets: ["HealthcareService"], "Services provided"),
            P("specialty", .token, ["specialty"], "The practitioner has this specialty at an organization"),
        ] + telecom()

    static let organization: [P] =
        [
            P("active", .token, ["active"], "Is the Organization record active"),
            P("identifier", .token, ["identifier"], "Any identifier for the organization"),
            P("name", .string, ["name", "alias"], "A portion of the organization's name or alias"),
            P("phonetic", .string, ["name"], "A portion of the organization's name using some kind of phonetic matching"),
            P("partof", .reference, ["partOf"], targets: ["Organization"], "An organization of which this is part"),
            P("type", .token, ["type"], "A code for the type of organization"),
        ] + address()

    static let location: [P] =
        [
            P("identifier", .token, ["identifier"], "An identifier for the location"),
            P("name", .string, ["name", "alias"], "A portion of the location's name or alias"),
            P("operational-status", .token, ["operationalStatus"], "Searches for locations with a specific operational status"),
            P("organization", .reference, ["managingOrganization"], targets: ["Organization"], "Managing organization"),
            P("partof", .reference, ["partOf"], targets: ["Location"], "A location of which this location is a part"),
            P("status", .token, ["status"], "Searches for locations with a specific kind of status"),
            P("type", .token, ["type"], "A code for the type of location"),
        ] + address()

    static let healthcareService: [P] = [
        P("active", .token, ["active"], "The Healthcare Service is currently marked as active"),
        P("characteristic", .token, ["characteristic"], "One of the HealthcareService's characteristics"),
        P("coverage-area", .reference, ["coverageArea"], targets: ["Location"], "Location the service covers"),
        P("identifier", .token, ["identifier"], "External identifiers for this item"),
        P("location", .reference, ["location"], targets: ["Location"], "The location of the Healthcare Service"),
        P("name", .string, ["name"], "A portion of the Healthcare service name"),
        P("organization", .reference, ["providedBy"], targets: ["Organization"], "The organization that provides this service"),
        P("program", .token, ["program"], "One of the Programs supported by this HealthcareService"),
        P("service-category", .token, ["category"], "Service Category of the Healthcare Service"),
        P("service-type", .token, ["type"], "The type of service provided by this healthcare service"),
        P("specialty", .token, ["specialty"], "The specialty of the service provided"),
    ]

    static let schedule: [P] = [
        P("active", .token, ["active"], "Is the schedule in active use"),
        P("actor", .reference, ["actor"], "The individual, service or location the schedule is for"),
        P("date", .date, ["planningHorizon"], "Search for Schedule resources that have a period that contains this date specified")
            .containingValue(),
        P("identifier", .token, ["identifier"], "A Schedule Identifier"),
        P("service-category", .token, ["serviceCategory"], "High-level category"),
        P("service-type", .token, ["serviceType"], "The type of appointments that can be booked into this slot"),
        P("specialty", .token, ["specialty"], "Type of specialty needed"),
    ]

    static let slot: [P] = [
        P("appointment-type", .token, ["appointmentType"], "The style of appointment or patient that may be booked"),
        P("identifier", .token, ["identifier"], "A Slot Identifier"),
        P("schedule", .reference, ["schedule"], targets: ["Schedule"], "The Schedule Resource that we are seeking a slot within"),
        P("service-category", .token, ["serviceCategory"], "A broad categorization of the service"),
        P("service-type", .token, ["serviceType"], "The type of appointments that can be booked into the slot"),
        P("specialty", .token, ["specialty"], "The specialty of a practitioner that would be required"),
        P("start", .date, ["start"], "Appointment date/time."),
        P("status", .token, ["status"], "The free/busy status of the appointment"),
    ]

    static let appointment: [P] = [
        P("actor", .reference, ["participant.actor"], "Any one of the individuals participating in the appointment"),
        P("appointment-type", .token, ["appointmentType"], "The style of appointment or patient that has been booked"),
        P("based-on", .reference, ["basedOn"], targets: ["ServiceRequest"], "The service request this appointment is allocated to"),
        P("date", .date, ["start"], "Appointment date/time."),
        P("identifier", .token, ["identifier"], "An Identifier of the Appointment"),
        P("location", .reference, ["participant.actor"], targets: ["Location"], "This location is listed in the participants"),
        P("part-status", .token, ["participant.status"], "The Participation status of the subject"),
        P("patient", .reference, ["participant.actor"], targets: ["Patient"], "One of the individuals is a patient"),
        P("practitioner", .reference, ["participant.actor"], targets: ["Practitioner"], "One of the individuals is a practitioner"),
        P("reason-code", .token, ["reasonCode"], "Coded reason this appointment is scheduled"),
        P(
            "reason-reference", .reference, ["reasonReference"],
            targets: ["Condition", "Procedure", "Observation", "ImmunizationRecommendation"],
            "Reason the appointment is to take place (resource)"),
        P("service-category", .token, ["serviceCategory"], "A broad categorization of the service"),
        P("service-type", .token, ["serviceType"], "The specific service that is to be performed"),
        P("slot", .reference, ["slot"], targets: ["Slot"], "The slots that this appointment is filling"),
        P("specialty", .token, ["specialty"], "The specialty of a practitioner that would be required"),
        P("status", .token, ["status"], "The overall status of the appointment"),
        P("supporting-info", .reference, ["supportingInformation"], "Additional information to support the appointment"),
    ]

    static let coverage: [P] = [
        P("beneficiary", .reference, ["beneficiary"], targets: ["Patient"], "Covered party"),
        P("class-type", .token, ["class.type"], "Coverage class (eg. plan, group)"),
        P("class-value", .string, ["class.value"], "Value of the class (eg. Plan number, group number)"),
        P("dependent", .string, ["dependent"], "Dependent number"),
        P("identifier", .token, ["identifier"], "The primary identifier of the insured and the coverage"),
        P("patient", .reference, ["beneficiary"], targets: ["Patient"], "Retrieve coverages for a patient"),
        P(
            "payor", .reference, ["payor"], targets: ["Organization", "Patient", "RelatedPerson"],
            "The identity of the insurer or party paying for services"),
        P(
            "policy-holder", .reference, ["policyHolder"], targets: ["Organization", "Patient", "RelatedPerson"],
            "Reference to the policyholder"),
        P("status", .token, ["status"], "The status of the Coverage"),
        P("subscriber", .reference, ["subscriber"], targets: ["Patient", "RelatedPerson"], "Reference to the subscriber"),
        P("type", .token, ["type"], "The kind of coverage (health plan, auto, Workers Compensation)"),
    ]

    static let condition: [P] = [
        P("abatement-date", .date, ["abatementDateTime", "abatementPeriod"], "Date-related abatements"),
        P(
            "asserter", .reference, ["asserter"], targets: ["Practitioner", "Patient", "PractitionerRole", "RelatedPerson"],
            "Person who asserts this condition"),
        P("body-site", .token, ["bodySite"], "Anatomical location, if relevant"),
        P("category", .token, ["category"], "The category of the condition"),
        P("clinical-status", .token, ["clinicalStatus"], "The clinical status of the condition"),
        P("code", .token, ["code"], "Code for the condition"),
        P("encounter", .reference, ["encounter"], targets: ["Encounter"], "Encounter created as part of"),
        P("identifier", .token, ["identifier"], "A unique identifier of the condition record"),
        P("onset-date", .date, ["onsetDateTime", "onsetPeriod"], "Date related onsets (dateTime and Period)"),
        P("patient", .reference, ["subject"], targets: ["Patient"], "Who has the condition?"),
        P("recorded-date", .date, ["recordedDate"], "Date record was first recorded"),
        P("severity", .token, ["severity"], "The severity of the condition"),
        P("subject", .reference, ["subject"], targets: ["Patient", "Group"], "Who has the condition?"),
        P(
            "verification-status", .token, ["verificationStatus"],
            "unconfirmed | provisional | differential | confirmed | refuted | entered-in-error"),
    ]

    static let observation: [P] = [
        P("based-on", .reference, ["basedOn"], "Reference to the service request"),
        P("category", .token, ["category"], "The classification of the type of observation"),
        P("code", .token, ["code"], "The code of the observation type"),
        P("combo-code", .token, ["code", "component.code"], "The code of the observation type or component type"),
        P("component-code", .token, ["component.code"], "The component code of the observation type"),
        P("date", .date, ["effectiveDateTime", "effectivePeriod", "effectiveInstant"], "Obtained date/time"),
        P("encounter", .reference, ["encounter"], targets: ["Encounter"], "Encounter related to the observation"),
        P("identifier", .token, ["identifier"], "The unique id for a particular observation"),
        P("patient", .reference, ["subject"], targets: ["Patient"], "The subject that the observation is about (if patient)"),
        P("performer", .reference, ["performer"], "Who performed the observation"),
        P("status", .token, ["status"], "The status of the observation"),
        P("subject", .reference, ["subject"], "The subject that the observation is about"),
        P("value-concept", .token, ["valueCodeableConcept"], "The value of the observation, if the value is a CodeableConcept"),
        P("value-date", .date, ["valueDateTime", "valuePeriod"], "The value of the observation, if the value is a date or period"),
        P("value-quantity", .quantity, ["valueQuantity"], "The value of the observation, if the value is a Quantity"),
        P("value-string", .string, ["valueString"], "The value of the observation, if the value is a string"),
    ]

    static let communication: [P] = [
        P("based-on", .reference, ["basedOn"], "Request fulfilled by this communication"),
        P("category", .token, ["category"], "Message category"),
        P("encounter", .reference, ["encounter"], targets: ["Encounter"], "Encounter created as part of"),
        P("identifier", .token, ["identifier"], "Unique identifier"),
        P("medium", .token, ["medium"], "A channel of communication"),
        P("part-of", .reference, ["partOf"], "Part of this action"),
        P("patient", .reference, ["subject"], targets: ["Patient"], "Focus of message"),
        P("received", .date, ["received"], "When received"),
        P("recipient", .reference, ["recipient"], "Message recipient"),
        P("sender", .reference, ["sender"], "Message sender"),
        P("sent", .date, ["sent"], "When sent"),
        P(
            "status", .token, ["status"],
            "preparation | in-progress | not-done | on-hold | stopped | completed | entered-in-error | unknown"),
        P("subject", .reference, ["subject"], targets: ["Patient", "Group"], "Focus of message"),
    ]

    static let documentReference: [P] = [
        P("author", .reference, ["author"], "Who and/or what authored the document"),
        P("category", .token, ["category"], "Categorization of document"),
        P("contenttype", .token, ["content.attachment.contentType"], "Mime type of the content, with charset etc."),
        P("custodian", .reference, ["custodian"], targets: ["Organization"], "Organization which maintains the document"),
        P("date", .date, ["date"], "When this document reference was created"),
        P("description", .string, ["description"], "Human-readable description"),
        P("encounter", .reference, ["context.encounter"], targets: ["Encounter", "EpisodeOfCare"], "Context of the document content"),
        P("format", .token, ["content.format"], "Format/content rules for the document"),
        P("identifier", .token, ["masterIdentifier", "identifier"], "Master Version Specific Identifier"),
        P("language", .token, ["content.attachment.language"], "Human language of the content (BCP-47)"),
        P("patient", .reference, ["subject"], targets: ["Patient"], "Who/what is the subject of the document"),
        P("period", .date, ["context.period"], "Time of service that is being documented"),
        P("relatesto", .reference, ["relatesTo.target"], targets: ["DocumentReference"], "Target of the relationship"),
        P("status", .token, ["status"], "current | superseded | entered-in-error"),
        P("subject", .reference, ["subject"], "Who/what is the subject of the document"),
        P("type", .token, ["type"], "Kind of document (LOINC if possible)"),
    ]

    static let encounter: [P] = [
        P("appointment", .reference, ["appointment"], targets: ["Appointment"], "The appointment that scheduled this encounter"),
        P("based-on", .reference, ["basedOn"], targets: ["ServiceRequest"], "The ServiceRequest that initiated this encounter"),
        P("class", .token, ["class"], "Classification of patient encounter"),
        P("date", .date, ["period"], "A date within the period the Encounter lasted"),
        P(
            "diagnosis", .reference, ["diagnosis.condition"], targets: ["Condition", "Procedure"],
            "The diagnosis or procedure relevant to the encounter"),
        P("identifier", .token, ["identifier"], "Identifier(s) by which this encounter is known"),
        P("length", .quantity, ["length"], "Length of encounter in days"),
        P("location", .reference, ["location.location"], targets: ["Location"], "Location the encounter takes place"),
        P("part-of", .reference, ["partOf"], targets: ["Encounter"], "Another Encounter this encounter is part of"),
        P("participant", .reference, ["participant.individual"], "Persons involved in the encounter other than the patient"),
        P("participant-type", .token, ["participant.type"], "Role of participant in encounter"),
        P("patient", .reference, ["subject"], targets: ["Patient"], "The patient or group present at the encounter"),
        P(
            "practitioner", .reference, ["participant.individual"], targets: ["Practitioner"],
            "Persons involved in the encounter other than the patient"),
        P("reason-code", .token, ["reasonCode"], "Coded reason the encounter takes place"),
        P("reason-reference", .reference, ["reasonReference"], "Reason the encounter takes place (reference)"),
        P(
            "service-provider", .reference, ["serviceProvider"], targets: ["Organization"],
            "The organization responsible for this encounter"),
        P("status", .token, ["status"], "planned | arrived | triaged | in-progress | onleave | finished | cancelled +"),
        P("subject", .reference, ["subject"], targets: ["Patient", "Group"], "The patient or group present at the encounter"),
        P("type", .token, ["type"], "Specific type of encounter"),
    ]

    /// Provenance: who made a write (the sandbox records one for each write made with a
    /// client's token; `_revinclude=Provenance:target` finds them).
    /// R4 Subscription (rest-hook change notifications).
    static let subscription: [P] = [
        P("contact", .token, ["contact"], "Contact details for the subscription"),
        P("criteria", .string, ["criteria"], "The search rules used to determine when to send a notification"),
        P("payload", .token, ["channel.payload"], "The mime-type of the notification payload"),
        P("status", .token, ["status"], "The current state of the subscription"),
        P("type", .token, ["channel.type"], "The type of channel for the sent notifications"),
        P("url", .uri, ["channel.endpoint"], "The uri that will receive the notifications"),
    ]

    static let provenance: [P] = [
        P("agent", .reference, ["agent.who"], "Who participated"),
        P("agent-role", .token, ["agent.role"], "What the agents role was"),
        P("agent-type", .token, ["agent.type"], "How the agent participated"),
        P("entity", .reference, ["entity.what"], "Identity of entity"),
        P("location", .reference, ["location"], targets: ["Location"], "Where the activity occurred, if relevant"),
        P("patient", .reference, ["target"], targets: ["Patient"], "Target Reference(s) (usually version specific)"),
        P("recorded", .date, ["recorded"], "When the activity was recorded / updated"),
        P("target", .reference, ["target"], "Target Reference(s) (usually version specific)"),
        P("when", .date, ["occurredDateTime"], "When the activity occurred"),
    ]

    /// Eligibility (the generic profile answers a CoverageEligibilityRequest with a
    /// CoverageEligibilityResponse computed from the seed's payer rules).
    static let eligibilityRequest: [P] = [
        P("created", .date, ["created"], "The creation date for the EOB"),
        P(
            "enterer", .reference, ["enterer"], targets: ["Practitioner", "PractitionerRole"],
            "The party who is responsible for the request"),
        P("facility", .reference, ["facility"], targets: ["Location"], "Facility responsible for the goods and services"),
        P("identifier", .token, ["identifier"], "The business identifier of the Eligibility"),
        P("patient", .reference, ["patient"], targets: ["Patient"], "The reference to the patient"),
        P(
            "provider", .reference, ["provider"], targets: ["Practitioner", "PractitionerRole", "Organization"],
            "The reference to the provider"),
        P("status", .token, ["status"], "The status of the EligibilityRequest"),
    ]

    static let eligibilityResponse: [P] = [
        P("created", .date, ["created"], "The creation date"),
        P("disposition", .string, ["disposition"], "The contents of the disposition message"),
        P("identifier", .token, ["identifier"], "The business identifier"),
        P("insurer", .reference, ["insurer"], targets: ["Organization"], "The organization which generated this resource"),
        P("outcome", .token, ["outcome"], "The processing outcome"),
        P("patient", .reference, ["patient"], targets: ["Patient"], "The reference to the patient"),
        P("request", .reference, ["request"], targets: ["CoverageEligibilityRequest"], "The EligibilityRequest reference"),
        P(
            "requestor", .reference, ["requestor"], targets: ["Practitioner", "PractitionerRole", "Organization"],
            "The EligibilityRequest provider"),
        P("status", .token, ["status"], "The EligibilityRequest status"),
    ]

    static let table: [String: [P]] = [
        "Patient": common + patient,
        "Practitioner": common + practitioner,
        "PractitionerRole": common + practitionerRole,
        "Organization": common + organization,
        "Location": common + location,
        "HealthcareService": common + healthcareService,
        "Schedule": common + schedule,
        "Slot": common + slot,
        "Appointment": common + appointment,
        "Coverage": common + coverage,
        "Condition": common + condition,
        "Observation": common + observation,
        "Communication": common + communication,
        "DocumentReference": common + documentReference,
        "Encounter": common + encounter,
        "Provenance": common + provenance,
        "Subscription": common + subscription,
        "CoverageEligibilityRequest": common + eligibilityRequest,
        "CoverageEligibilityResponse": common + eligibilityResponse,
    ]
}
