import Foundation

/// Mount paths may name the seed's practice (`/ecw/fhir/r4/{practiceCode}`): a vendor whose URLs
/// carry a practice code gets the one of the clinic it serves, so another seed moves the URLs
/// with it.
extension Profile {
    /// The placeholders a mount path may hold.
    public static let pathPlaceholders = ["{practiceCode}"]

    /// This profile with its paths' placeholders replaced by the seed's values.
    public func filled(practiceCode: String) -> Profile {
        func fill(_ path: String) -> String { path.replacingOccurrences(of: "{practiceCode}", with: practiceCode) }
        var copy = self
        copy.fhirBase = fill(fhirBase)
        copy.otherBases = otherBases.map { base in
            var base = base
            base.fhirBase = fill(base.fhirBase)
            return base
        }
        copy.proprietary?.path = fill(proprietary?.path ?? "")
        return copy
    }
}
