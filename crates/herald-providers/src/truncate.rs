//! Cutting text to a provider's limits without splitting a character, and
//! always with a visible "…" so a reader knows something was cut.

/// The marker appended to every shortened text.
pub const ELLIPSIS: &str = "…";

/// Shortens `s` to at most `max` characters (Unicode scalar values), the
/// last of which is "…" when anything was cut.
pub fn chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some(_) if max == 0 => String::new(),
        Some(_) => {
            // Cut one character earlier to make room for the marker.
            let (cut, _) = s.char_indices().nth(max - 1).unwrap_or((s.len(), ' '));
            let mut out = String::with_capacity(cut + ELLIPSIS.len());
            out.push_str(s[..cut].trim_end());
            out.push_str(ELLIPSIS);
            out
        }
    }
}

/// Shortens `s` to at most `max` bytes of UTF-8, the marker included, cutting
/// on a character boundary. For limits that providers count in bytes.
pub fn bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    if max < ELLIPSIS.len() {
        return String::new();
    }
    let mut cut = max - ELLIPSIS.len();
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = String::with_capacity(max);
    out.push_str(s[..cut].trim_end());
    out.push_str(ELLIPSIS);
    out
}

/// One line: line breaks and tabs become spaces (subjects, summaries and
/// headers must not carry them), runs of spaces collapse, ends are trimmed.
pub fn single_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
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

/// The number of characters in `s`, the unit most limits are given in.
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
    fn single_line_removes_breaks() {
        assert_eq!(single_line(" a\r\nb\t\tc \n"), "a b c");
        assert_eq!(line("a\nbcdef", 4), "a b…");
    }
}
