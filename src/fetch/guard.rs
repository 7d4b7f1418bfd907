//! The SSRF guard: wirefeed fetches URLs that strangers publish, so it must never be talked
//! into reaching the machine it runs on, the private network around it, or a cloud metadata
//! endpoint (169.254.169.254).
//!
//! Every connection target is checked *after* name resolution, at two places: a DNS resolver
//! that drops forbidden addresses (so a public name that resolves to 10.0.0.1 is refused), and
//! a check of IP-literal hosts, which skip DNS, on the first URL and on every redirect hop.
//!
//! Through a proxy the resolver never sees the target (the proxy resolves it), so each hop's
//! host is resolved here first and refused when any of its addresses is forbidden
//! ([`GuardPolicy::check_through_proxy`]); the proxy itself is a connection target like any
//! other and must be allowed too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Who may be reached despite being private; from `[fetch] allow_private` / `allow_hosts`.
#[derive(Debug, Clone, Default)]
pub struct GuardPolicy {
    pub allow_private: bool,
    /// Host names or IP literals (as written in URLs) that are always allowed.
    pub allow_hosts: Vec<String>,
}

/// A refused connection target.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "refused to connect to {target}: {why} address (set [fetch] allow_private or allow_hosts to permit)"
)]
pub struct Refused {
    pub target: String,
    pub why: &'static str,
}

impl GuardPolicy {
    fn host_allowed(&self, host: &str) -> bool {
        self.allow_private
            || self.allow_hosts.iter().any(|h| {
                h.eq_ignore_ascii_case(host)
                    || h.trim_matches(|c| c == '[' || c == ']')
                        .eq_ignore_ascii_case(host.trim_matches(|c| c == '[' || c == ']'))
            })
    }

    /// Checks a URL whose host is an IP literal (those never reach the resolver).
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        let host = url.host_str().unwrap_or_default();
        match forbidden_reason(ip) {
            Some(why) if !self.host_allowed(host) => Err(Refused {
                target: target_of(url),
                why,
            }),
            _ => Ok(()),
        }
    }

    /// Checks a target reached through a proxy, which resolves names itself: the host is
    /// resolved here and refused when *any* of its addresses is forbidden (the proxy may
    /// pick any of them), or when it does not resolve at all (the proxy's view of names
    /// cannot be checked).
    pub async fn check_through_proxy(&self, url: &Url) -> Result<(), Refused> {
        self.check_url(url)?;
        let Some(Host::Domain(name)) = url.host() else {
            return Ok(());
        };
        if self.host_allowed(name) {
            return Ok(());
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<SocketAddr> = match tokio::net::lookup_host((name, port)).await {
            Ok(a) => a.collect(),
            Err(_) => Vec::new(),
        };
        if addrs.is_empty() {
            return Err(Refused {
                target: target_of(url),
                why: "unresolvable (so uncheckable)",
            });
        }
        match addrs.iter().find_map(|a| forbidden_reason(a.ip())) {
            Some(why) => Err(Refused {
                target: target_of(url),
                why,
            }),
            None => Ok(()),
        }
    }
}

/// How a refused target is named in errors: host and port, never the path, query or
/// userinfo (they may carry credentials).
fn target_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => url.scheme().to_string(),
    }
}

/// Why an address must not be contacted, or `None` if it is a public unicast address.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_reason(v4);
            }
            v6_reason(v6)
        }
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(if ip.is_loopback() {
        "loopback"
    } else if ip.is_private() {
        "private"
    } else if ip.is_link_local() {
        "link-local"
    } else if ip.is_unspecified() || o[0] == 0 {
        "unspecified"
    } else if ip.is_multicast() {
        "multicast"
    } else if ip.is_broadcast() || o[0] >= 240 {
        "reserved"
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        "shared (carrier-grade NAT)"
    } else if o[0] == 192 && o[1] == 0 && o[2] == 0 {
        "IETF protocol"
    } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
        "benchmarking"
    } else {
        return None;
    })
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let embedded =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    // IPv4-compatible (::a.b.c.d, deprecated but still routed by some stacks).
    if s[..6].iter().all(|x| *x == 0) && !ip.is_loopback() && !ip.is_unspecified() {
        return v4_reason(embedded(s[6], s[7])).or(Some("IPv4-compatible"));
    }
    // 6to4 (2002::/16) carries an IPv4 address in its next 32 bits.
    if s[0] == 0x2002 {
        return v4_reason(embedded(s[1], s[2]));
    }
    Some(if ip.is_loopback() {
        "loopback"
    } else if ip.is_unspecified() {
        "unspecified"
    } else if ip.is_multicast() {
        "multicast"
    } else if (s[0] & 0xfe00) == 0xfc00 {
        "unique-local"
    } else if (s[0] & 0xffc0) == 0xfe80 {
        "link-local"
    } else if (s[0] & 0xffc0) == 0xfec0 {
        "site-local"
    } else if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
        // 64:ff9b:1::/48 is for local NAT64 translators.
        "local NAT64"
    } else if s[0] == 0x64 && s[1] == 0xff9b {
        // NAT64 can wrap any IPv4 address, private ones included.
        return v4_reason(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    } else {
        return None;
    })
}

/// A DNS resolver that only returns addresses the policy allows.
pub struct GuardedResolver {
    pub policy: Arc<GuardPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if policy.host_allowed(&host) {
                return Ok(Box::new(addrs.into_iter()) as Addrs);
            }
            let total = addrs.len();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| match forbidden_reason(a.ip()) {
                    Some(why) => {
                        refused = Some(why);
                        false
                    }
                    None => true,
                })
                .collect();
            if allowed.is_empty() && total > 0 {
                return Err(Box::new(Refused {
                    target: host,
                    why: refused.unwrap_or("private"),
                })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "100.64.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(forbidden_reason(ip).is_some(), "{ip} should be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "64:ff9b::808:808",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(forbidden_reason(ip), None, "{ip}");
        }
    }

    #[test]
    fn ip_literal_urls_are_checked_and_allow_hosts_wins() {
        let strict = GuardPolicy::default();
        let u = Url::parse("http://127.0.0.1:8080/feed").unwrap();
        assert!(strict.check_url(&u).is_err());
        assert!(
            strict
                .check_url(&Url::parse("http://[::1]/").unwrap())
                .is_err()
        );
        assert!(
            strict
                .check_url(&Url::parse("https://example.org/").unwrap())
                .is_ok()
        );
        let allowed = GuardPolicy {
            allow_hosts: vec!["127.0.0.1".into()],
            ..Default::default()
        };
        assert!(allowed.check_url(&u).is_ok());
        let refused = strict
            .check_url(&Url::parse("http://me:pw@127.0.0.1:9/f?key=K").unwrap())
            .unwrap_err();
        assert_eq!(refused.target, "127.0.0.1:9", "no path, query or userinfo");
        assert!(
            allowed
                .check_url(&Url::parse("http://127.0.0.2/").unwrap())
                .is_err()
        );
        let open = GuardPolicy {
            allow_private: true,
            ..Default::default()
        };
        assert!(
            open.check_url(&Url::parse("http://10.0.0.1/").unwrap())
                .is_ok()
        );
    }
}

#[cfg(test)]
mod proxy_tests {
    use super::*;

    #[tokio::test]
    async fn through_a_proxy_names_are_resolved_and_checked_here() {
        let policy = GuardPolicy {
            allow_hosts: vec!["127.0.0.1".into()],
            ..Default::default()
        };
        // "localhost" is loopback, and not allowed by that name.
        let local = Url::parse("http://localhost:8080/feed").unwrap();
        assert!(policy.check_through_proxy(&local).await.is_err());
        assert!(
            policy
                .check_through_proxy(&Url::parse("http://127.0.0.1:1/").unwrap())
                .await
                .is_ok()
        );
    }
}
