//! `idle`: many authenticated, idle Socket.IO connections; the server's memory per connection.

use crate::server::{Server, SECRET};
use crate::sio::Socket;
use crate::stats::{row, Row};
use chatdesk_core::identity::Role;
use chatdesk_server::auth::jwt::JwtKeys;
use std::time::Duration;

pub async fn run(server: &Server, connections: usize) -> anyhow::Result<Vec<Row>> {
    let token =
        JwtKeys::new(SECRET).issue("idle-user", Role::Customer, None, Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_kib().unwrap_or(0);
    let mut sockets = Vec::with_capacity(connections);
    for chunk in (0..connections).collect::<Vec<_>>().chunks(200) {
        let opened = futures::future::try_join_all(
            chunk.iter().map(|_| Socket::connect(&server.base, &token)),
        )
        .await?;
        sockets.extend(opened);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.rss_kib().unwrap_or(0);
    let per = (after.saturating_sub(before) * 1024) as f64 / connections as f64;
    drop(sockets);
    Ok(vec![row(
        "idle",
        "server memory per idle connection",
        format!("{:.1} KB", per / 1000.0),
        "≤ 12 KB",
        format!("{connections} connections, RSS {before} → {after} KiB"),
    )])
}
