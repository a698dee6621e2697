import Foundation

/// What the directory's `query` is matched against: a channel's name and title, folded in
/// Swift and stored beside the channel (`search_key`), so that both engines find "Årsmøtet"
/// for "ÅRSMØ" by a plain substring test. SQLite's `lower()` and `LIKE` fold ASCII only,
/// and PostgreSQL's `lower()` folds by the database's locale (none under "C"): folding
/// in one place, in Swift, makes both engines agree whatever their settings.
public enum ChannelSearchKey {
    /// The stored key: the folded name and title on two lines, so that a query cannot
    /// match across the two (a query holds no control characters).
    public static func of(name: String, title: String) -> String {
        fold(name) + "\n" + fold(title)
    }

    /// Composed (NFC, so that an "å" typed as "a" and a combining ring matches the one
    /// stored), then lower-cased by Unicode's rules: "ÆØÅ" → "æøå".
    public static func fold(_ text: String) -> String {
        text.precomposedStringWithCanonicalMapping.lowercased()
    }
}
