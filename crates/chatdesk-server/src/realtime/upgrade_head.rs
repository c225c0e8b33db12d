//! A Socket.IO request's head, copied out of the connection's read buffer.
//!
//! hyper parses the URI and every header value as slices of the connection's HTTP/1 read
//! buffer (16 KB once grown). engineioxide keeps the request head of a websocket for the
//! socket's whole life (`Socket::req_parts`, with the router's `OriginalUri` among its
//! extensions), so every idle websocket kept that buffer alive after the upgrade: almost half
//! of an idle connection's memory. Copying the few hundred bytes of head into their own
//! allocations lets the buffer go.

use axum::extract::{OriginalUri, Request};
use axum::http::{HeaderMap, HeaderValue, Uri};

/// The path engineioxide serves (socketioxide's default).
const SOCKET_IO_PATH: &str = "/socket.io";

/// Give a Socket.IO request a head of its own; every other request passes untouched.
pub fn own_socket_io_head(mut request: Request) -> Request {
    if !request.uri().path().starts_with(SOCKET_IO_PATH) {
        return request;
    }
    *request.uri_mut() = owned_uri(request.uri());
    // The router keeps the URI as it arrived too, sharing the same buffer.
    if let Some(OriginalUri(original)) = request.extensions_mut().get_mut::<OriginalUri>() {
        *original = owned_uri(original);
    }
    let shared = std::mem::take(request.headers_mut());
    *request.headers_mut() = owned_headers(&shared);
    request
}

fn owned_uri(shared: &Uri) -> Uri {
    // Re-parsing a URI's own text cannot fail; keep the shared one if it somehow did.
    Uri::try_from(shared.to_string()).unwrap_or_else(|_| shared.clone())
}

fn owned_headers(shared: &HeaderMap) -> HeaderMap {
    let mut owned = HeaderMap::with_capacity(shared.len());
    for (name, value) in shared {
        // `from_bytes` copies; it cannot fail on bytes that were already a header value.
        let Ok(mut copy) = HeaderValue::from_bytes(value.as_bytes()) else {
            continue;
        };
        copy.set_sensitive(value.is_sensitive());
        // Standard names are static and others were copied by hyper when it parsed them.
        owned.append(name.clone(), copy);
    }
    owned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_io_heads_keep_every_header_and_the_query() {
        let request = Request::builder()
            .uri("/socket.io/?EIO=4&transport=websocket")
            .header("authorization", "Bearer x")
            .header("x-multi", "1")
            .header("x-multi", "2")
            .body(axum::body::Body::empty())
            .unwrap();
        let owned = own_socket_io_head(request);
        assert_eq!(owned.uri().query(), Some("EIO=4&transport=websocket"));
        assert_eq!(owned.headers()["authorization"], "Bearer x");
        let multi: Vec<_> = owned.headers().get_all("x-multi").iter().collect();
        assert_eq!(multi, ["1", "2"]);
    }
}
