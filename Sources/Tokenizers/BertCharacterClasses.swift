// The character classes of BERT's basic tokenization as the `tokenizers` library (normalizers/bert.rs,
// pre_tokenizers/bert.rs) applies them. The Rust library takes its general categories from the
// `unicode_categories` crate, whose tables are Unicode 8.0: a character assigned later (e.g. U+2E52, U+061D) is
// neither punctuation nor "other" to it. Filtering Swift's newer tables by `age` reproduces that exactly; the
// exhaustive test over every code point (BertCharacterClassesTests) holds us to it.

enum BertCharacterClasses {
    /// The Unicode version of the category tables the `tokenizers` library uses (see the file comment).
    static let categoryTablesVersion: Unicode.Version = (major: 8, minor: 0)

    /// True when the scalar was assigned no later than `categoryTablesVersion`.
    static func isInCategoryTables(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < categoryTablesVersion.major
            || (age.major == categoryTablesVersion.major && age.minor <= categoryTablesVersion.minor)
    }

    /// Whitespace for BERT: Unicode `White_Space`, as Rust's `char::is_whitespace` (tab to carriage return, space...).
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 { return value == 0x20 || (0x09...0x0D).contains(value) }
        return scalar.properties.isWhitespace
    }

    /// Control characters that `clean_text` drops: categories Cc, Cf, Co, Cs except tab, newline and carriage
    /// return (which count as whitespace). Unassigned code points (Cn) are kept, as the Rust library does.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\t", "\n", "\r": return false
        default: break
        }
        if scalar.value < 0x20 || scalar.value == 0x7F { return true }
        if scalar.value < 0xA0 && scalar.value > 0x7F { return true }
        if scalar.value < 0xA0 { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate: return isInCategoryTables(scalar)
        default: return false
        }
    }

    /// Punctuation in Unicode 8.0 whose category changed later (U+166D became So in 12.0, U+111C9 Mn in 11.0):
    /// the Rust library still splits them off.
    static let formerPunctuation: Set<UInt32> = [0x166D, 0x111C9]

    /// BERT punctuation: every ASCII non-alphanumeric printable character (33–47, 58–64, 91–96, 123–126, which
    /// includes symbols such as `$`, `+`, `^` that Unicode does not call punctuation) plus Unicode categories P*.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return (33...47).contains(value) || (58...64).contains(value) || (91...96).contains(value)
                || (123...126).contains(value)
        }
        if formerPunctuation.contains(value) { return true }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return isInCategoryTables(scalar)
        default:
            return false
        }
    }

    /// Nonspacing marks in Unicode 8.0 that are spacing marks (Mc) now: U+1734 (14.0), U+1171E (14.0).
    static let formerNonspacingMarks: Set<UInt32> = [0x1734, 0x1171E]
    /// Characters of Unicode 8.0 that became nonspacing marks later: U+1885–U+1886 (Lo until 9.0), U+A9BD (Mc until
    /// 12.0), U+111C9 (Po until 11.0).
    static let laterNonspacingMarks: Set<UInt32> = [0x1885, 0x1886, 0xA9BD, 0x111C9]

    /// Nonspacing marks (Mn) as of Unicode 8.0: what accent stripping removes after NFD.
    static func isNonspacingMark(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x300 { return false }
        if formerNonspacingMarks.contains(value) { return true }
        if laterNonspacingMarks.contains(value) { return false }
        return scalar.properties.generalCategory == .nonspacingMark && isInCategoryTables(scalar)
    }

    /// The Unicode version of the normalization data behind the Rust library (the unicode-normalization-alignments
    /// crate): it predates 13.0, leaving U+11938 (new in 13.0) undecomposed. No canonical decomposition was added
    /// between 8.0 and 12.1, so the exact version below 13.0 makes no difference.
    static let normalizationTablesVersion: Unicode.Version = (major: 12, minor: 1)

    /// True when the Rust library's normalization tables know the scalar (see `normalizationTablesVersion`).
    static func isInNormalizationTables(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < normalizationTablesVersion.major
            || (age.major == normalizationTablesVersion.major && age.minor <= normalizationTablesVersion.minor)
    }

    /// CJK ideographs that get spaces around them. These are the ranges of the `tokenizers` library, which differ
    /// from the original BERT's in one place: its Extension-E range starts at U+2B920, not U+2B820 (checked against
    /// the library by the fixture script).
    static let chineseRanges: [ClosedRange<UInt32>] = [
        0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
        0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F,
    ]

    static func isChinese(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        guard value >= 0x3400 else { return false }
        return chineseRanges.contains { $0.contains(value) }
    }
}
