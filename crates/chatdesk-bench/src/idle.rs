//! `idle`: many authenticated, idle Socket.IO connections; the server's memory per connection.
//!
//! Connections come from several loopback source addresses (127.0.0.1, .2, …), at most
//! `PER_SOURCE` each, so 100,000 of them fit in the ephemeral port range; `main` raises the
//! file-descriptor limit before the server starts (the server inherits it). Where one process
//! cannot hold a step, `across_nodes` holds it on several nodes, each fed by a child process.

use crate::server::{Options, PgScratch, Server, SECRET};
use crate::sio::{Dial, Socket};
use crate::stats::{row, Row, Target};
use chatdesk_core::identity::Role;
use chatdesk_server::auth::jwt::JwtKeys;
use std::net::{IpAddr, Ipv4Addr};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

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

/// Open connections until `sockets` holds `target`, 500 at a time, from 127.<run>.0.x.
async fn open_up_to(
    base: &str,
    sockets: &mut Vec<Socket>,
    target: usize,
    run: u8,
) -> anyhow::Result<()> {
    let token =
        JwtKeys::new(SECRET).issue("idle-user", Role::Customer, None, Duration::from_secs(3600));
    while sockets.len() < target {
        let start = sockets.len();
        let end = (start + 500).min(target);
        let opened = futures::future::try_join_all((start..end).map(|i| {
            let source = IpAddr::V4(Ipv4Addr::new(127, run, 0, 1 + (i / PER_SOURCE) as u8));
            dial_retrying(Dial {
                base,
                ns: "/chat",
                auth: serde_json::json!({ "token": token }),
                source: Some(source),
            })
        }))
        .await
        .map_err(|e| anyhow::anyhow!("opening connection {start}..{end}: {e}"))?;
        sockets.extend(opened);
    }
    Ok(())
}

/// Open connections until each count in `steps` (ascending) is reached and measure the server
/// at every step: one row per step. The first step past what `fd_limit` (per process) allows
/// is measured at the most that fits, and says so; the steps after it are returned, for
/// `across_nodes`.
pub async fn run(
    server: &Server,
    steps: &[usize],
    fd_limit: u64,
) -> anyhow::Result<(Vec<Row>, Vec<usize>)> {
    let most = fd_limit.saturating_sub(SPARE_FDS) as usize;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_kib().unwrap_or(0);
    let mut sockets: Vec<Socket> = Vec::new();
    let mut rows = Vec::new();
    let mut beyond = Vec::new();
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    for &asked in steps {
        let target = asked.min(most);
        let metric = format!("server memory per idle connection at {asked}");
        if target < asked && sockets.len() == target {
            // An earlier step already measured the most that fits (it opened `target`).
            beyond.push(asked);
            continue;
        }
        open_up_to(&server.base, &mut sockets, target, run).await?;
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
    Ok((rows, beyond))
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

/// `count` idle connections held across as many nodes as one process's `fd_limit` needs, on
/// one PostgreSQL database (`pg`) with Redis between them: one process cannot hold them all
/// here, neither server nor client. Each node's connections come from a child process of
/// this binary (`hold`). One row: the nodes' summed growth per connection.
pub async fn across_nodes(
    count: usize,
    fd_limit: u64,
    pg: &str,
    redis: &str,
) -> anyhow::Result<Row> {
    let metric = format!("server memory per idle connection at {count}");
    if let Err(e) = PgScratch::check(pg).await {
        return Ok(row(
            "idle",
            &metric,
            f64::NAN,
            "KB",
            Target::AtMost(12.0),
            format!("not run: {count} needs several nodes (open-file limit {fd_limit} per process), and no PostgreSQL answers at {pg}: {e}"),
        ));
    }
    let most = fd_limit.saturating_sub(SPARE_FDS) as usize;
    let nodes = count.div_ceil(most);
    let each = count.div_ceil(nodes);
    let mut servers = vec![
        Server::start(Options {
            database_url: Some(pg.to_owned()),
            durability: "normal",
            echo: false,
            bus_url: Some(redis.to_owned()),
        })
        .await?,
    ];
    for _ in 1..nodes {
        let node = servers[0].another_node(redis).await?;
        servers.push(node);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before: Vec<u64> = servers.iter().map(|s| s.rss_kib().unwrap_or(0)).collect();
    let started = std::time::Instant::now();
    let mut holders = Vec::new();
    for (i, server) in servers.iter().enumerate() {
        let n = each.min(count - i * each);
        let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        holders.push(
            Command::new(std::env::current_exe()?)
                .args(["hold", "--target", &server.base])
                .args(["--idle-connections", &n.to_string()])
                .args(["--source-run", &run.to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()?,
        );
    }
    let mut held = 0;
    for holder in &mut holders {
        let out = holder.stdout.take().expect("piped stdout");
        let line = tokio::time::timeout(HOLD_WAIT, BufReader::new(out).lines().next_line())
            .await
            .map_err(|_| anyhow::anyhow!("a holder did not open its connections in time"))??
            .unwrap_or_default();
        held += line
            .strip_prefix("held ")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| anyhow::anyhow!("a holder failed: {line:?}"))?;
    }
    anyhow::ensure!(held == count, "held {held} of {count}");
    let opened_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after: Vec<u64> = servers.iter().map(|s| s.rss_kib().unwrap_or(0)).collect();
    let grown: Vec<u64> = after
        .iter()
        .zip(&before)
        .map(|(a, b)| a.saturating_sub(*b))
        .collect();
    let total: u64 = grown.iter().sum();
    drop(holders);
    // The first node owns the scratch database: stop the others before it goes.
    while servers.pop().is_some() {}
    Ok(row(
        "idle",
        &metric,
        (total * 1024) as f64 / count as f64 / 1000.0,
        "KB",
        Target::AtMost(12.0),
        format!(
            "held across {nodes} nodes (PostgreSQL, Redis between), {each} each, opened in {:.0} s: one process holds at most {most} here (open-file limit {fd_limit}); RSS grew {} KiB in all ({} KiB per node)",
            opened_in.as_secs_f64(),
            total,
            grown.iter().map(u64::to_string).collect::<Vec<_>>().join(" / ")
        ),
    ))
}

/// How long a holder may take to open its connections.
const HOLD_WAIT: Duration = Duration::from_secs(600);

/// The child `across_nodes` starts per node: open `count` connections to `base` from
/// 127.<run>.0.x, print `held N`, and keep them until stdin closes (the parent is done).
pub async fn hold(base: &str, count: usize, run: u8) -> anyhow::Result<()> {
    let mut sockets = Vec::with_capacity(count);
    open_up_to(base, &mut sockets, count, run).await?;
    println!("held {}", sockets.len());
    let mut rest = Vec::new();
    tokio::io::stdin().read_to_end(&mut rest).await?;
    drop(sockets);
    Ok(())
}
