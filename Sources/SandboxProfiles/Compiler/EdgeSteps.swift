import FHIRInteractions

/// The edge every FHIR request of a profile passes through, in one place. A request goes down
/// the list (each step's `rewrite`, then each `check` until one answers), the response comes
/// back up it (`finish`, last step first). Steps a profile does not use are left out; the order
/// of the rest never changes (pinned by a test):
///
/// 0. `topicSubscriptions` — a vendor's topic-based subscription service (`Subscription`,
///    `SubscriptionTopic`), answered before the practice context is required.
/// 0. `context` — a vendor's required context parameter (a practice) checked and taken off
///    before anything reads the query; its refusal is the vendor's own body.
/// 0. `idIdentifiers` — identifiers whose value is the vendor id without a prefix (athena's
///    patient and appointment ids): searched by on the way in, shown on the way out, both on
///    vendor ids.
/// 1. `ids` — vendor ids to stored ids on the way in, back on the way out. First in, last out:
///    every other step sees stored ids.
/// 2. `stu3` — an STU3 base's resources reshaped from R4 on the way out, after the steps below
///    have shaped the R4 response.
/// 3. `patientRendering` — the vendor's Patient (identifiers, extensions, names, telecom).
/// 4. `utcTimes` — Appointment times in UTC `Z` on the way out.
/// 5. `appointmentIdentifiers` — the vendor's identifier on every Appointment (Epic's CSN).
/// 6. `paging` — the vendor's page links and context ids (in: context id to the engine's page).
/// 7. `createRules` — what a create must look like (422 before the engine sees it).
/// 8. `writes` — empty write bodies, `If-Match` requirements, version numbering.
/// 9. `contentNegotiation` — `Accept`/`_format` (406), XML metadata by default.
/// 10. `slotHorizon` — slots reach the planning horizon before the request runs.
/// 11. `holdSweeper` — expired `$hold`s are cancelled before the request runs.
/// 12. `slotRace` — test control's `slot-taken`: the front desk books the request's slot first.
/// 13. `provenance` — a Provenance for each write made with a client's token (last in, first
///     out: it sees the response on stored ids).
public enum EdgeStep: String, Sendable, CaseIterable {
    case topicSubscriptions, context, idIdentifiers, ids, stu3, patientRendering, utcTimes, appointmentIdentifiers, paging, createRules,
        writes, contentNegotiation,
        slotHorizon,
        holdSweeper, slotRace, provenance

    /// Every step in edge order.
    public static let order: [EdgeStep] = allCases
}
