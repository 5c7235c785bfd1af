//! Which host names `/mcp` answers to (`HERALD_MCP_ALLOWED_HOSTS`):
//! loopback always, others only when the operator lists them. A web page
//! that rebinds its own name to 127.0.0.1 still sends its own name in
//! `Host` and `Origin`, so refusing unknown names keeps a browser from
//! being turned against an MCP endpoint on the same machine.

use std::net::IpAddr;

use axum::http::uri::Authority;

/// The names besides loopback that `/mcp` accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpHosts {
    extra: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// Lower case, without IPv6 brackets or a trailing dot.
    host: String,
    /// `None`: any port.
    port: Option<u16>,
}

impl McpHosts {
    /// Parses `name` or `name:port` entries (blank ones are skipped).
    pub fn parse(entries: &[String]) -> Result<McpHosts, String> {
        let mut extra = Vec::new();
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            let invalid = || {
                format!("`{entry}` is not a host name or host:port such as herald.example.com:8443")
            };
            if entry.contains(['@', '/', '?', '#']) {
                return Err(invalid());
            }
            let authority: Authority = entry.parse().map_err(|_| invalid())?;
            let host = normalize(authority.host());
            let plausible = host.parse::<IpAddr>().is_ok()
                || (!host.is_empty()
                    && host
                        .split('.')
                        .all(|label| !label.is_empty() && label.chars().all(is_label_char)));
            if !plausible {
                return Err(invalid());
            }
            extra.push(Entry {
                host,
                port: authority.port_u16(),
            });
        }
        Ok(McpHosts { extra })
    }

    /// Whether a request that names `host` (and `port`, if it says one)
    /// may reach `/mcp`.
    pub fn allows(&self, host: &str, port: Option<u16>) -> bool {
        let host = normalize(host);
        is_loopback(&host)
            || self
                .extra
                .iter()
                .any(|e| e.host == host && e.port.is_none_or(|p| Some(p) == port))
    }

    /// The configured names, for messages.
    pub fn describe(&self) -> String {
        self.extra
            .iter()
            .map(|e| match e.port {
                Some(port) => format!("{}:{port}", e.host),
                None => e.host.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn normalize(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// `localhost` or a loopback address (`127.0.0.0/8`, `::1`).
fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_always_allowed_and_nothing_else_by_default() {
        let none = McpHosts::default();
        for host in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.9.9.9",
            "[::1]",
            "::1",
            "localhost.",
        ] {
            assert!(none.allows(host, Some(8080)), "{host}");
        }
        for host in [
            "evil.example",
            "localhost.evil.example",
            "0.0.0.0",
            "10.0.0.1",
            "[::]",
        ] {
            assert!(!none.allows(host, Some(8080)), "{host}");
        }
    }

    #[test]
    fn listed_names_are_allowed_on_their_port() {
        let hosts = McpHosts::parse(&[
            "herald.example.com".into(),
            "10.1.2.3:8443".into(),
            "".into(),
        ])
        .unwrap();
        assert!(hosts.allows("Herald.Example.Com", None));
        assert!(hosts.allows("herald.example.com", Some(9999)));
        assert!(hosts.allows("10.1.2.3", Some(8443)));
        assert!(!hosts.allows("10.1.2.3", Some(8080)));
        assert!(!hosts.allows("example.com", None));
        assert_eq!(hosts.describe(), "herald.example.com, 10.1.2.3:8443");
        for bad in [
            "http://x.example",
            "user@x.example",
            "x.example/path",
            "bad host",
            "a..b",
        ] {
            assert!(McpHosts::parse(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
