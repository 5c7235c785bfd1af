//! Text shapes several providers share: plain text, Markdown links, and
//! escaping for Slack mrkdwn and HTML.

use crate::notification::{Link, Notification};
use crate::truncate::{self, Limit};

/// Slack (and Google Chat card) text: `&`, `<` and `>` are control
/// characters, so event data must not be able to form `<!channel>` or a
/// link.
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

/// Escapes, then fits `limit` without splitting an entity: the raw text
/// is shortened (in the limit's unit) until its escaped form fits.
pub(crate) fn escaped_chars(raw: &str, limit: Limit, escape: fn(&str) -> String) -> String {
    let mut n = limit.count(raw).min(limit.max);
    loop {
        let out = escape(&limit.with_max(n).cut(raw));
        let len = limit.count(&out);
        if len <= limit.max || n == 0 {
            return out;
        }
        // Scale down by how much escaping grew the text, at least by one.
        n = (n * limit.max / len).min(n - 1);
    }
}

/// A Markdown link label: brackets would end the label early.
pub(crate) fn md_label(label: &str) -> String {
    truncate::single_line(label)
        .replace('[', "(")
        .replace(']', ")")
}

/// `[View results](https://…) · [Open logs](https://…)`. Links are
/// already percent-encoded; parentheses are encoded too, because a `)`
/// would end a Markdown link destination.
pub(crate) fn md_links(links: &[Link]) -> String {
    links
        .iter()
        .map(|l| {
            let url = l.url.replace('(', "%28").replace(')', "%29");
            format!("[{}]({url})", md_label(&l.label))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The notification as plain text within `limit` (mentions excluded;
/// callers place them): title, body, `Label: value` lines, `Label: URL`
/// lines, footer. The body gives way first.
pub(crate) fn plain_text(n: &Notification, limit: Limit) -> String {
    let assemble = |body: &str| {
        let mut parts: Vec<String> = vec![n.title.clone()];
        if !body.is_empty() {
            parts.push(body.to_string());
        }
        if !n.fields.is_empty() {
            parts.push(
                n.fields
                    .iter()
                    .map(|f| format!("{}: {}", f.label, f.value))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        if !n.links.is_empty() {
            parts.push(
                n.links
                    .iter()
                    .map(|l| format!("{}: {}", l.label, l.url))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        if !n.footer.text.is_empty() {
            parts.push(n.footer.text.clone());
        }
        parts.join("\n\n")
    };
    let full = assemble(&n.body);
    if limit.fits(&full) {
        return full;
    }
    let rest = limit.count(&assemble(""));
    let body_max = limit.max.saturating_sub(rest + 2);
    let text = if body_max >= 20 {
        assemble(&limit.with_max(body_max).cut(&n.body))
    } else {
        assemble("")
    };
    limit.cut(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_never_leaves_half_an_entity() {
        let s = escaped_chars(
            "a<b>&c".repeat(100).as_str(),
            Limit::code_points(50),
            escape_angle,
        );
        assert!(truncate::len(&s) <= 50);
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
    fn md_links_survive_brackets() {
        let links = vec![Link {
            label: "a [b]".into(),
            url: "https://x.example/(1)".into(),
        }];
        assert_eq!(md_links(&links), "[a (b)](https://x.example/%281%29)");
    }
}
