import ChangeFeeds
import FHIRInteractions
import SandboxAuth

/// A compiled profile bound to one sandbox's state: the pipelines that answer its FHIR bases
/// and its authorization server. Cheap to make (`CompiledProfile.bind`): values that refer to
/// the shared compiled profile and to the state.
public struct ProfileRuntime: Sendable {
    public let compiled: CompiledProfile
    public let state: TenantState
    /// The main FHIR base's pipeline.
    public let pipeline: FHIRPipeline
    /// The profile's further bases over the same tenant, with their pipelines.
    public let otherBases: [(base: Profile.Base, pipeline: FHIRPipeline)]
    public let auth: AuthorizationServer
    /// Which steps each base runs, in order (the main base first).
    public let steps: [[EdgeStep]]
    /// The sandbox's Subscriptions and their deliveries, when the main base serves Subscription.
    public let subscriptions: SubscriptionHub?
    /// The profile's non-FHIR API over this tenant (`proprietary`), if it has one.
    public let proprietary: (any ProprietaryAPI)?
    /// The tenant as the EHR itself serves it (every R4 type and interaction, none of the vendor
    /// API's rules): what interfaces such as HL7 v2 write through.
    public let ehr: FHIRService

    public var profile: Profile { compiled.profile }
    public var ids: any IDScheme { compiled.ids }
}
