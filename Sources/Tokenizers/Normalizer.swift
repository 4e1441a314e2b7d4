// The `normalizer` stage of tokenizer.json. Follows huggingface/tokenizers `normalizers/` (bert.rs, unicode.rs,
// strip.rs, replace.rs, prepend.rs, utils.rs): each type keeps the alignment of every output character to the
// original text (see NormalizedText).
import Foundation

/// Rewrites text before it is split (case folding, accent stripping, Unicode normal forms...).
public protocol Normalizer: Sendable {
    func normalize(_ text: inout NormalizedText)
}

/// The `type` strings of tokenizer.json normalizers that this module implements.
public enum NormalizerType: String, Sendable, CaseIterable {
    case bert = "BertNormalizer"
    case sequence = "Sequence"
    case nfd = "NFD"
    case nfc = "NFC"
    case nfkd = "NFKD"
    case nfkc = "NFKC"
    case lowercase = "Lowercase"
    case stripAccents = "StripAccents"
    case strip = "Strip"
    case replace = "Replace"
    case prepend = "Prepend"
}

/// Builds the normalizer a tokenizer.json `normalizer` object describes.
func makeNormalizer(_ config: StageConfig) throws(TokenizerError) -> any Normalizer {
    let typeName = try config.type()
    guard let type = NormalizerType(rawValue: typeName) else {
        throw .unknownStageType(stage: config.stage, type: typeName)
    }
    switch type {
    case .bert:
        let lowercase = try config.bool("lowercase", default: true)
        return BertNormalizer(
            cleanText: try config.bool("clean_text", default: true),
            handleChineseChars: try config.bool("handle_chinese_chars", default: true),
            stripAccents: try config.optionalBool("strip_accents") ?? lowercase,
            lowercase: lowercase
        )
    case .sequence:
        var stages: [any Normalizer] = []
        for (index, element) in try config.array("normalizers").enumerated() {
            stages.append(try makeNormalizer(try config.child("normalizers[\(index)]", element)))
        }
        return SequenceNormalizer(stages: stages)
    case .nfd: return UnicodeFormNormalizer(form: .nfd)
    case .nfc: return UnicodeFormNormalizer(form: .nfc)
    case .nfkd: return UnicodeFormNormalizer(form: .nfkd)
    case .nfkc: return UnicodeFormNormalizer(form: .nfkc)
    case .lowercase: return LowercaseNormalizer()
    case .stripAccents: return StripAccentsNormalizer()
    case .strip:
        return StripNormalizer(left: try config.bool("strip_left", default: true),
                               right: try config.bool("strip_right", default: true))
    case .replace:
        return ReplaceNormalizer(pattern: try TextPattern(config, key: "pattern"),
                                 content: try config.string("content"))
    case .prepend:
        return PrependNormalizer(prepend: try config.string("prepend"))
    }
}

/// BERT's text cleanup (tokenizers `BertNormalizer`): drop control characters and map whitespace to spaces, put
/// spaces around CJK ideographs, strip accents, lowercase, in that order.
public struct BertNormalizer: Normalizer {
    public var cleanText: Bool
    public var handleChineseChars: Bool
    /// In tokenizer.json `null` means "same as lowercase", as in the original BERT; resolved at load.
    public var stripAccents: Bool
    public var lowercase: Bool

    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil,
                lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents ?? lowercase
        self.lowercase = lowercase
    }

    public func normalize(_ text: inout NormalizedText) {
        if cleanText {
            text.editScalars { scalar in
                if scalar.value == 0 || scalar.value == 0xFFFD || BertCharacterClasses.isControl(scalar) {
                    return .remove
                }
                return BertCharacterClasses.isWhitespace(scalar) && scalar != " " ? .replace(" ") : .keep
            }
        }
        if handleChineseChars {
            text.editScalars { BertCharacterClasses.isChinese($0) ? .expand([" ", $0, " "]) : .keep }
        }
        if stripAccents {
            UnicodeFormNormalizer(form: .nfd).normalize(&text)
            StripAccentsNormalizer().normalize(&text)
        }
        if lowercase {
            LowercaseNormalizer().normalize(&text)
        }
    }
}

/// Applies normalizers one after the other.
public struct SequenceNormalizer: Normalizer {
    public var stages: [any Normalizer]
    public init(stages: [any Normalizer]) { self.stages = stages }
    public func normalize(_ text: inout NormalizedText) {
        for stage in stages { stage.normalize(&text) }
    }
}

/// Per-character lowercasing with Unicode's full mappings and no context (no final-sigma rule), as Rust's
/// `char::to_lowercase` used by the `tokenizers` library.
public struct LowercaseNormalizer: Normalizer {
    public init() {}
    public func normalize(_ text: inout NormalizedText) {
        text.editScalars { scalar in
            if scalar.isASCII {
                let value = scalar.value
                return (65...90).contains(value) ? .replace(Unicode.Scalar(UInt8(value + 32))) : .keep
            }
            let lower = scalar.properties.lowercaseMapping.unicodeScalars
            if lower.count == 1, let single = lower.first { return single == scalar ? .keep : .replace(single) }
            return .expand(Array(lower))
        }
    }
}

/// Removes nonspacing combining marks (category Mn, as the Rust library's Unicode 8.0 tables have it; see
/// BertCharacterClasses). Unlike BertNormalizer's accent stripping it does not decompose first; tokenizer.json
/// puts an NFD stage before it.
public struct StripAccentsNormalizer: Normalizer {
    public init() {}
    public func normalize(_ text: inout NormalizedText) {
        text.filterScalars { !BertCharacterClasses.isNonspacingMark($0) }
    }
}

/// The four Unicode normal forms.
public struct UnicodeFormNormalizer: Normalizer {
    /// Canonical or compatibility, decomposed or composed.
    public enum Form: Sendable { case nfd, nfc, nfkd, nfkc }
    public var form: Form
    public init(form: Form) { self.form = form }

    public func normalize(_ text: inout NormalizedText) {
        switch form {
        case .nfd, .nfkd:
            let compatibility = form == .nfkd
            // Decompose scalar by scalar (keeping each output aligned to its own source), then put runs of
            // combining marks in canonical order, which is all NFD adds to per-scalar decomposition.
            text.editScalars { scalar in
                // Below U+00A0 nothing decomposes; below U+00C0 nothing decomposes canonically. Characters newer
                // than the Rust library's normalization data stay whole there, so here too.
                if scalar.value < (compatibility ? 0xA0 : 0xC0) { return .keep }
                if !BertCharacterClasses.isInNormalizationTables(scalar) { return .keep }
                let single = String(scalar)
                let decomposed = compatibility
                    ? single.decomposedStringWithCompatibilityMapping : single.decomposedStringWithCanonicalMapping
                return .expand(Array(decomposed.unicodeScalars))
            }
            text.reorderCombiningMarks()
        case .nfc, .nfkc:
            let compatibility = form == .nfkc
            text.mapClusters { cluster in
                if cluster.unicodeScalars.allSatisfy({ $0.value < 0xA0 }) { return cluster }
                return compatibility
                    ? cluster.precomposedStringWithCompatibilityMapping : cluster.precomposedStringWithCanonicalMapping
            }
        }
    }
}

/// Removes whitespace at the start and/or end.
public struct StripNormalizer: Normalizer {
    public var left: Bool
    public var right: Bool
    public init(left: Bool, right: Bool) {
        self.left = left
        self.right = right
    }
    public func normalize(_ text: inout NormalizedText) {
        var lower = 0
        var upper = text.count
        if left { while lower < upper, text.scalars[lower].properties.isWhitespace { lower += 1 } }
        if right { while upper > lower, text.scalars[upper - 1].properties.isWhitespace { upper -= 1 } }
        if lower != 0 || upper != text.count { text = text.slice(lower..<upper) }
    }
}

/// Replaces every match of a pattern (a literal string or a regular expression) by `content`.
public struct ReplaceNormalizer: Normalizer {
    public var pattern: TextPattern
    public var content: String
    public init(pattern: TextPattern, content: String) {
        self.pattern = pattern
        self.content = content
    }
    public func normalize(_ text: inout NormalizedText) {
        let replacement = Array(content.unicodeScalars)
        // Replace from the end so earlier ranges stay valid.
        for range in pattern.matches(in: text.scalars).reversed() {
            text.replace(range, with: replacement)
        }
    }
}

/// Puts a string in front of non-empty text (SentencePiece's "▁" prefix).
public struct PrependNormalizer: Normalizer {
    public var prepend: String
    public init(prepend: String) { self.prepend = prepend }
    public func normalize(_ text: inout NormalizedText) {
        text.prepend(Array(prepend.unicodeScalars))
    }
}

extension NormalizedText {
    /// Canonical combining class as the Rust library's normalization data has it (0 for newer characters).
    static func combiningClass(_ scalar: Unicode.Scalar) -> UInt8 {
        if scalar.value < 0x300 { return 0 }
        guard BertCharacterClasses.isInNormalizationTables(scalar) else { return 0 }
        return scalar.properties.canonicalCombiningClass.rawValue
    }

    /// Stable-sorts each run of non-starters (canonical combining class > 0) by class, with their alignments:
    /// the canonical ordering step of Unicode normalization.
    mutating func reorderCombiningMarks() {
        var start = 0
        var reordered = scalars
        var reorderedAlignments = alignments
        var changed = false
        while start < scalars.count {
            guard Self.combiningClass(scalars[start]) != 0 else {
                start += 1
                continue
            }
            var end = start
            while end < scalars.count, Self.combiningClass(scalars[end]) != 0 { end += 1 }
            if end - start > 1 {
                let order = (start..<end).sorted { a, b in
                    let ca = Self.combiningClass(scalars[a])
                    let cb = Self.combiningClass(scalars[b])
                    return ca != cb ? ca < cb : a < b
                }
                for (offset, source) in order.enumerated() where source != start + offset {
                    reordered[start + offset] = scalars[source]
                    reorderedAlignments[start + offset] = alignments[source]
                    changed = true
                }
            }
            start = end
        }
        if changed { self = NormalizedText(scalars: reordered, alignments: reorderedAlignments) }
    }
}
