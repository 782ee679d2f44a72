//! The client's address, as the action log records it and the sign-in limits count it. Behind a reverse proxy
//! listed in `web.trusted_proxies`, it is the right-most address of `X-Forwarded-For` that is not itself a
//! trusted proxy (each proxy appends the peer it saw; what is left of that came from the client and may be
//! forged). From any other peer, `X-Forwarded-For` is ignored.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use axum::http::request::Parts;

use crate::Application;

/// The client's address (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<S> FromRequestParts<S> for ClientAddress
where
    S: Send + Sync,
    Arc<Application>: FromRef<S>,
{
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // `serve` always provides the peer; a router served without it is a programming error.
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>().copied() else {
            tracing::error!("web: the router was served without the peer's address");
            return Err((StatusCode::INTERNAL_SERVER_ERROR, "no peer address"));
        };
        let app = Arc::<Application>::from_ref(state);
        Ok(ClientAddress(client_address(
            peer.ip(),
            &parts.headers,
            &app.settings.web.trusted_proxy_addresses,
        )))
    }
}

/// The client of a request that came from `peer` with `headers`.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(&peer) {
        return peer;
    }
    // Several X-Forwarded-For headers are one list, in order.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|hop| !hop.is_empty())
        .collect();
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(address) if trusted.contains(&address) => continue,
            Some(address) => return address,
            // Not an address where a proxy we trust wrote one: believe nothing further left.
            None => return peer,
        }
    }
    peer
}

/// One hop of `X-Forwarded-For`: an address, perhaps with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|a| a.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append("x-forwarded-for", v.parse().unwrap());
        }
        map
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        let trusted = [proxy, "10.0.0.2".parse().unwrap()];
        let forwarded = headers(&["198.51.100.1, 203.0.113.9", "10.0.0.2"]);
        assert_eq!(client_address(other, &forwarded, &trusted), other);
        assert_eq!(
            client_address(proxy, &forwarded, &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(proxy, &headers(&[]), &trusted), proxy);
        assert_eq!(client_address(proxy, &headers(&["10.0.0.2"]), &trusted), proxy);
        assert_eq!(client_address(proxy, &headers(&["1.2.3.4, junk"]), &trusted), proxy);
        assert_eq!(
            client_address(proxy, &headers(&["[2001:db8::1]:443"]), &trusted),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(
            client_address(mapped, &headers(&["203.0.113.9"]), &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }
}
