import SandboxProfiles

/// A made-up vendor's ids, defined outside the product (test-only): `acme.` + the stored id.
/// What a new vendor adds in `Strategies/<Vendor>/` when YAML cannot say it.
struct AcmeIDs: IDScheme {
    static let prefix = "acme."

    func external(_ id: String, type: String?) -> String { id.count + Self.prefix.count <= 64 ? Self.prefix + id : id }

    func `internal`(_ id: String, type: String?) -> String? {
        id.hasPrefix(Self.prefix) ? String(id.dropFirst(Self.prefix.count)) : nil
    }
}
