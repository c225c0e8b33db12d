//! The server under test: the release `chatdesk` binary beside this one, started on a free
//! port with its own database, stopped (SIGTERM) when dropped.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub const SECRET: &str = "chatdesk-bench-secret";

pub struct Server {
    pub base: String,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

pub struct Options {
    pub database_url: Option<String>,
    pub durability: &'static str,
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
    pub async fn start(opts: Options) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let url = opts
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
        Self::start_on(dir, url, opts.durability).await
    }

    /// Start on a database that already exists in `dir` (seeded by the caller).
    pub async fn start_on(
        dir: tempfile::TempDir,
        url: String,
        durability: &str,
    ) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(binary()?)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("CHATDESK_DATABASE_URL", &url)
            .env("CHATDESK_JWT_SECRET", SECRET)
            .env("CHATDESK_SQLITE_DURABILITY", durability)
            .env("CHATDESK_REALTIME_QUEUE", "65536")
            .env("CHATDESK_MAX_BODY_BYTES", "1048576")
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
            child: Some(child),
            _dir: dir,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
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
    }
}
