//! Where webhooks may go. A tenant's admin chooses the URL, so without a check the server
//! would POST, from inside its own network, to its loopback, to private hosts, or to a cloud
//! metadata address. Deliveries go only to public addresses, plus the networks the
//! deployment allows (`webhook_allowed_networks`). The check runs on the resolved address,
//! at connect time: a name that resolves to a public address when the webhook is created
//! and to a private one later is still refused.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// A network in CIDR notation (`10.0.0.0/8`, `::1/128`), or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (addr, prefix) = match raw.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw.trim(), None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{raw:?} is not an address or a network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{raw:?} has a bad prefix length"))?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

/// Which addresses deliveries may reach.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    allowed: Vec<Network>,
}

impl EgressPolicy {
    pub fn new(allowed: &[String]) -> Result<Self, String> {
        Ok(Self {
            allowed: allowed
                .iter()
                .map(|n| Network::parse(n))
                .collect::<Result<_, _>>()?,
        })
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = unmapped(ip);
        is_public(ip) || self.allowed.iter().any(|n| n.contains(ip))
    }

    /// A URL whose host is an address literal the policy refuses (names are checked when
    /// they are resolved).
    pub fn refuses_literal(&self, url: &str) -> bool {
        let Ok(url) = reqwest::Url::parse(url) else {
            return false;
        };
        let host = url.host_str().unwrap_or_default();
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        literal.parse().is_ok_and(|ip| !self.permits(ip))
    }

    /// A resolver for the delivery client that drops the addresses this policy refuses.
    pub fn resolver(self) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver(Arc::new(self)))
    }
}

/// An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is that IPv4 address.
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT).
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments, benchmarking, reserved.
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, documentation 2001:db8::/32.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // NAT64 and IPv4-compatible forms can reach IPv4 private hosts.
        || first == 0x0064
        || first == 0)
}

/// The delivery client's resolver: system resolution, then the policy's filter.
pub struct GuardedResolver(Arc<EgressPolicy>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "{host} resolves to no address webhooks may reach (private, loopback or \
                     link-local; see webhook_allowed_networks)"
                )
                .into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_loopback_and_metadata_addresses_are_refused() {
        let p = EgressPolicy::default();
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!p.permits(ip(refused)), "{refused}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(p.permits(ip(public)), "{public}");
        }
    }

    #[test]
    fn allowed_networks_open_exactly_their_range() {
        let p = EgressPolicy::new(&["127.0.0.0/8".into(), "10.1.0.0/16".into()]).unwrap();
        assert!(p.permits(ip("127.0.0.1")));
        assert!(p.permits(ip("10.1.255.1")));
        assert!(!p.permits(ip("10.2.0.1")));
        assert!(!p.permits(ip("::1")));
        assert!(EgressPolicy::new(&["10.0.0.0/33".into()]).is_err());
        assert!(EgressPolicy::new(&["example.com".into()]).is_err());
    }

    #[test]
    fn literal_hosts_are_checked_in_urls() {
        let p = EgressPolicy::default();
        assert!(p.refuses_literal("http://169.254.169.254/latest/meta-data"));
        assert!(p.refuses_literal("http://[::1]:8080/hook"));
        assert!(!p.refuses_literal("https://hooks.example.com/x"));
    }
}
