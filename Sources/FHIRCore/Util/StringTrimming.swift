extension StringProtocol {
    /// This text without leading and trailing characters from `set` (no Foundation needed).
    public func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self).unicodeScalars[...]
        let trim = Set(set.unicodeScalars)
        while let first = scalars.first, trim.contains(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, trim.contains(last) { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
