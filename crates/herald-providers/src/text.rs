//! Text that may mix markup the webhook's owner wrote in a template with
//! text that came from event data, so each service can escape the one and
//! keep the other: a third party's `[x](https://evil.example)` must stay
//! text, while the owner's `**Run**` stays bold.
//!
//! A [`Text`] is the plain string plus the byte ranges that are markup.
//! Derived text (from the event alone) has no markup. Template output is
//! markup except what its `{{ … }}` expressions wrote, which is text.
//! Rendering escapes the text parts with the target's escape function and
//! writes the markup as it is; cutting happens before escaping, so a cut
//! never splits an escape sequence or an entity.

use std::fmt;
use std::ops::{Deref, Range};

use serde::{Serialize, Serializer};

use crate::truncate::{ELLIPSIS, Limit};

/// Turns text into the target's markup, so the target shows it as text.
pub(crate) type Escape = fn(&str) -> String;

/// See the module documentation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text {
    plain: String,
    /// Sorted, non-overlapping, non-adjacent byte ranges of `plain` that are
    /// markup, written to the service as they are.
    markup: Vec<Range<usize>>,
}

impl Text {
    /// Text from event data: escaped everywhere.
    pub fn new(s: impl Into<String>) -> Self {
        Self {
            plain: s.into(),
            markup: Vec::new(),
        }
    }

    /// What the text reads as, markup and text alike unescaped: what a
    /// preview shows, and what plain-text targets receive.
    pub fn as_str(&self) -> &str {
        &self.plain
    }

    pub(crate) fn push_text(&mut self, s: &str) {
        self.plain.push_str(s);
    }

    /// Markup, written to the service as it is: the owner's template text,
    /// or Herald's own layout.
    pub(crate) fn push_markup(&mut self, s: &str) {
        let start = self.plain.len();
        self.plain.push_str(s);
        self.add_markup(start..self.plain.len());
    }

    pub(crate) fn push(&mut self, other: &Text) {
        let offset = self.plain.len();
        self.plain.push_str(&other.plain);
        for r in &other.markup {
            self.add_markup(r.start + offset..r.end + offset);
        }
    }

    fn add_markup(&mut self, r: Range<usize>) {
        if r.is_empty() {
            return;
        }
        match self.markup.last_mut() {
            Some(last) if last.end == r.start => last.end = r.end,
            _ => self.markup.push(r),
        }
    }

    /// The part of the text in `bytes` (on character boundaries).
    fn slice(&self, bytes: Range<usize>) -> Text {
        let mut out = Text::default();
        for (is_markup, piece) in self.pieces() {
            let (start, end) = (piece.start.max(bytes.start), piece.end.min(bytes.end));
            if start >= end {
                continue;
            }
            let s = &self.plain[start..end];
            if is_markup {
                out.push_markup(s);
            } else {
                out.push_text(s);
            }
        }
        out
    }

    /// Leading and trailing whitespace removed.
    pub(crate) fn trim(&self) -> Text {
        let start = self.plain.len() - self.plain.trim_start().len();
        let end = self.plain.trim_end().len().max(start);
        self.slice(start..end)
    }

    /// Consecutive runs of markup and text, in order, as byte ranges.
    fn pieces(&self) -> Vec<(bool, Range<usize>)> {
        let mut out = Vec::with_capacity(self.markup.len() * 2 + 1);
        let mut at = 0;
        for r in &self.markup {
            if at < r.start {
                out.push((false, at..r.start));
            }
            out.push((true, r.clone()));
            at = r.end;
        }
        if at < self.plain.len() {
            out.push((false, at..self.plain.len()));
        }
        out
    }

    /// The text for the service: text parts escaped, markup as written.
    pub(crate) fn render(&self, escape: Escape) -> String {
        let mut out = String::with_capacity(self.plain.len() + 16);
        for (is_markup, piece) in self.pieces() {
            let s = &self.plain[piece];
            if is_markup {
                out.push_str(s);
            } else {
                out.push_str(&escape(s));
            }
        }
        out
    }

    /// Cut (before escaping) to `limit` with the visible marker, between
    /// graphemes.
    pub(crate) fn cut(&self, limit: Limit) -> Text {
        match limit.cut_at(&self.plain) {
            None => self.clone(),
            Some(end) => {
                let mut out = self.slice(0..end);
                if limit.max >= limit.count(ELLIPSIS) {
                    out.push_markup(ELLIPSIS);
                }
                out
            }
        }
    }

    /// Cut so that, escaped, it fits `limit`: the longest such cut.
    pub(crate) fn shrink(&self, limit: Limit, escape: Escape) -> Text {
        let fits = |n: usize| {
            let cut = self.cut(limit.with_max(n));
            let ok = limit.count(&cut.render(escape)) <= limit.max;
            (ok, cut)
        };
        let mut n = limit.count(&self.plain).min(limit.max);
        let (ok, cut) = fits(n);
        if ok {
            return cut;
        }
        // Scale down by how much escaping grew the text until it fits,
        // then search between what fits and what did not.
        let mut too_long = n;
        let (mut best_n, mut best) = loop {
            let len = limit.count(&self.cut(limit.with_max(n)).render(escape));
            n = (n * limit.max / len.max(1)).min(n.saturating_sub(1));
            let (ok, cut) = fits(n);
            if ok {
                break (n, cut);
            }
            too_long = n;
        };
        while best_n + 1 < too_long {
            let mid = best_n + (too_long - best_n) / 2;
            match fits(mid) {
                (true, cut) => (best_n, best) = (mid, cut),
                (false, _) => too_long = mid,
            }
        }
        best
    }

    /// Escaped for the service and within `limit`.
    pub(crate) fn fit(&self, limit: Limit, escape: Escape) -> String {
        self.shrink(limit, escape).render(escape)
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.plain
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.plain)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::new(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::new(s)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.plain == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.plain == *other
    }
}

/// As the plain string: Zapier's `notification` and the template context
/// see what the text reads as.
impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brackets(s: &str) -> String {
        s.replace('*', "\\*")
    }

    fn owner_and_data() -> Text {
        let mut t = Text::default();
        t.push_markup("**Run** ");
        t.push_text("*x*");
        t.push_markup(" done");
        t
    }

    #[test]
    fn renders_markup_as_written_and_escapes_text() {
        let t = owner_and_data();
        assert_eq!(t.as_str(), "**Run** *x* done");
        assert_eq!(t.render(brackets), "**Run** \\*x\\* done");
        assert_eq!(Text::new("*a*").render(brackets), "\\*a\\*");
    }

    #[test]
    fn cuts_keep_the_kind_of_each_part() {
        let t = owner_and_data();
        let cut = t.cut(Limit::code_points(11));
        assert_eq!(cut.as_str(), "**Run** *x…");
        assert_eq!(cut.render(brackets), "**Run** \\*x…");
        // The escaped form fits, and no escape is split.
        let fitted = Text::new("*".repeat(100)).fit(Limit::code_points(9), brackets);
        assert_eq!(fitted, "\\*\\*\\*\\*…");
        assert_eq!(t.trim(), t);
        let mut padded = Text::new("  ");
        padded.push(&t);
        padded.push_text(" \n");
        assert_eq!(padded.trim().render(brackets), t.render(brackets));
    }
}
