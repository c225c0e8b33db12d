//! `chatdesk-bench`: starts the release `chatdesk` server (a separate process), drives it
//! over loopback, verifies delivery, and prints a results table (or `--json`).

mod fanout;
mod history;
mod idle;
mod rest;
mod server;
mod sio;
mod stats;

use clap::{Parser, ValueEnum};
use server::{Options, Server};
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Fanout,
    Durable,
    Rest,
    History,
    Idle,
    All,
}

#[derive(Parser)]
#[command(
    name = "chatdesk-bench",
    about = "Benchmarks for chatdesk: prints a results table"
)]
struct Cli {
    scenario: Scenario,
    /// Run `fanout` on this PostgreSQL database instead of SQLite.
    #[arg(long)]
    pg: Option<String>,
    /// Sessions in `fanout` / `durable` (each a visitor and an agent socket).
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    /// Sends in flight per visitor.
    #[arg(long, default_value_t = 4)]
    window: usize,
    /// Seconds each measured phase runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Messages seeded for `history`.
    #[arg(long, default_value_t = 1_000_000)]
    history_messages: usize,
    /// Sessions seeded for `history`.
    #[arg(long, default_value_t = 10_000)]
    history_sessions: usize,
    /// Connections for `idle`.
    #[arg(long, default_value_t = 5_000)]
    idle_connections: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let secs = Duration::from_secs(cli.seconds);
    let run = |s: Scenario| cli.scenario == s || cli.scenario == Scenario::All;
    let mut rows = Vec::new();
    if run(Scenario::Fanout) {
        let server = Server::start(Options {
            database_url: cli.pg.clone(),
            durability: "normal",
        })
        .await?;
        let label = if cli.pg.is_some() {
            "fanout --pg"
        } else {
            "fanout"
        };
        rows.extend(
            fanout::run(
                &server.base,
                fanout::Config {
                    label,
                    sessions: cli.sessions,
                    window: cli.window,
                    duration: secs,
                },
            )
            .await?,
        );
    }
    if run(Scenario::Durable) {
        let server = Server::start(Options {
            database_url: None,
            durability: "full",
        })
        .await?;
        rows.extend(
            fanout::run(
                &server.base,
                fanout::Config {
                    label: "durable",
                    sessions: cli.sessions,
                    window: cli.window,
                    duration: secs,
                },
            )
            .await?,
        );
    }
    if run(Scenario::Rest) {
        let server = Server::start(Options {
            database_url: None,
            durability: "normal",
        })
        .await?;
        rows.extend(rest::run(&server.base, 64, secs).await?);
    }
    if run(Scenario::History) {
        rows.extend(history::run(cli.history_sessions, cli.history_messages, secs).await?);
    }
    if run(Scenario::Idle) {
        let server = Server::start(Options {
            database_url: None,
            durability: "normal",
        })
        .await?;
        rows.extend(idle::run(&server, cli.idle_connections).await?);
    }
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        stats::print_table(&rows);
    }
    Ok(())
}
