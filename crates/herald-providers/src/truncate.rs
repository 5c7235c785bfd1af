//! Cutting text to a provider's limits in the unit that service counts in,
//! never inside a grapheme (so never inside a character, a surrogate pair,
//! an emoji sequence or a flag), and always with a visible "…" so a reader
//! knows something was cut.

use unicode_segmentation::UnicodeSegmentation;

/// The marker appended to every shortened text.
pub const ELLIPSIS: &str = "…";

/// How a service counts the length of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// UTF-8 bytes: whole-payload limits (Teams, Google Chat).
    Bytes,
    /// Unicode scalar values: services written in Python, Go or Ruby
    /// (Discord, Mattermost, GitHub, Slack).
    CodePoints,
    /// UTF-16 code units, what Java and JavaScript call a string's length:
    /// an emoji outside the Basic Multilingual Plane counts twice (Jira).
    /// Also used where a service says "characters" without saying how it
    /// counts them, because it is never less than the code-point count.
    Utf16,
}

impl Unit {
    /// The length of `s` in this unit.
    pub fn count(self, s: &str) -> usize {
        match self {
            Self::Bytes => s.len(),
            Self::CodePoints => s.chars().count(),
            Self::Utf16 => s.encode_utf16().count(),
        }
    }

    /// The catalog's name for the unit.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bytes => "bytes",
            Self::CodePoints => "code_points",
            Self::Utf16 => "utf16_code_units",
        }
    }
}

/// A length limit and the unit it is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limit {
    pub max: usize,
    pub unit: Unit,
}

impl Limit {
    pub const fn bytes(max: usize) -> Self {
        Self {
            max,
            unit: Unit::Bytes,
        }
    }

    pub const fn code_points(max: usize) -> Self {
        Self {
            max,
            unit: Unit::CodePoints,
        }
    }

    pub const fn utf16(max: usize) -> Self {
        Self {
            max,
            unit: Unit::Utf16,
        }
    }

    /// The same unit with another maximum.
    pub const fn with_max(self, max: usize) -> Self {
        Self {
            max,
            unit: self.unit,
        }
    }

    /// The length of `s` in this limit's unit.
    pub fn count(self, s: &str) -> usize {
        self.unit.count(s)
    }

    pub fn fits(self, s: &str) -> bool {
        self.count(s) <= self.max
    }

    /// `s` shortened to the limit, the marker included, cut between
    /// graphemes.
    pub fn cut(self, s: &str) -> String {
        match self.cut_at(s) {
            None => s.to_string(),
            Some(end) if self.max < self.count(ELLIPSIS) => s[..end].to_string(),
            Some(end) => {
                let mut out = String::with_capacity(end + ELLIPSIS.len());
                out.push_str(&s[..end]);
                out.push_str(ELLIPSIS);
                out
            }
        }
    }

    /// Where [`cut`](Self::cut) cuts `s`, before the marker (trailing
    /// whitespace left out); `None` when `s` fits. Zero, and no room for
    /// the marker, when the limit is smaller than the marker.
    pub(crate) fn cut_at(self, s: &str) -> Option<usize> {
        if self.fits(s) {
            return None;
        }
        let marker = self.count(ELLIPSIS);
        if self.max < marker {
            return Some(0);
        }
        let room = self.max - marker;
        let mut used = 0;
        let mut end = 0;
        for (at, grapheme) in s.grapheme_indices(true) {
            let len = self.count(grapheme);
            if used + len > room {
                break;
            }
            used += len;
            end = at + grapheme.len();
        }
        Some(s[..end].trim_end().len())
    }

    /// [`single_line`] then [`cut`](Self::cut).
    pub fn line(self, s: &str) -> String {
        self.cut(&single_line(s))
    }
}

/// Shortens `s` to at most `max` characters (Unicode scalar values), the
/// last of which is "…" when anything was cut.
pub fn chars(s: &str, max: usize) -> String {
    Limit::code_points(max).cut(s)
}

/// Shortens `s` to at most `max` bytes of UTF-8, the marker included. For
/// limits that providers count in bytes.
pub fn bytes(s: &str, max: usize) -> String {
    Limit::bytes(max).cut(s)
}

/// Bidirectional embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069): in a one-line text they can only disguise it (an
/// override makes `evil.exe` read as something else), and a message that
/// does not close them can reorder what follows.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// One line: line breaks, tabs and other control characters become spaces
/// (subjects, summaries and headers must not carry them), bidirectional
/// controls are removed, runs of spaces collapse, ends are trimmed.
pub fn single_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if is_bidi_control(c) {
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// `single_line` then `chars`.
pub fn line(s: &str, max: usize) -> String {
    chars(&single_line(s), max)
}

/// The number of characters in `s`.
pub fn len(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chars_keeps_short_text_and_marks_cut_text() {
        assert_eq!(chars("abc", 3), "abc");
        assert_eq!(chars("abcd", 3), "ab…");
        assert_eq!(len(&chars("ééééé", 4)), 4);
        assert_eq!(chars("ab cd", 4), "ab…");
        assert_eq!(chars("abc", 0), "");
        assert_eq!(chars("abc", 1), "…");
    }

    #[test]
    fn bytes_never_splits_a_character() {
        let s = "ü".repeat(10); // 20 bytes
        let cut = bytes(&s, 10);
        assert!(cut.len() <= 10, "{}", cut.len());
        assert!(cut.ends_with(ELLIPSIS));
        assert_eq!(bytes("short", 10), "short");
        assert_eq!(bytes("abcdef", 2), "");
    }

    #[test]
    fn each_unit_counts_its_own_way() {
        let rocket = "🚀"; // 4 bytes, 1 code point, 2 UTF-16 units
        assert_eq!(Unit::Bytes.count(rocket), 4);
        assert_eq!(Unit::CodePoints.count(rocket), 1);
        assert_eq!(Unit::Utf16.count(rocket), 2);
        let s = rocket.repeat(10);
        let cut = Limit::utf16(9).cut(&s);
        // Four rockets (8 units) and the marker (1 unit).
        assert_eq!(cut, format!("{}…", rocket.repeat(4)));
        assert_eq!(Limit::code_points(9).cut(&s).chars().count(), 9);
        assert!(Limit::bytes(9).cut(&s).len() <= 9);
    }

    #[test]
    fn cuts_fall_between_graphemes() {
        let family = "👨\u{200d}👩\u{200d}👧";
        let s = format!("ab{family}{family}");
        // Room for "ab" and part of a family only: the family goes whole.
        assert_eq!(Limit::code_points(6).cut(&s), "ab…");
        assert_eq!(Limit::code_points(8).cut(&s), format!("ab{family}…"));
        let flags = "🇫🇷🇩🇪🇮🇹";
        assert_eq!(Limit::code_points(4).cut(flags), "🇫🇷…");
        // A combining accent stays with its letter.
        assert_eq!(Limit::code_points(3).cut("e\u{301}e\u{301}"), "e\u{301}…");
    }

    #[test]
    fn single_line_removes_breaks_and_bidi_controls() {
        assert_eq!(single_line(" a\r\nb\t\tc \n"), "a b c");
        assert_eq!(line("a\nbcdef", 4), "a b…");
        assert_eq!(
            single_line("x\u{202E}exe.txt\u{202C} \u{2066}y\u{2069}"),
            "xexe.txt y"
        );
        assert_eq!(single_line("a\u{0}b\u{7f}c\u{85}d\u{2028}e"), "a b c d e");
    }
}
