//! The real `chatdesk` binary in a process of its own: for what only a whole process shows
//! (its memory, with its own allocator; a kill -9).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Binary {
    child: Child,
    pub base: String,
    _dir: Option<tempfile::TempDir>,
}

impl Binary {
    /// A server on a new SQLite database of its own.
    pub fn start_fresh(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut b = Self::start(&dir.path().join("s.db"), env);
        b._dir = Some(dir);
        b
    }

    /// A server on the SQLite database at `db` (created if missing), on a free port.
    pub fn start(db: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_on(&format!("sqlite://{}", db.display()), env)
    }

    /// A server on the database at `url`, on a free port.
    pub fn start_on(url: &str, env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_chatdesk"));
        cmd.env_clear()
            .env("NO_COLOR", "1")
            .env("CHATDESK_JWT_SECRET", crate::harness::SECRET)
            .env("CHATDESK_DATABASE_URL", url)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("server printed its address").unwrap();
            if let Some(rest) = line.split("addr=").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        // Keep reading its log, so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            base: format!("http://{addr}"),
            _dir: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Send JSON with a bearer token; the answer's JSON.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut r = reqwest::Client::new()
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            r = r.json(&body);
        }
        r.send().await.unwrap().json().await.unwrap()
    }

    /// Resident memory, in MB.
    pub fn rss_mb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap();
        kb / 1024
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown, no drain.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
