//! How event text is escaped for each service's markup, and text shapes
//! several providers share (plain-text messages, Markdown links).
//!
//! Every escape function makes its input show as text in one markup; they
//! are applied to the text parts of a [`Text`] (never to the markup the
//! webhook's owner wrote) after it is cut, so an escape is never split.

use crate::notification::{Link, Notification};
use crate::text::{Escape, Text};
use crate::truncate::Limit;

/// For targets that show text as it is (email's text part, Jira's ADF
/// text nodes, PagerDuty, Zapier).
pub(crate) fn plain(s: &str) -> String {
    s.to_string()
}

/// Slack mrkdwn (and Google Chat card text, an HTML subset): `&`, `<` and
/// `>` are its only control characters, so event text can form neither
/// `<!channel>` nor a link.
pub(crate) fn escape_angle(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// HTML text content.
pub(crate) fn html(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

/// A double-quoted HTML attribute value.
pub(crate) fn html_attr(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).into_owned()
}

/// Whether an `@` at this place starts a mention: not inside a word (an
/// email address), and followed by a name.
fn starts_mention(prev: Option<char>, next: Option<char>) -> bool {
    !prev.is_some_and(char::is_alphanumeric)
        && next.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// Text where `@name` notifies (Discord, Mattermost, GitHub, Datadog) shown
/// where no Markdown is read: a zero-width space after every `@` that
/// starts a mention, so `@everyone`, `@channel` or `@alice` in event text
/// notify nobody and still read the same.
pub(crate) fn no_mentions(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '@' && starts_mention(prev, chars.peek().copied()) {
            out.push(ZERO_WIDTH_SPACE);
        }
        prev = Some(c);
    }
    out
}

const ZERO_WIDTH_SPACE: char = '\u{200B}';

/// Markdown as Discord, Mattermost, GitHub, Datadog and Teams read it: a
/// backslash before every character that can open a link, an image, an
/// HTML tag, emphasis, code, a spoiler or a table cell, and before what
/// starts a heading, a quote or a list at the start of a line. (Any ASCII
/// punctuation may be escaped in CommonMark, so an escape shows as the
/// character itself.) An underscore inside a word (`evt_01`) opens no
/// emphasis and a number such as `0.968` starts no list, so those stay as
/// they are. Mentions are neutralised as by [`no_mentions`].
pub(crate) fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let mut line_start = true;
    let mut prev: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let in_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        match c {
            '\\' | '`' | '*' | '~' | '|' | '[' | ']' | '<' => {
                out.push('\\');
                out.push(c);
            }
            '_' if !(in_word(prev) && in_word(next)) => {
                out.push('\\');
                out.push(c);
            }
            '#' | '>' | '-' | '+' | '=' if line_start => {
                out.push('\\');
                out.push(c);
            }
            '@' if starts_mention(prev, next) => {
                out.push(c);
                out.push(ZERO_WIDTH_SPACE);
            }
            '0'..='9' if line_start => {
                // `1. item` and `1) item` start ordered lists.
                out.push(c);
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    out.push(d);
                }
                if let Some(p) = chars.next_if(|p| matches!(p, '.' | ')')) {
                    if chars.peek().is_none_or(|c| c.is_whitespace()) {
                        out.push('\\');
                    }
                    out.push(p);
                }
            }
            _ => out.push(c),
        }
        line_start = c == '\n' || (line_start && matches!(c, ' ' | '\t'));
        prev = Some(c);
    }
    out
}

/// Mattermost's Markdown: Mattermost also reads Slack's syntax in webhook
/// text, before Markdown and regardless of backslashes (`<!channel>` becomes
/// `@channel`, `<@id>` a user, `<url|text>` a link), so `<` is written as
/// the entity `&lt;`, which Markdown shows as `<` and which starts none of
/// them.
pub(crate) fn mattermost_markdown(s: &str) -> String {
    markdown(s).replace("\\<", "&lt;")
}

/// Mattermost text where no Markdown is read (the notification
/// fallback): mentions neutralised, and no `<` that Slack's syntax could
/// use.
pub(crate) fn mattermost_plain(s: &str) -> String {
    break_angles(&no_mentions(s))
}

/// Datadog event text: Markdown between `%%%` markers, so a run of `%` in
/// event text must not close the block early.
pub(crate) fn datadog_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = '\0';
    for c in markdown(s).chars() {
        if c == '%' && prev == '%' {
            out.push(ZERO_WIDTH_SPACE);
        }
        out.push(c);
        prev = c;
    }
    out
}

/// A zero-width space after every `<`, for text that has no escape
/// character (Google Chat text messages) or shows entities as they are
/// (Slack `plain_text`): links (`<url|text>`) and mentions (`<users/…>`,
/// `<!channel>`) need `<` right before them, so none forms, and the text
/// still reads the same.
pub(crate) fn break_angles(s: &str) -> String {
    s.replace('<', "<\u{200B}")
}

/// Cuts Markdown that is already escaped, as a last resort: a backslash
/// left at the end would escape the marker, so it goes too.
pub(crate) fn cut_markdown(s: &str, limit: Limit) -> String {
    let cut = limit.cut(s);
    match cut.strip_suffix(crate::truncate::ELLIPSIS) {
        Some(kept) if kept.len() < s.len() => {
            let slashes = kept.chars().rev().take_while(|c| *c == '\\').count();
            let kept = if slashes % 2 == 1 {
                &kept[..kept.len() - 1]
            } else {
                kept
            };
            format!("{kept}{}", crate::truncate::ELLIPSIS)
        }
        _ => cut,
    }
}

/// Escapes `raw` (text from event data) and fits it to `limit`.
pub(crate) fn fit_text(raw: &str, limit: Limit, escape: Escape) -> String {
    Text::new(raw).fit(limit, escape)
}

/// `[View results](https://…) · [Open logs](https://…)` within `limit`.
/// Labels are escaped with the target's Markdown `escape`; links are already percent-encoded, and parentheses
/// are encoded too, because a `)` would end a Markdown link destination.
/// Whole links only (a cut link would leave its markup open), and a final
/// "…" when some are left out.
pub(crate) fn md_links_within(links: &[Link], limit: Limit, escape: Escape) -> String {
    const MORE: &str = " · …";
    let mut out = String::new();
    for (i, l) in links.iter().enumerate() {
        let url = l.url.replace('(', "%28").replace(')', "%29");
        let link = format!("[{}]({url})", escape(&l.label));
        let sep = if out.is_empty() { "" } else { " · " };
        let last = i + 1 == links.len();
        let reserve = if last { 0 } else { limit.count(MORE) };
        if limit.count(&out) + limit.count(sep) + limit.count(&link) + reserve > limit.max {
            if !out.is_empty() {
                out.push_str(MORE);
            }
            break;
        }
        out.push_str(sep);
        out.push_str(&link);
    }
    out
}

/// The notification as one text for plain messages (mentions excluded;
/// callers place them): title, body, `Label: value` lines, `Label: URL`
/// lines, footer; escaped with `escape` and within `limit`. The body gives
/// way first.
pub(crate) fn plain_text(n: &Notification, limit: Limit, escape: Escape) -> String {
    let assemble = |body: &Text| {
        let mut out = Text::new(n.title.as_str());
        if !body.is_empty() {
            out.push_markup("\n\n");
            out.push(body);
        }
        for (i, f) in n.fields.iter().enumerate() {
            out.push_markup(if i == 0 { "\n\n" } else { "\n" });
            out.push_text(&f.label);
            out.push_markup(": ");
            out.push(&f.value);
        }
        for (i, l) in n.links.iter().enumerate() {
            out.push_markup(if i == 0 { "\n\n" } else { "\n" });
            out.push_text(&l.label);
            out.push_markup(": ");
            out.push_markup(&l.url);
        }
        if !n.footer.text.is_empty() {
            out.push_markup("\n\n");
            out.push_text(&n.footer.text);
        }
        out
    };
    let full = assemble(&n.body);
    let rendered = full.render(escape);
    if limit.fits(&rendered) {
        return rendered;
    }
    let rest = limit.count(&assemble(&Text::default()).render(escape));
    let body_max = limit.max.saturating_sub(rest + 2);
    let text = if body_max >= 20 {
        assemble(&n.body.shrink(limit.with_max(body_max), escape))
    } else {
        assemble(&Text::default())
    };
    text.fit(limit, escape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_never_leaves_half_an_entity() {
        let s = fit_text(
            "a<b>&c".repeat(100).as_str(),
            Limit::code_points(50),
            escape_angle,
        );
        assert!(s.chars().count() <= 50);
        assert!(s.ends_with("…"), "{s}");
        assert!(!s.contains("<"));
        let cut = s.trim_end_matches('…');
        // Every '&' starts a complete entity.
        for (i, _) in cut.match_indices('&') {
            let tail = &cut[i..];
            assert!(
                tail.starts_with("&amp;") || tail.starts_with("&lt;") || tail.starts_with("&gt;"),
                "{tail}"
            );
        }
    }

    #[test]
    fn markdown_escapes_what_could_become_markup() {
        assert_eq!(
            markdown("[x](https://e.example) ![i](u) <b> *a* _b_ ~c~ `d` ||e|| \\"),
            r"\[x\](https://e.example) !\[i\](u) \<b> \*a\* \_b\_ \~c\~ \`d\` \|\|e\|\| \\"
        );
        assert_eq!(
            markdown("# h\n> q\n- a\n  + b\n1. c\n22) d\n-# small\nx - y 3. z #t >"),
            "\\# h\n\\> q\n\\- a\n  \\+ b\n1\\. c\n22\\) d\n\\-# small\nx - y 3. z #t >"
        );
        assert_eq!(
            markdown("0.968 at 1.5 km, evt_01 a_b_c"),
            "0.968 at 1.5 km, evt_01 a_b_c"
        );
        assert_eq!(markdown("_a_ b_ _c __d__"), r"\_a\_ b\_ \_c \_\_d\_\_");
        assert_eq!(datadog_markdown("a %%% b %"), "a %\u{200B}%\u{200B}% b %");
        assert_eq!(
            mattermost_markdown(r"<!channel> <https://e.example|x> \<"),
            r"&lt;!channel> &lt;https://e.example\|x> \\&lt;"
        );
        assert_eq!(
            markdown("@everyone @here, mail a@b.example @ 5"),
            "@\u{200B}everyone @\u{200B}here, mail a@b.example @ 5"
        );
        assert_eq!(
            no_mentions("(@channel) x@y @_z"),
            "(@\u{200B}channel) x@y @\u{200B}_z"
        );
    }

    #[test]
    fn a_last_resort_cut_leaves_no_backslash_before_the_marker() {
        let escaped = markdown(&"*".repeat(20));
        let cut = cut_markdown(&escaped, Limit::code_points(6));
        assert_eq!(cut, "\\*\\*…");
        assert_eq!(cut_markdown("short", Limit::code_points(6)), "short");
    }

    #[test]
    fn md_links_within_keep_whole_links() {
        let links: Vec<Link> = (0..10)
            .map(|i| Link {
                label: format!("L{i}"),
                url: format!("https://x.example/{i}"),
            })
            .collect();
        let one = "[L0](https://x.example/0)".chars().count();
        let shown = md_links_within(&links, Limit::code_points(2 * one + 10), markdown);
        assert_eq!(
            shown,
            "[L0](https://x.example/0) · [L1](https://x.example/1) · …"
        );
        assert_eq!(md_links_within(&links, Limit::code_points(5), markdown), "");
    }

    #[test]
    fn md_links_escape_labels_and_survive_parentheses() {
        let links = vec![Link {
            label: "a [b](https://evil.example)".into(),
            url: "https://x.example/(1)".into(),
        }];
        assert_eq!(
            md_links_within(&links, Limit::code_points(1000), markdown),
            r"[a \[b\](https://evil.example)](https://x.example/%281%29)"
        );
    }
}
