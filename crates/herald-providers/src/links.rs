//! The one gate every link passes, from event data or from a template: an
//! absolute `http(s)` URL with a host, parsed and written back out with
//! every character that RFC 3986 does not allow percent-encoded, so no
//! service's markup (Markdown's `)`, Slack's `|` and `>`, an HTML
//! attribute's `"`) can be broken by a link, and every schema that checks
//! `uri` or `url` accepts it.

use url::{Position, Url};

/// Longer links are left out: no service shows them whole, and several
/// refuse them (Slack buttons take 3,000 characters, Discord 2,048).
pub(crate) const MAX_LEN: usize = 2048;

/// `raw` as a link, or `None` when it must not become one.
///
/// Surrounding whitespace is trimmed. Credentials (`https://user:pw@host/`)
/// are removed rather than the link refused: they would be shown to
/// everyone in the channel, and a name before `@` can disguise the host.
/// Control characters anywhere refuse the link (the parser would silently
/// drop tabs and line breaks, so the link would not be what was sent).
pub(crate) fn web_url(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.chars().any(char::is_control) {
        return None;
    }
    let mut url = Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    url.set_username("").ok()?;
    url.set_password(None).ok()?;
    // The parser leaves `{`, `}`, `|`, `[`, `]`, `^`, `\` and stray `%`
    // raw in places; encode whatever RFC 3986 does not allow there.
    let mut out = url[..Position::BeforePath].to_string();
    out.push_str(&encode(url.path(), false));
    if let Some(query) = url.query() {
        out.push('?');
        out.push_str(&encode(query, true));
    }
    if let Some(fragment) = url.fragment() {
        out.push('#');
        out.push_str(&encode(fragment, true));
    }
    // Parse once more so what is sent is exactly what a parser reads back
    // (which may encode a little more, never less).
    let url = Url::parse(&out).ok()?;
    let out = url.as_str();
    (out.len() <= MAX_LEN && out.bytes().all(allowed_in_uri)).then(|| out.to_string())
}

/// Unreserved and sub-delimiter characters, `:` and `@` (RFC 3986 `pchar`),
/// and `/`; `?` too in a query or fragment.
fn allowed(b: u8, query: bool) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) || (query && b == b'?')
}

/// Every character of a serialised URL that RFC 3986 allows somewhere.
fn allowed_in_uri(b: u8) -> bool {
    allowed(b, true) || b"%#[]".contains(&b)
}

/// Percent-encodes what is not allowed, keeping `%XX` escapes that are
/// already there.
fn encode(part: &str, query: bool) -> String {
    let bytes = part.as_bytes();
    let mut out = String::with_capacity(part.len());
    for (i, &b) in bytes.iter().enumerate() {
        let escape = b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if escape || allowed(b, query) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_web_urls_with_a_host() {
        for bad in [
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "ftp://files.example/x",
            "http://",
            "/relative",
            "mailto:a@b.example",
            "https://a.example/\nx",
            "",
        ] {
            assert_eq!(web_url(bad), None, "{bad}");
        }
        assert_eq!(
            web_url(&format!("https://a.example/{}", "x".repeat(MAX_LEN))),
            None
        );
    }

    #[test]
    fn encodes_what_rfc_3986_does_not_allow() {
        assert_eq!(
            web_url("https://dash.example.com/exp/(1)?a=1&b=<2>&c=\"q\"").unwrap(),
            "https://dash.example.com/exp/(1)?a=1&b=%3C2%3E&c=%22q%22"
        );
        assert_eq!(
            web_url("https://x.example/{a}|^`[b]?q={1}|[2]#f#g").unwrap(),
            "https://x.example/%7Ba%7D%7C%5E%60%5Bb%5D?q=%7B1%7D%7C%5B2%5D#f%23g"
        );
        // Existing escapes stay; a stray `%` is encoded.
        assert_eq!(
            web_url("https://x.example/a%20b%zz?p=%").unwrap(),
            "https://x.example/a%20b%25zz?p=%25"
        );
        // International names become punycode, text UTF-8 escapes.
        assert_eq!(
            web_url("https://bücher.example/ü").unwrap(),
            "https://xn--bcher-kva.example/%C3%BC"
        );
    }

    #[test]
    fn trims_and_removes_credentials() {
        assert_eq!(
            web_url("  https://ok.example/path  ").unwrap(),
            "https://ok.example/path"
        );
        assert_eq!(
            web_url("https://user:pa ss@ok.example/").unwrap(),
            "https://ok.example/"
        );
        assert_eq!(
            web_url("https://google.com@evil.example/login").unwrap(),
            "https://evil.example/login"
        );
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        for raw in [
            "https://dash.example.com/exp/(1)?a=1&b=<2>&c=\"q\"",
            "https://logs.example.com/a b/ü?q=ä ö#frag ment",
            "http://[::1]:8080/x?y='z'",
        ] {
            let once = web_url(raw).unwrap();
            assert_eq!(web_url(&once).unwrap(), once, "{raw}");
        }
    }
}
