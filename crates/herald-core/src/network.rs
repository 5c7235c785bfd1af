//! Which IP addresses a destination may have: the ranges that are not the
//! public internet (loopback, private, link-local, cloud metadata, …) and
//! the operator's allowlist that opens chosen ones. Pure: resolving names
//! and connecting are the server's job; both ask [`AddressPolicy::check`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// Why an address is not a public destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressClass {
    /// `0.0.0.0`, `::` (connecting there reaches the local host).
    Unspecified,
    /// `0.0.0.0/8`, "this network".
    ThisNetwork,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918: `10/8`, `172.16/12`, `192.168/16`.
    Private,
    /// `100.64.0.0/10`, carrier-grade NAT (RFC 6598).
    SharedAddressSpace,
    /// `169.254.0.0/16` (cloud metadata services live at
    /// `169.254.169.254`), `fe80::/10`.
    LinkLocal,
    /// `fc00::/7`, the IPv6 counterpart of RFC 1918.
    UniqueLocal,
    /// `192.0.0.0/24`, `2001::/23` (Teredo among them).
    IetfProtocol,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`,
    /// `3fff::/20`.
    Documentation,
    /// `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `240.0.0.0/4` and other ranges set aside or deprecated: the 6to4
    /// relay anycast `192.88.99/24`, IPv4-compatible IPv6, site-local
    /// `fec0::/10`, discard-only `100::/64`, and IPv6 outside global
    /// unicast `2000::/3`.
    Reserved,
}

impl AddressClass {
    /// A short name, as in `blocked_destination` messages and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::ThisNetwork => "this-network",
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::SharedAddressSpace => "shared (CGNAT)",
            Self::LinkLocal => "link-local",
            Self::UniqueLocal => "unique local",
            Self::IetfProtocol => "IETF protocol assignment",
            Self::Documentation => "documentation",
            Self::Benchmarking => "benchmarking",
            Self::Multicast => "multicast",
            Self::Broadcast => "broadcast",
            Self::Reserved => "reserved",
        }
    }

    /// The class in a sentence: "a private address (RFC 1918)".
    pub fn describe(self) -> &'static str {
        match self {
            Self::Unspecified => "the unspecified address",
            Self::ThisNetwork => "a this-network address (0.0.0.0/8)",
            Self::Loopback => "a loopback address",
            Self::Private => "a private address (RFC 1918)",
            Self::SharedAddressSpace => "a shared (carrier-grade NAT) address (100.64.0.0/10)",
            Self::LinkLocal => "a link-local address (cloud metadata services live here)",
            Self::UniqueLocal => "a unique local IPv6 address (fc00::/7)",
            Self::IetfProtocol => "an IETF protocol assignment",
            Self::Documentation => "a documentation address",
            Self::Benchmarking => "a benchmarking address",
            Self::Multicast => "a multicast address",
            Self::Broadcast => "the broadcast address",
            Self::Reserved => "a reserved address",
        }
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len)
}

const fn v6(segments: [u16; 8], len: u8) -> Ipv6Net {
    let [a, b, c, d, e, f, g, h] = segments;
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), len)
}

/// IANA's special-purpose IPv4 registry, minus nothing: every range there
/// is either unreachable from the internet or reaches something inside.
/// The first match names the class, so single addresses come first.
const IPV4_RANGES: &[(Ipv4Net, AddressClass)] = &[
    (v4(0, 0, 0, 0, 32), AddressClass::Unspecified),
    (v4(255, 255, 255, 255, 32), AddressClass::Broadcast),
    (v4(0, 0, 0, 0, 8), AddressClass::ThisNetwork),
    (v4(10, 0, 0, 0, 8), AddressClass::Private),
    (v4(100, 64, 0, 0, 10), AddressClass::SharedAddressSpace),
    (v4(127, 0, 0, 0, 8), AddressClass::Loopback),
    (v4(169, 254, 0, 0, 16), AddressClass::LinkLocal),
    (v4(172, 16, 0, 0, 12), AddressClass::Private),
    (v4(192, 0, 0, 0, 24), AddressClass::IetfProtocol),
    (v4(192, 0, 2, 0, 24), AddressClass::Documentation),
    (v4(192, 88, 99, 0, 24), AddressClass::Reserved),
    (v4(192, 168, 0, 0, 16), AddressClass::Private),
    (v4(198, 18, 0, 0, 15), AddressClass::Benchmarking),
    (v4(198, 51, 100, 0, 24), AddressClass::Documentation),
    (v4(203, 0, 113, 0, 24), AddressClass::Documentation),
    (v4(224, 0, 0, 0, 4), AddressClass::Multicast),
    (v4(240, 0, 0, 0, 4), AddressClass::Reserved),
];

/// Special-purpose IPv6 ranges inside or beside global unicast; anything
/// else outside `2000::/3` is unallocated and refused as reserved.
const IPV6_RANGES: &[(Ipv6Net, AddressClass)] = &[
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 128), AddressClass::Unspecified),
    (v6([0, 0, 0, 0, 0, 0, 0, 1], 128), AddressClass::Loopback),
    (v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), AddressClass::Reserved),
    (
        v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48),
        AddressClass::Benchmarking,
    ),
    (
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),
        AddressClass::IetfProtocol,
    ),
    (
        v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32),
        AddressClass::Documentation,
    ),
    (
        v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),
        AddressClass::Documentation,
    ),
    (
        v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),
        AddressClass::UniqueLocal,
    ),
    (
        v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
        AddressClass::LinkLocal,
    ),
    (
        v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),
        AddressClass::Reserved,
    ),
    (
        v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),
        AddressClass::Multicast,
    ),
];

const GLOBAL_UNICAST: Ipv6Net = v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3);
const IPV4_MAPPED: Ipv6Net = v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96);
const IPV4_COMPATIBLE: Ipv6Net = v6([0, 0, 0, 0, 0, 0, 0, 0], 96);
const NAT64: Ipv6Net = v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96);
/// RFC 8215's local-use NAT64 prefix: translated by the operator's own
/// gateway, with the IPv4 address wherever its prefix length puts it.
const NAT64_LOCAL: Ipv6Net = v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48);
const SIX_TO_FOUR: Ipv6Net = v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16);

/// The IPv4 address an IPv6 address carries, in the forms a host connects
/// through to that IPv4 address: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4 (`2002:AABB:CCDD::`).
pub fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    if IPV4_MAPPED.contains(&ip) || NAT64.contains(&ip) {
        return Some(Ipv4Addr::from(bits as u32));
    }
    // `::` and `::1` are IPv6's own unspecified and loopback addresses.
    if IPV4_COMPATIBLE.contains(&ip) && bits > 1 {
        return Some(Ipv4Addr::from(bits as u32));
    }
    if SIX_TO_FOUR.contains(&ip) {
        return Some(Ipv4Addr::from((bits >> 80) as u32));
    }
    None
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    IPV4_RANGES
        .iter()
        .find(|(net, _)| net.contains(&ip))
        .map(|(_, class)| *class)
}

fn classify_v6(ip: Ipv6Addr) -> Option<AddressClass> {
    if let Some(inner) = embedded_ipv4(ip) {
        if let Some(class) = classify_v4(inner) {
            return Some(class);
        }
        // Deprecated (RFC 4291) and routed nowhere.
        if IPV4_COMPATIBLE.contains(&ip) {
            return Some(AddressClass::Reserved);
        }
        // Mapped, NAT64 and 6to4 forms of public addresses are public.
        return None;
    }
    if NAT64_LOCAL.contains(&ip) {
        return Some(AddressClass::Private);
    }
    if let Some((_, class)) = IPV6_RANGES.iter().find(|(net, _)| net.contains(&ip)) {
        return Some(*class);
    }
    (!GLOBAL_UNICAST.contains(&ip)).then_some(AddressClass::Reserved)
}

/// Why `ip` is not a public destination, or `None` when it is.
pub fn classify(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(ip) => classify_v4(ip),
        IpAddr::V6(ip) => classify_v6(ip),
    }
}

/// Whether `ip` is outside the public internet (before any allowlist).
pub fn is_forbidden(ip: IpAddr) -> bool {
    classify(ip).is_some()
}

/// An entry of `HERALD_ALLOWED_NETWORKS` that is not a usable range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{entry}` {reason}")]
pub struct InvalidNetwork {
    pub entry: String,
    pub reason: String,
}

/// Ranges the operator opened (`HERALD_ALLOWED_NETWORKS`): an address in
/// one of them is a valid destination whatever its class.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedNetworks(Vec<IpNet>);

impl AllowedNetworks {
    pub fn new(networks: Vec<IpNet>) -> AllowedNetworks {
        AllowedNetworks(networks)
    }

    /// Parses a comma-separated list of CIDR ranges (`10.1.0.0/16,
    /// fd00::/8`); a bare address is that one host. A range with bits set
    /// past its prefix (`10.1.0.0/8`) is refused rather than silently
    /// widened, since it is usually a typo.
    pub fn parse(list: &str) -> Result<AllowedNetworks, InvalidNetwork> {
        let mut networks = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let invalid = |reason: String| InvalidNetwork {
                entry: entry.to_string(),
                reason,
            };
            let net = match entry.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => match entry.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(invalid(
                            "is not a CIDR range such as 10.0.0.0/8 or fd00::/8".to_string(),
                        ));
                    }
                },
            };
            if net.trunc() != net {
                return Err(invalid(format!(
                    "has address bits set past its /{} prefix: write {} (or the narrower range you meant)",
                    net.prefix_len(),
                    net.trunc()
                )));
            }
            networks.push(net);
        }
        Ok(AllowedNetworks(networks))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }

    /// Whether `ip`, or the IPv4 address it carries, is in an opened range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let inner = match ip {
            IpAddr::V6(v6) => embedded_ipv4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.0
            .iter()
            .any(|net| net.contains(&ip) || inner.is_some_and(|i| net.contains(&i)))
    }
}

impl fmt::Display for AllowedNetworks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, net) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{net}")?;
        }
        Ok(())
    }
}

/// A destination address the policy refuses, and why. Names the address
/// and its class, never a URL (URLs can be credentials).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BlockedAddress {
    pub ip: IpAddr,
    pub class: AddressClass,
}

impl fmt::Display for BlockedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is {}", self.ip, self.class.describe())?;
        if let IpAddr::V6(v6) = self.ip
            && let Some(inner) = embedded_ipv4(v6)
        {
            write!(f, " (IPv4 {inner} in IPv6 form)")?;
        }
        Ok(())
    }
}

/// Production mode's rule for destination addresses: public addresses,
/// and whatever the operator opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allowed: AllowedNetworks,
}

impl AddressPolicy {
    pub fn new(allowed: AllowedNetworks) -> AddressPolicy {
        AddressPolicy { allowed }
    }

    pub fn allowed(&self) -> &AllowedNetworks {
        &self.allowed
    }

    pub fn check(&self, ip: IpAddr) -> Result<(), BlockedAddress> {
        if self.allowed.contains(ip) {
            return Ok(());
        }
        match classify(ip) {
            None => Ok(()),
            Some(class) => Err(BlockedAddress { ip, class }),
        }
    }
}

/// The IP address a host string spells, if it is one: a bare or bracketed
/// IPv6 address, or an IPv4 address in any form a URL parser or the C
/// library's `inet_aton` reads (`2130706433`, `0177.0.0.1`, `0x7f.1`,
/// `127.1`). `None` for a host name.
pub fn literal_address(host: &str) -> Option<IpAddr> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(ip);
    }
    match url::Host::parse(host).ok()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

/// The IP address a parsed URL's host is, if it is one (the URL parser has
/// already read every spelling into its canonical form).
pub fn url_address(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> Option<AddressClass> {
        classify(s.parse().unwrap_or_else(|e| panic!("{s}: {e}")))
    }

    #[test]
    fn every_forbidden_ipv4_range_is_classified() {
        use AddressClass::*;
        let cases = [
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", ThisNetwork),
            ("0.255.255.255", ThisNetwork),
            ("10.0.0.0", Private),
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("100.64.0.0", SharedAddressSpace),
            ("100.127.255.255", SharedAddressSpace),
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("169.254.0.1", LinkLocal),
            ("169.254.169.254", LinkLocal),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.0.0.1", IetfProtocol),
            ("192.0.0.170", IetfProtocol),
            ("192.0.2.1", Documentation),
            ("192.88.99.1", Reserved),
            ("192.168.0.1", Private),
            ("192.168.255.255", Private),
            ("198.18.0.1", Benchmarking),
            ("198.19.255.255", Benchmarking),
            ("198.51.100.7", Documentation),
            ("203.0.113.9", Documentation),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("240.0.0.1", Reserved),
            ("254.1.2.3", Reserved),
            ("255.255.255.255", Broadcast),
        ];
        for (ip, expected) in cases {
            assert_eq!(class(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn public_ipv4_neighbours_of_forbidden_ranges_are_allowed() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.0.3.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "198.51.99.255",
            "203.0.112.255",
            "223.255.255.255",
        ] {
            assert_eq!(class(ip), None, "{ip}");
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn every_forbidden_ipv6_range_is_classified() {
        use AddressClass::*;
        let cases = [
            ("::", Unspecified),
            ("::1", Loopback),
            ("fc00::1", UniqueLocal),
            ("fd00::1", UniqueLocal),
            ("fdff:ffff::1", UniqueLocal),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("fec0::1", Reserved),
            ("ff02::1", Multicast),
            ("ff0e::1", Multicast),
            ("2001:db8::1", Documentation),
            ("2001:db8:ffff::1", Documentation),
            ("3fff::1", Documentation),
            ("2001::1", IetfProtocol),
            ("2001:1ff::1", IetfProtocol),
            ("2001:2::1", Benchmarking),
            ("100::1", Reserved),
            ("64:ff9b:1::1", Private),
            // Outside global unicast 2000::/3: unallocated.
            ("4000::1", Reserved),
            ("1::1", Reserved),
        ];
        for (ip, expected) in cases {
            assert_eq!(class(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn ipv6_forms_of_forbidden_ipv4_addresses_are_forbidden() {
        use AddressClass::*;
        let cases = [
            // IPv4-mapped, both spellings.
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:7f00:1", Loopback),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:0.0.0.0", Unspecified),
            ("::ffff:100.64.0.1", SharedAddressSpace),
            ("::ffff:224.0.0.1", Multicast),
            // IPv4-compatible (deprecated).
            ("::127.0.0.1", Loopback),
            ("::10.0.0.1", Private),
            ("::169.254.169.254", LinkLocal),
            // NAT64 well-known prefix.
            ("64:ff9b::127.0.0.1", Loopback),
            ("64:ff9b::a9fe:a9fe", LinkLocal),
            ("64:ff9b::192.168.1.1", Private),
            // 6to4 with the IPv4 address in bits 16-48.
            ("2002:7f00:1::", Loopback),
            ("2002:a00:1::1", Private),
            ("2002:a9fe:a9fe::", LinkLocal),
        ];
        for (ip, expected) in cases {
            assert_eq!(class(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn public_ipv6_and_ipv6_forms_of_public_ipv4_are_allowed() {
        for ip in [
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "2001:200::1",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
        ] {
            assert_eq!(class(ip), None, "{ip}");
        }
        // IPv4-compatible addresses are deprecated even for public IPv4.
        assert_eq!(class("::8.8.8.8"), Some(AddressClass::Reserved));
    }

    #[test]
    fn embedded_ipv4_reads_each_form() {
        let e = |s: &str| embedded_ipv4(s.parse().unwrap());
        let lo = Some(Ipv4Addr::LOCALHOST);
        assert_eq!(e("::ffff:127.0.0.1"), lo);
        assert_eq!(e("::127.0.0.1"), lo);
        assert_eq!(e("64:ff9b::7f00:1"), lo);
        assert_eq!(e("2002:7f00:1:2:3:4:5:6"), lo);
        assert_eq!(e("::1"), None);
        assert_eq!(e("::"), None);
        assert_eq!(e("2606:4700::1"), None);
    }

    #[test]
    fn the_allowlist_opens_ranges_and_their_ipv6_forms() {
        let allowed = AllowedNetworks::parse(" 127.0.0.1/32 , fd00::/8,10.1.0.0/16,").unwrap();
        assert_eq!(allowed.to_string(), "127.0.0.1/32,fd00::/8,10.1.0.0/16");
        let policy = AddressPolicy::new(allowed);
        let ok = |s: &str| policy.check(s.parse().unwrap());
        assert!(ok("127.0.0.1").is_ok());
        assert!(ok("::ffff:127.0.0.1").is_ok());
        assert!(ok("fd00::5").is_ok());
        assert!(ok("10.1.2.3").is_ok());
        assert!(ok("8.8.8.8").is_ok());
        let blocked = ok("127.0.0.2").unwrap_err();
        assert_eq!(blocked.class, AddressClass::Loopback);
        assert_eq!(blocked.to_string(), "127.0.0.2 is a loopback address");
        assert_eq!(ok("10.2.0.1").unwrap_err().class, AddressClass::Private);
        assert_eq!(ok("fe80::1").unwrap_err().class, AddressClass::LinkLocal);
        assert_eq!(
            ok("::ffff:169.254.169.254").unwrap_err().to_string(),
            "::ffff:169.254.169.254 is a link-local address (cloud metadata services live here) \
             (IPv4 169.254.169.254 in IPv6 form)"
        );
        let strict = AddressPolicy::default();
        assert!(strict.check("127.0.0.1".parse().unwrap()).is_err());
    }

    #[test]
    fn allowlist_entries_are_checked() {
        assert!(AllowedNetworks::parse("").unwrap().is_empty());
        let single = AllowedNetworks::parse("192.168.1.10").unwrap();
        assert_eq!(single.to_string(), "192.168.1.10/32");
        assert_eq!(
            AllowedNetworks::parse("::1").unwrap().to_string(),
            "::1/128"
        );
        for bad in [
            "10.0.0.0/33",
            "banana",
            "10.0.0/8",
            "fd00::/129",
            "10.0.0.0/8/8",
        ] {
            let e = AllowedNetworks::parse(&format!("127.0.0.1/32,{bad}")).unwrap_err();
            assert_eq!(e.entry, bad);
            assert!(e.to_string().contains("is not a CIDR range"), "{e}");
        }
        let e = AllowedNetworks::parse("10.1.0.0/8").unwrap_err();
        assert!(e.to_string().contains("write 10.0.0.0/8"), "{e}");
    }

    #[test]
    fn literal_addresses_are_read_in_every_spelling() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        for spelling in [
            "127.0.0.1",
            "2130706433",
            "0177.0.0.1",
            "0x7f000001",
            "0x7f.0.0.1",
            "127.1",
            "127.0.0.1.",
        ] {
            assert_eq!(literal_address(spelling), Some(lo), "{spelling}");
        }
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(literal_address("::1"), Some(v6));
        assert_eq!(literal_address("[::1]"), Some(v6));
        assert_eq!(
            literal_address("[::ffff:127.0.0.1]"),
            Some("::ffff:7f00:1".parse().unwrap())
        );
        assert_eq!(literal_address("mail.example.com"), None);
        assert_eq!(literal_address("localhost"), None);
    }

    #[test]
    fn url_hosts_are_read_in_every_spelling() {
        let host = |s: &str| url_address(&url::Url::parse(s).unwrap());
        let lo = Some("127.0.0.1".parse().unwrap());
        for spelling in [
            "https://2130706433/",
            "https://0177.0.0.1/",
            "https://0x7f000001/",
            "https://127.1/",
            "https://127.0.0.1./",
            "https://%31%32%37.0.0.1/",
            "https://\u{ff11}\u{ff12}\u{ff17}.0.0.1/",
        ] {
            assert_eq!(host(spelling), lo, "{spelling}");
        }
        assert_eq!(
            host("https://[::ffff:127.0.0.1]/"),
            Some("::ffff:7f00:1".parse().unwrap())
        );
        assert_eq!(host("https://example.com/"), None);
    }
}
