//! `chatdesk-bench`: starts the release `chatdesk` server (a separate process), drives it
//! over loopback, verifies delivery, and prints a results table (or `--json`). Every figure is
//! the median of `--runs` runs, each on a fresh server and database.

mod fanout;
mod history;
mod idle;
mod plot;
mod replay;
mod rest;
mod server;
mod sio;
mod stats;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use server::{Options, PgScratch, Server};
use stats::{row, Row, Target};
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
enum Scenario {
    Fanout,
    Echo,
    Durable,
    Rest,
    History,
    Idle,
    Replay,
    All,
    /// `idle`'s child process: hold `--idle-connections` to `--target` until stdin closes.
    #[value(hide = true)]
    Hold,
}

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Parser)]
#[command(
    name = "chatdesk-bench",
    about = "Benchmarks for chatdesk: prints a results table"
)]
struct Cli {
    scenario: Scenario,
    /// `fanout` on PostgreSQL: a scratch database is created next to the one this URL names
    /// (and dropped afterwards). `all` uses this, or CHATDESK_BENCH_PG_URL, or the local
    /// default, and reports the row as not run when no server answers.
    #[arg(long)]
    pg: Option<String>,
    /// Runs of each scenario; every figure is their median.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Sessions in `fanout` / `echo` / `durable` (each a visitor and an agent socket).
    #[arg(long, default_value_t = 1000)]
    sessions: usize,
    /// Sends in flight per visitor.
    #[arg(long, default_value_t = 4)]
    window: usize,
    /// Pace the latency phase of `fanout` / `echo` / `durable` at this many messages per
    /// second instead of half the measured rate: two builds compared at the same load.
    #[arg(long)]
    paced_rate: Option<f64>,
    /// Seconds each measured phase runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Messages seeded for `history`.
    #[arg(long, default_value_t = 1_000_000)]
    history_messages: usize,
    /// Sessions seeded for `history`.
    #[arg(long, default_value_t = 10_000)]
    history_sessions: usize,
    /// Connection counts `idle` measures at, ascending.
    #[arg(long, value_delimiter = ',', default_values_t = [20_000, 100_000])]
    idle_connections: Vec<usize>,
    /// `hold`'s source addresses: 127.<this>.0.x.
    #[arg(long, hide = true, default_value_t = 1)]
    source_run: u8,
    /// Clients in `replay`.
    #[arg(long, default_value_t = 1000)]
    replay_clients: usize,
    /// Messages each `replay` client is behind.
    #[arg(long, default_value_t = 100)]
    replay_behind: usize,
    /// Drive this running server (`http://host:port`) instead of starting one per run.
    #[arg(long)]
    target: Option<String>,
    /// The `--target` server's process id, for `idle`'s memory figures.
    #[arg(long)]
    target_pid: Option<u32>,
    /// `fanout` across this many nodes (1 or 2) on PostgreSQL and Redis: visitors on the first,
    /// agents on the second; reported beside one node on PostgreSQL.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// Redis for `--nodes 2`.
    #[arg(
        long,
        env = "CHATDESK_BENCH_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    redis: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also draw the results into this directory: `rows.svg` (each row against its target)
    /// and `latency.svg` (fanout's send→deliver latency at its paced rates).
    #[arg(long)]
    plot: Option<std::path::PathBuf>,
}

impl Cli {
    fn wants(&self, s: Scenario) -> bool {
        self.scenario == s || self.scenario == Scenario::All
    }

    fn fanout(&self, label: &'static str, echo: bool, pace: Pace) -> fanout::Config {
        fanout::Config {
            label,
            sessions: self.sessions,
            window: self.window,
            duration: Duration::from_secs(self.seconds),
            echo,
            rate: match pace {
                Pace::Full => None,
                Pace::Half(rate) => Some(rate),
                Pace::Fixed => Some(fanout::FIXED_RATE),
            },
            fixed: pace == Pace::Fixed,
        }
    }

    /// The server for one run: `--target`, or a fresh one started with `opts`.
    async fn server(&self, opts: Options) -> anyhow::Result<Server> {
        match &self.target {
            Some(base) => Server::attach(base, self.target_pid),
            None => Server::start(opts).await,
        }
    }

    /// PostgreSQL for what needs several nodes: `--pg`, the environment, or the default.
    fn pg_or_default(&self) -> String {
        self.pg_url().unwrap_or_else(|| {
            std::env::var("CHATDESK_BENCH_PG_URL").unwrap_or_else(|_| DEFAULT_PG.into())
        })
    }

    /// Where `fanout --pg` runs: the flag, else (for `all`) the environment or the default.
    fn pg_url(&self) -> Option<String> {
        self.pg.clone().or_else(|| {
            (self.scenario == Scenario::All).then(|| {
                std::env::var("CHATDESK_BENCH_PG_URL").unwrap_or_else(|_| DEFAULT_PG.into())
            })
        })
    }
}

/// Run `once` `runs` times and fold the runs into medians.
async fn repeat<F, Fut>(runs: usize, mut once: F) -> anyhow::Result<Vec<Row>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Vec<Row>>>,
{
    let mut all = Vec::new();
    for i in 0..runs.max(1) {
        eprintln!("  run {}/{}", i + 1, runs.max(1));
        all.push(once().await?);
    }
    Ok(stats::median(all))
}

/// How fast a fanout-like run sends.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Pace {
    /// As fast as acknowledgements return.
    Full,
    /// At this rate: half the measured one (or `--paced-rate`).
    Half(f64),
    /// At `fanout::FIXED_RATE`.
    Fixed,
}

/// A fanout-like scenario at full speed, then paced at half its median rate (or
/// `--paced-rate`) for latency; `fanout` itself also at the fixed rate.
async fn fanout_pair(
    cli: &Cli,
    label: &'static str,
    echo: bool,
    opts: impl Fn() -> Options,
) -> anyhow::Result<Vec<Row>> {
    eprintln!("{label}: full speed");
    let mut rows = repeat(cli.runs, || {
        fanout_once(cli, label, echo, Pace::Full, opts())
    })
    .await?;
    let half = cli.paced_rate.unwrap_or(rows[0].value / 2.0);
    let mut paces = vec![Pace::Half(half)];
    if label == "fanout" {
        paces.push(Pace::Fixed);
    }
    for pace in paces {
        eprintln!("{label}: paced ({pace:?})");
        rows.extend(repeat(cli.runs, || fanout_once(cli, label, echo, pace, opts())).await?);
    }
    Ok(rows)
}

/// One fanout run on fresh servers: one, or with a `bus_url`, two nodes (visitors on the
/// first, agents on the second).
async fn fanout_once(
    cli: &Cli,
    label: &'static str,
    echo: bool,
    pace: Pace,
    opts: Options,
) -> anyhow::Result<Vec<Row>> {
    let bus = opts.bus_url.clone();
    let server = cli.server(opts).await?;
    let cfg = cli.fanout(label, echo, pace);
    match bus {
        None => fanout::run(&server.base, &server.base, cfg).await,
        Some(bus) => {
            let agents = server.another_node(&bus).await?;
            fanout::run(&server.base, &agents.base, cfg).await
        }
    }
}

fn sqlite(durability: &'static str) -> impl Fn() -> Options {
    move || Options {
        database_url: None,
        durability,
        echo: false,
        bus_url: None,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.scenario == Scenario::Hold {
        let target = cli.target.as_deref().context("hold needs --target")?;
        let count = cli.idle_connections.first().copied().unwrap_or(0);
        return idle::hold(target, count, cli.source_run).await;
    }
    let secs = Duration::from_secs(cli.seconds);
    let mut rows = Vec::new();
    let mut failed = false;
    // Each process (this one, and the server, which inherits the limit) holds one descriptor
    // per connection.
    let most = cli.idle_connections.iter().copied().max().unwrap_or(0);
    let fd_limit = idle::raise_fd_limit(most as u64 + 1_000)?;
    // `fanout --pg URL` is the PostgreSQL row alone; `all --pg URL` runs both.
    if cli.wants(Scenario::Fanout) && (cli.pg.is_none() || cli.scenario == Scenario::All) {
        keep(
            &mut rows,
            &mut failed,
            "fanout",
            fanout_pair(&cli, "fanout", false, sqlite("normal")).await,
        );
    }
    if cli.wants(Scenario::Fanout) {
        if let Some(url) = cli.pg_url() {
            let result = fanout_pg(&cli, &url).await;
            keep(&mut rows, &mut failed, "fanout --pg", result);
        }
    }
    // `all` measures two nodes too; `fanout` does with `--nodes 2`.
    if cli.wants(Scenario::Fanout) && (cli.nodes > 1 || cli.scenario == Scenario::All) {
        anyhow::ensure!(cli.nodes <= 2, "--nodes takes 1 or 2");
        let result = fanout_nodes(&cli, &cli.pg_or_default()).await;
        keep(&mut rows, &mut failed, "fanout --nodes 2", result);
        if let Some(share) = ratio(&rows, "fanout --nodes 2", "fanout --pg", 70.0) {
            rows.push(share);
        }
    }
    if cli.wants(Scenario::Echo) {
        let echo = || Options {
            echo: true,
            ..sqlite("normal")()
        };
        keep(
            &mut rows,
            &mut failed,
            "echo",
            fanout_pair(&cli, "echo", true, echo).await,
        );
    }
    if let Some(ratio) = ratio(&rows, "fanout", "echo", 50.0) {
        rows.push(ratio);
    }
    if cli.wants(Scenario::Durable) {
        eprintln!("durable");
        let opts = sqlite("full");
        let result = repeat(cli.runs, || async {
            let server = cli.server(opts()).await?;
            fanout::run(
                &server.base,
                &server.base,
                cli.fanout("durable", false, Pace::Full),
            )
            .await
        })
        .await;
        keep(&mut rows, &mut failed, "durable", result);
        if let Some(share) = ratio(&rows, "durable", "fanout", 90.0) {
            rows.push(share);
        }
    }
    if cli.wants(Scenario::Rest) {
        eprintln!("rest");
        let result = repeat(cli.runs, || async {
            let server = cli.server(sqlite("normal")()).await?;
            rest::run(&server.base, 64, secs).await
        })
        .await;
        keep(&mut rows, &mut failed, "rest", result);
    }
    if cli.wants(Scenario::History) {
        eprintln!("history: seeding {} messages", cli.history_messages);
        let result = history::run(cli.history_sessions, cli.history_messages, cli.runs, secs).await;
        keep(&mut rows, &mut failed, "history", result);
    }
    if cli.wants(Scenario::Replay) {
        eprintln!("replay");
        let result = repeat(cli.runs, || async {
            let server = cli.server(sqlite("normal")()).await?;
            replay::run(&server.base, cli.replay_clients, cli.replay_behind).await
        })
        .await;
        keep(&mut rows, &mut failed, "replay", result);
    }
    if cli.wants(Scenario::Idle) {
        eprintln!("idle");
        let mut steps = cli.idle_connections.clone();
        steps.sort_unstable();
        // Steps one process cannot hold run across several nodes on PostgreSQL and Redis.
        let pg = cli.pg_or_default();
        let result = repeat(cli.runs, || async {
            let server = cli.server(sqlite("normal")()).await?;
            let (mut rows, beyond) = idle::run(&server, &steps, fd_limit).await?;
            drop(server);
            for count in beyond {
                rows.push(idle::across_nodes(count, fd_limit, &pg, &cli.redis).await?);
            }
            Ok(rows)
        })
        .await;
        keep(&mut rows, &mut failed, "idle", result);
    }
    if let Some(dir) = &cli.plot {
        plot::draw(&rows, dir)?;
        eprintln!("plots written to {}", dir.display());
    }
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        stats::print_table(&rows);
        let off: Vec<&str> = server::LIMITS_OFF.iter().map(|(k, _)| *k).collect();
        println!(
            "\nLimits raised for a load from one address: {}",
            off.join(", ")
        );
    }
    anyhow::ensure!(!failed, "a scenario failed: see its row");
    Ok(())
}

/// A scenario's rows, or one row saying how it failed: `all` goes on to the next scenario,
/// and exits with an error at the end.
fn keep(rows: &mut Vec<Row>, failed: &mut bool, scenario: &str, result: anyhow::Result<Vec<Row>>) {
    match result {
        Ok(r) => rows.extend(r),
        Err(e) => {
            eprintln!("{scenario} FAILED: {e:#}");
            *failed = true;
            rows.push(row(
                scenario,
                "run",
                f64::NAN,
                "",
                Target::Report,
                format!("FAILED: {e:#}"),
            ));
        }
    }
}

/// `fanout` on a scratch PostgreSQL database per run (each `Server::start` makes its own; see
/// `PgScratch`), or a row saying it was not run when no PostgreSQL answers at `url`.
async fn fanout_pg(cli: &Cli, url: &str) -> anyhow::Result<Vec<Row>> {
    if let Err(e) = PgScratch::check(url).await {
        return Ok(vec![row(
            "fanout --pg",
            "messages/s, persisted and delivered",
            f64::NAN,
            "msgs/s",
            Target::Report,
            format!("not run: no PostgreSQL at {url}: {e}"),
        )]);
    }
    fanout_pair(cli, "fanout --pg", false, || Options {
        database_url: Some(url.to_owned()),
        durability: "normal",
        echo: false,
        bus_url: None,
    })
    .await
}

/// `fanout` across two nodes on one scratch PostgreSQL database and `--redis`.
async fn fanout_nodes(cli: &Cli, url: &str) -> anyhow::Result<Vec<Row>> {
    PgScratch::check(url).await?;
    fanout_pair(cli, "fanout --nodes 2", false, || Options {
        database_url: Some(url.to_owned()),
        durability: "normal",
        echo: false,
        bus_url: Some(cli.redis.clone()),
    })
    .await
}

/// `a`'s rate as a share of `b`'s, when both were measured.
fn ratio(rows: &[Row], a: &str, b: &str, at_least: f64) -> Option<Row> {
    let rate = |label: &str| {
        rows.iter()
            .find(|r| r.scenario == label && r.unit == "msgs/s")
            .map(|r| r.value)
    };
    let (x, y) = (rate(a)?, rate(b)?);
    Some(row(
        a,
        &format!("{a} rate as a share of {b}"),
        100.0 * x / y,
        "%",
        Target::AtLeast(at_least),
        format!("{x:.0} / {y:.0} msgs/s (medians)"),
    ))
}
