//! `idle`: many authenticated, idle Socket.IO connections; the server's memory per connection.
//!
//! Connections come from several loopback source addresses (127.0.0.1, .2, …), at most
//! `PER_SOURCE` each, so 100,000 of them fit in the ephemeral port range; `main` raises the
//! file-descriptor limit before the server starts (the server inherits it).

use crate::server::{Server, SECRET};
use crate::sio::{Dial, Socket};
use crate::stats::{row, Row, Target};
use chatdesk_core::identity::Role;
use chatdesk_server::auth::jwt::JwtKeys;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Connections per source address: well inside the default ephemeral range (~28,000 ports).
const PER_SOURCE: usize = 5_000;

/// Each run connects from addresses no earlier run used (127.<run>.0.x): the ports an earlier
/// run closed stay in TIME_WAIT for a minute, and binding a source port needs it wholly free.
static RUN: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(1);

/// Descriptors a process needs besides its connections (database, listener, runtime).
const SPARE_FDS: u64 = 500;

/// Dial, trying again (up to `DIAL_ATTEMPTS` in all) when the connection fails. 500 connects
/// at once overflow the loopback listener's SYN queue (the kernel logs "possible SYN
/// flooding" and answers with cookies), and now and then one of them is reset; this scenario
/// measures memory, not that.
async fn dial_retrying(d: Dial<'_>) -> anyhow::Result<Socket> {
    let mut attempt = 1;
    loop {
        match Socket::dial(d.clone()).await {
            Err(_) if attempt < DIAL_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            done => return done,
        }
    }
}

const DIAL_ATTEMPTS: u32 = 3;

/// Open connections until each count in `steps` (ascending) is reached and measure the server
/// at every step: one row per step. A step past what `fd_limit` (per process) allows is
/// measured at the most that fits, and says so.
pub async fn run(server: &Server, steps: &[usize], fd_limit: u64) -> anyhow::Result<Vec<Row>> {
    let most = fd_limit.saturating_sub(SPARE_FDS) as usize;
    let token =
        JwtKeys::new(SECRET).issue("idle-user", Role::Customer, None, Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_kib().unwrap_or(0);
    let mut sockets: Vec<Socket> = Vec::new();
    let mut rows = Vec::new();
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    for &asked in steps {
        let target = asked.min(most);
        let metric = format!("server memory per idle connection at {asked}");
        if target < asked && sockets.len() == target {
            // An earlier step already measured the most that fits (it opened `target`).
            rows.push(row(
                "idle",
                &metric,
                f64::NAN,
                "KB",
                Target::AtMost(12.0),
                format!("not run: the open-file limit is {fd_limit} per process"),
            ));
            continue;
        }
        while sockets.len() < target {
            let start = sockets.len();
            let end = (start + 500).min(target);
            let opened = futures::future::try_join_all((start..end).map(|i| {
                let source = IpAddr::V4(Ipv4Addr::new(127, run, 0, 1 + (i / PER_SOURCE) as u8));
                dial_retrying(Dial {
                    base: &server.base,
                    ns: "/chat",
                    auth: serde_json::json!({ "token": token }),
                    source: Some(source),
                })
            }))
            .await
            .map_err(|e| anyhow::anyhow!("opening connection {start}..{end}: {e}"))?;
            sockets.extend(opened);
        }
        // Let allocations settle (handshake buffers freed, first pings answered).
        tokio::time::sleep(Duration::from_secs(3)).await;
        let after = server.rss_kib().unwrap_or(0);
        let per = (after.saturating_sub(before) * 1024) as f64 / target as f64;
        let limited = if target < asked {
            format!("; measured at {target}, limited by the open-file limit of {fd_limit} per process (it cannot be raised here)")
        } else {
            String::new()
        };
        rows.push(row(
            "idle",
            &metric,
            per / 1000.0,
            "KB",
            Target::AtMost(12.0),
            format!(
                "RSS {before} → {after} KiB over {target} connections; {} source addresses{limited}",
                target.div_ceil(PER_SOURCE)
            ),
        ));
    }
    drop(sockets);
    Ok(rows)
}

/// Raise this process's open-file limit as far as the system allows (children inherit it).
pub fn raise_fd_limit(wanted: u64) -> anyhow::Result<u64> {
    let (soft, hard) = rlimit::Resource::NOFILE.get()?;
    if soft >= wanted {
        return Ok(soft);
    }
    // Raising the hard limit needs privilege; without it, go as far as the hard limit.
    if rlimit::Resource::NOFILE
        .set(wanted, hard.max(wanted))
        .is_ok()
    {
        return Ok(wanted);
    }
    rlimit::Resource::NOFILE.set(hard, hard)?;
    Ok(hard)
}
