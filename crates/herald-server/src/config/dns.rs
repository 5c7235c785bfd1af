//! `HERALD_DNS_OVERRIDES`: fixed addresses for host names, like curl's
//! `--resolve`. The sender resolves through them (and still checks every
//! address, see `dispatch::destination`).

use std::collections::HashMap;
use std::net::IpAddr;

use herald_core::network::literal_address;

/// Static answers for host names, like curl's `--resolve`
/// (`HERALD_DNS_OVERRIDES=host=address,…`). Overridden names skip the
/// system resolver but not the address check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsOverrides(HashMap<String, Vec<IpAddr>>);

impl DnsOverrides {
    /// Parses `host=address` entries, comma-separated; naming a host
    /// twice gives it several addresses.
    pub fn parse(list: &str) -> Result<DnsOverrides, String> {
        let mut map: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let Some((host, address)) = entry.split_once('=') else {
                return Err(format!(
                    "`{entry}` must be host=address, e.g. api.internal.example=10.0.0.5"
                ));
            };
            let host = normalise(host);
            if host.is_empty() || host.contains(char::is_whitespace) {
                return Err(format!("`{entry}` does not name a host"));
            }
            if literal_address(&host).is_some() {
                return Err(format!(
                    "`{entry}`: `{host}` is an address already, only names are resolved"
                ));
            }
            let address = address.trim().trim_start_matches('[').trim_end_matches(']');
            let ip: IpAddr = address
                .parse()
                .map_err(|_| format!("`{entry}`: `{address}` is not an IP address"))?;
            let addresses = map.entry(host).or_default();
            if !addresses.contains(&ip) {
                addresses.push(ip);
            }
        }
        Ok(DnsOverrides(map))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn get(&self, host: &str) -> Option<&[IpAddr]> {
        self.0.get(&normalise(host)).map(Vec::as_slice)
    }
}

/// Host names compare without case and without a trailing dot.
fn normalise(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_and_refuse_nonsense() {
        let o = DnsOverrides::parse("API.example.=10.0.0.5, api.example=[::1],b.example=1.2.3.4")
            .unwrap();
        assert_eq!(
            o.get("api.example").unwrap(),
            [
                "10.0.0.5".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert_eq!(o.get("B.EXAMPLE.").unwrap().len(), 1);
        assert!(DnsOverrides::parse("").unwrap().is_empty());
        for bad in ["nohost", "=1.2.3.4", "a.example=nope", "127.0.0.1=10.0.0.1"] {
            assert!(DnsOverrides::parse(bad).is_err(), "{bad}");
        }
    }
}
