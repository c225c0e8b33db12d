//! The server under test: the release `chatdesk` binary beside this one, started on a free
//! port with its own database, stopped (SIGTERM) when dropped.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub const SECRET: &str = "chatdesk-bench-secret";

/// The abuse limits a load from one address would trip, switched off for the server under
/// test (docs/security.md says what each protects).
pub const LIMITS_OFF: [(&str, &str); 5] = [
    (
        "CHATDESK_LIMITS__SESSION_OPENS_PER_IP",
        "{burst=0, every_secs=1}",
    ),
    ("CHATDESK_LIMITS__SOCKET_EVENTS", "{burst=0, every_secs=1}"),
    ("CHATDESK_LIMITS__LOGIN_PER_IP", "{burst=0, every_secs=1}"),
    ("CHATDESK_LIMITS__MAX_CONNECTIONS_PER_IP", "0"),
    ("CHATDESK_LIMITS__UNAUTHENTICATED_SOCKET_SECS", "3600"),
];

pub struct Server {
    pub base: String,
    /// The server's process id, for its memory.
    pid: Option<u32>,
    child: Option<Child>,
    scratch: Option<PgScratch>,
    _dir: tempfile::TempDir,
}

pub struct Options {
    /// A PostgreSQL URL: the server gets a scratch database beside the one it names.
    /// `None`: a fresh SQLite file.
    pub database_url: Option<String>,
    pub durability: &'static str,
    /// Serve the bare `/echo` namespace too.
    pub echo: bool,
    /// Redis between nodes (`bus_url`): for several servers on one PostgreSQL database.
    pub bus_url: Option<String>,
}

/// A throwaway PostgreSQL database for one server, dropped with it.
pub struct PgScratch {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgScratch {
    /// Is a PostgreSQL server answering at `url`?
    pub async fn check(url: &str) -> anyhow::Result<()> {
        use sqlx::Connection;
        sqlx::PgConnection::connect(url).await?.close().await?;
        Ok(())
    }

    async fn create(admin_url: &str) -> anyhow::Result<Self> {
        use sqlx::Connection;
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("chatdesk_bench_{}_{n}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        // postgres://user@host:port/db?params → the same with the scratch database.
        let (head, query) = admin_url.split_once('?').unwrap_or((admin_url, ""));
        let scheme_end = head.find("://").map_or(0, |i| i + 3);
        let host_end = head[scheme_end..]
            .find('/')
            .map_or(head.len(), |i| scheme_end + i);
        let mut url = format!("{}/{name}", &head[..host_end]);
        if !query.is_empty() {
            url = format!("{url}?{query}");
        }
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
        })
    }

    /// Drop the database, whatever still holds it (the killed server's connections).
    fn remove(&self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Called from Drop, inside the async runtime: a thread of its own may block.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                use sqlx::Connection;
                let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop scratch database {}", self.name);
        }
    }
}

fn binary() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe()?;
    let path = me.with_file_name("chatdesk");
    anyhow::ensure!(
        path.exists(),
        "{} not found: build it first (cargo build --release --workspace)",
        path.display()
    );
    Ok(path)
}

impl Server {
    /// A server someone else started (for profiling it under a tool, say). Its settings are
    /// its own: `--pg`, `durable` and `echo` need it configured to match. `pid` lets `idle`
    /// read its memory.
    pub fn attach(base: &str, pid: Option<u32>) -> anyhow::Result<Self> {
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            pid,
            child: None,
            scratch: None,
            _dir: tempfile::tempdir()?,
        })
    }

    pub async fn start(opts: Options) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let scratch = match &opts.database_url {
            Some(pg) => Some(PgScratch::create(pg).await?),
            None => None,
        };
        let url = scratch.as_ref().map_or_else(
            || format!("sqlite://{}", dir.path().join("bench.db").display()),
            |s| s.url.clone(),
        );
        let mut server = Self::start_with(
            dir,
            url,
            opts.durability,
            opts.echo,
            opts.bus_url.as_deref(),
        )
        .await;
        if let Ok(s) = &mut server {
            s.scratch = scratch;
        } else if let Some(s) = scratch {
            s.remove();
        }
        server
    }

    /// Start on a database that already exists in `dir` (seeded by the caller).
    pub async fn start_on(
        dir: tempfile::TempDir,
        url: String,
        durability: &str,
        echo: bool,
    ) -> anyhow::Result<Self> {
        Self::start_with(dir, url, durability, echo, None).await
    }

    /// Another node on this server's PostgreSQL database and Redis.
    pub async fn another_node(&self, bus_url: &str) -> anyhow::Result<Self> {
        let url = self
            .scratch
            .as_ref()
            .map(|s| s.url.clone())
            .ok_or_else(|| anyhow::anyhow!("several nodes need PostgreSQL"))?;
        Self::start_with(tempfile::tempdir()?, url, "normal", false, Some(bus_url)).await
    }

    async fn start_with(
        dir: tempfile::TempDir,
        url: String,
        durability: &str,
        echo: bool,
        bus_url: Option<&str>,
    ) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut command = Command::new(binary()?);
        if let Some(bus) = bus_url {
            command.env("CHATDESK_BUS_URL", bus);
        }
        let child = command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("CHATDESK_DATABASE_URL", &url)
            .env("CHATDESK_JWT_SECRET", SECRET)
            .env("CHATDESK_SQLITE_DURABILITY", durability)
            .env("CHATDESK_REALTIME_QUEUE", "65536")
            .env("CHATDESK_MAX_BODY_BYTES", "1048576")
            .env("CHATDESK_ECHO_NAMESPACE", echo.to_string())
            // One address plays every client: the per-address abuse limits are off
            // (LIMITS_OFF, printed under the table).
            .envs(LIMITS_OFF.iter().copied())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let started = Instant::now();
        while client.get(format!("{base}/healthz")).send().await.is_err() {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "chatdesk did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Self {
            base,
            pid: child.id(),
            child: Some(child),
            scratch: None,
            _dir: dir,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Resident memory of the server process, in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The database is a throwaway: no need for a graceful stop.
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
        }
        if let Some(scratch) = self.scratch.take() {
            scratch.remove();
        }
    }
}

/// `POST /v1/sessions` with `body` as `token`'s holder: the new (or resumed) session's id.
pub async fn open_session(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: &serde_json::Value,
) -> anyhow::Result<String> {
    let opened: serde_json::Value = client
        .post(format!("{base}/v1/sessions"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await?
        .json()
        .await?;
    opened["session"]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("open failed: {opened}"))
}
