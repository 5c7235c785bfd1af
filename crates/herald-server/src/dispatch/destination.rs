//! Where a delivery may connect. Host names are resolved here (the
//! operator's static overrides first, then the system resolver) and every
//! address is checked before any is returned, so the connection goes to a
//! checked address and no second lookup can be rebound. Installed as the
//! HTTP client's resolver and asked by the mailer; literal-address URLs,
//! which the HTTP client never resolves, are checked by the sender.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use herald_core::network::{AddressPolicy, BlockedAddress, literal_address, url_address};

use crate::config::DnsOverrides;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A destination Herald refused to connect to. The message names the host
/// and the address with its class, never a URL (URLs can be credentials).
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) struct BlockedDestination {
    /// The name that resolved to `address`; `None` for a literal address.
    host: Option<String>,
    address: BlockedAddress,
}

impl BlockedDestination {
    /// Whether the address was written in the destination itself, so no
    /// later attempt can reach anything else.
    pub(crate) fn is_literal(&self) -> bool {
        self.host.is_none()
    }
}

impl fmt::Display for BlockedDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(host) = &self.host {
            write!(
                f,
                "`{host}` resolves to an address Herald does not deliver to: "
            )?;
        }
        write!(
            f,
            "{}; allowed only in --dev mode or when HERALD_ALLOWED_NETWORKS opens it",
            self.address
        )
    }
}

/// Why a host name gave no address to connect to.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResolveError {
    #[error(transparent)]
    Blocked(#[from] BlockedDestination),
    /// The resolver's own words ("failed to lookup address information: …").
    #[error("{0}")]
    Lookup(std::io::Error),
    #[error("`{0}` has no addresses")]
    NoAddresses(String),
}

/// The address rule and the overrides, shared by the HTTP client and the
/// mailer.
#[derive(Debug)]
pub(crate) struct Destinations {
    /// `None` in dev mode: any address.
    policy: Option<AddressPolicy>,
    overrides: DnsOverrides,
}

impl Destinations {
    pub(crate) fn new(policy: Option<AddressPolicy>, overrides: DnsOverrides) -> Destinations {
        Destinations { policy, overrides }
    }

    fn check(&self, host: Option<&str>, ip: IpAddr) -> Result<(), BlockedDestination> {
        match &self.policy {
            None => Ok(()),
            Some(policy) => policy.check(ip).map_err(|address| BlockedDestination {
                host: host.map(str::to_string),
                address,
            }),
        }
    }

    /// Checks a URL whose host is a literal address (the HTTP client
    /// connects to those without asking the resolver). Names pass here
    /// and are checked when resolved.
    pub(crate) fn check_url(&self, url: &url::Url) -> Result<(), BlockedDestination> {
        match url_address(url) {
            Some(ip) => self.check(None, ip),
            None => Ok(()),
        }
    }

    /// Every address of `host` (a name, or an address in any spelling),
    /// each checked: one forbidden answer refuses the whole name, since a
    /// name that mixes public and private answers is how rebinding attacks
    /// pick the private one.
    pub(crate) async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, ResolveError> {
        if let Some(ip) = literal_address(host) {
            self.check(None, ip)?;
            return Ok(vec![ip]);
        }
        let addresses: Vec<IpAddr> = match self.overrides.get(host) {
            Some(fixed) => fixed.to_vec(),
            None => {
                let mut found: Vec<IpAddr> = Vec::new();
                let answers = tokio::net::lookup_host((host, 0))
                    .await
                    .map_err(ResolveError::Lookup)?;
                for ip in answers.map(|a| a.ip()) {
                    if !found.contains(&ip) {
                        found.push(ip);
                    }
                }
                found
            }
        };
        if addresses.is_empty() {
            return Err(ResolveError::NoAddresses(host.to_string()));
        }
        for ip in &addresses {
            self.check(Some(host), *ip)?;
        }
        Ok(addresses)
    }

    /// Whether names need resolving here rather than by the mail client:
    /// to check them (production) or to apply an override.
    pub(crate) fn resolves(&self, host: &str) -> bool {
        self.policy.is_some() || self.overrides.get(host).is_some()
    }
}

/// The HTTP client's resolver: [`Destinations::resolve`], shared.
pub(crate) struct CheckedResolver(pub(crate) Arc<Destinations>);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let destinations = self.0.clone();
        Box::pin(async move {
            match destinations.resolve(name.as_str()).await {
                Ok(ips) => {
                    let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
                    Ok(addrs)
                }
                // The refusal travels as itself so the sender can tell it
                // from a DNS failure.
                Err(ResolveError::Blocked(b)) => Err(b.into()),
                Err(e) => Err(e.into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::network::{AddressClass, AllowedNetworks};

    fn production(allowed: &str, overrides: &str) -> Destinations {
        Destinations::new(
            Some(AddressPolicy::new(AllowedNetworks::parse(allowed).unwrap())),
            DnsOverrides::parse(overrides).unwrap(),
        )
    }

    #[tokio::test]
    async fn every_answer_is_checked_and_one_bad_one_refuses_the_name() {
        let d = production(
            "",
            "mixed.test=93.184.215.14,mixed.test=10.0.0.1,ok.test=93.184.215.14",
        );
        let Err(ResolveError::Blocked(b)) = d.resolve("mixed.test").await else {
            panic!("a name with one private answer must be refused");
        };
        assert_eq!(b.address.class, AddressClass::Private);
        assert!(!b.is_literal());
        assert_eq!(
            b.to_string(),
            "`mixed.test` resolves to an address Herald does not deliver to: 10.0.0.1 is a \
             private address (RFC 1918); allowed only in --dev mode or when \
             HERALD_ALLOWED_NETWORKS opens it"
        );
        assert_eq!(d.resolve("ok.test").await.unwrap().len(), 1);
        // The system resolver's answers are checked the same way.
        assert!(matches!(
            d.resolve("localhost").await,
            Err(ResolveError::Blocked(_))
        ));
        // Literal addresses, in any spelling.
        let Err(ResolveError::Blocked(b)) = d.resolve("0x7f000001").await else {
            panic!("a literal loopback address must be refused");
        };
        assert!(b.is_literal());
    }

    #[tokio::test]
    async fn the_allowlist_and_dev_mode_open_addresses() {
        let d = production("127.0.0.0/8", "local.test=127.0.0.1");
        assert_eq!(
            d.resolve("local.test").await.unwrap(),
            ["127.0.0.1".parse::<IpAddr>().unwrap()]
        );
        let dev = Destinations::new(
            None,
            DnsOverrides::parse("meta.test=169.254.169.254").unwrap(),
        );
        assert!(dev.resolve("meta.test").await.is_ok());
        assert!(!dev.resolves("other.test"));
        assert!(dev.resolves("meta.test"));
    }

    #[test]
    fn literal_urls_are_checked() {
        let d = production("", "");
        let url = |s: &str| url::Url::parse(s).unwrap();
        assert!(d.check_url(&url("https://[::ffff:7f00:1]/x")).is_err());
        assert!(d.check_url(&url("https://169.254.169.254/x")).is_err());
        assert!(d.check_url(&url("https://8.8.8.8/x")).is_ok());
        assert!(d.check_url(&url("https://internal.test/x")).is_ok());
    }
}
