//! An in-process server on port 0, on SQLite (a temp file) or PostgreSQL (a fresh schema),
//! stopped and cleaned up after each test, even a failing one.

use chatdesk_core::identity::Role;
use chatdesk_server::auth::jwt::JwtKeys;
use chatdesk_server::backend::Backend;
use chatdesk_server::Settings;
use futures::FutureExt;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tokio::sync::oneshot;

pub const SECRET: &str = "test-secret-not-for-production";

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// What a test gets: an address, a client, and a way to mint credentials.
#[derive(Clone)]
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    keys: std::sync::Arc<JwtKeys>,
}

/// Where a test server's data lives, removed at the end.
pub enum Place {
    /// Deleted when dropped.
    Dir {
        _dir: tempfile::TempDir,
    },
    Schema {
        url: String,
        schema: String,
    },
}

impl Place {
    pub async fn remove(self) {
        if let Place::Schema { url, schema } = self {
            chatdesk_store_postgres::PgStore::drop_schema(&url, &schema)
                .await
                .unwrap();
        }
    }
}

pub struct Running {
    pub app: TestApp,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Graceful shutdown, as on SIGTERM.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("server stops within 20 s")
            .expect("server task")
            .expect("server ran cleanly");
    }
}

pub async fn start(settings: Settings) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(chatdesk_server::launch(settings.clone(), listener, async {
        let _ = stopped.await;
    }));
    let app = TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        keys: std::sync::Arc::new(JwtKeys::new(settings.jwt_secret.as_deref().unwrap())),
        settings,
    };
    // Wait until it answers (no sleeping a guessed amount).
    for _ in 0..200 {
        if app.client.get(app.url("/healthz")).send().await.is_ok() {
            return Running { app, stop, task };
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("test server did not come up");
}

/// A fresh place for a server's data, and the database URL that points there; `None` for
/// PostgreSQL when `CHATDESK_TEST_PG_URL` is not set.
pub async fn place(kind: Kind) -> Option<(Place, String)> {
    match kind {
        Kind::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            Some((Place::Dir { _dir: dir }, url))
        }
        Kind::Postgres => {
            let url = std::env::var("CHATDESK_TEST_PG_URL").ok()?;
            let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
            chatdesk_store_postgres::PgStore::connect(&url, Some(&schema))
                .await
                .unwrap_or_else(|e| {
                    panic!("CHATDESK_TEST_PG_URL is set but PostgreSQL is not usable: {e}")
                })
                .close()
                .await;
            let sep = if url.contains('?') { '&' } else { '?' };
            let scoped = format!("{url}{sep}options=-c%20search_path%3D{schema}");
            Some((Place::Schema { url, schema }, scoped))
        }
    }
}

/// Run one test against a fresh server of `kind`, with `configure` applied to its settings.
pub async fn run_with<C, F>(kind: Kind, configure: impl FnOnce(&mut Settings), case: C)
where
    C: FnOnce(TestApp) -> F,
    F: Future<Output = ()>,
{
    let Some((place, url)) = place(kind).await else {
        eprintln!("CHATDESK_TEST_PG_URL not set: PostgreSQL case skipped");
        return;
    };
    let mut settings = Settings::for_database(url);
    settings.jwt_secret = Some(SECRET.into());
    let files = tempfile::tempdir().unwrap();
    settings.attachments.dir = Some(files.path().to_owned());
    configure(&mut settings);
    let running = start(settings).await;
    let result = AssertUnwindSafe(case(running.app.clone()))
        .catch_unwind()
        .await;
    running.stop().await;
    place.remove().await;
    drop(files);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

pub async fn run<C, F>(kind: Kind, case: C)
where
    C: FnOnce(TestApp) -> F,
    F: Future<Output = ()>,
{
    run_with(kind, |_| {}, case).await;
}

/// One `#[tokio::test]` per store for each listed test function; `@with f;` first applies
/// `f` to the settings.
macro_rules! on_both_stores {
    (@with $configure:ident; $($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    crate::harness::run_with(crate::harness::Kind::Sqlite, super::$configure, super::$case).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    crate::harness::run_with(crate::harness::Kind::Postgres, super::$configure, super::$case).await;
                }
            }
        )*
    };
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    crate::harness::run(crate::harness::Kind::Sqlite, super::$case).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    crate::harness::run(crate::harness::Kind::Postgres, super::$case).await;
                }
            }
        )*
    };
}
pub(crate) use on_both_stores;

/// A credential for requests.
#[derive(Clone, Debug)]
pub enum As {
    Nobody,
    Token(String),
    Visitor(String),
    ApiKey(String),
    /// A host site's customer, proved by seed 002's `user_hash` in headers.
    User {
        id: String,
        hash: String,
    },
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn token(&self, sub: &str, role: Role, business: Option<&str>) -> As {
        As::Token(
            self.keys
                .issue(sub, role, business, Duration::from_secs(3600)),
        )
    }

    pub fn customer(&self, sub: &str) -> As {
        self.token(sub, Role::Customer, None)
    }

    pub fn agent(&self, sub: &str, business: &str) -> As {
        self.token(sub, Role::Agent, Some(business))
    }

    pub fn visitor(&self) -> As {
        As::Visitor(uuid::Uuid::new_v4().to_string())
    }

    /// A backend connection to the server's own database, for set-up the API does not offer.
    pub async fn backend(&self) -> Backend {
        Backend::open(&self.settings).await.unwrap()
    }

    pub async fn api_key(&self, business: &str) -> As {
        let key = chatdesk_server::auth::api_keys::generate();
        let backend = self.backend().await;
        backend
            .store()
            .create_api_key(
                "test",
                &chatdesk_core::domain::BusinessId::parse(business).unwrap(),
                &chatdesk_server::auth::api_keys::hash(&key),
            )
            .await
            .unwrap();
        backend.close().await;
        As::ApiKey(key)
    }

    pub fn request(&self, method: Method, path: &str, who: &As) -> RequestBuilder {
        let rb = self.client.request(method, self.url(path));
        match who {
            As::Nobody => rb,
            As::Token(t) => rb.bearer_auth(t),
            As::Visitor(v) => rb.header("X-Visitor-Id", v),
            As::ApiKey(k) => rb.header("X-Api-Key", k),
            As::User { id, hash } => rb.header("X-User-Id", id).header("X-User-Hash", hash),
        }
    }

    /// Send and return status and JSON body (Null when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        who: &As,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self.request(method, path, who);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        split(rb.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, who: &As) -> (StatusCode, Value) {
        self.call(Method::GET, path, who, None).await
    }

    pub async fn post(&self, path: &str, who: &As, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, who, Some(body)).await
    }

    pub async fn patch(&self, path: &str, who: &As, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, who, Some(body)).await
    }

    pub async fn delete(&self, path: &str, who: &As) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, who, None).await
    }

    /// Open a session and return its id, asserting success.
    pub async fn open(&self, who: &As, body: Value) -> String {
        let (status, b) = self.post("/v1/sessions", who, body).await;
        assert!(status.is_success(), "open session: {status} {b}");
        b["session"]["id"].as_str().unwrap().to_owned()
    }

    /// A built-in account, created directly in the server's database.
    pub async fn account(&self, email: &str, role: &str) -> i64 {
        self.account_in(email, role, None).await
    }

    /// An account (password `password`) in one tenant, or in none.
    pub async fn account_in(&self, email: &str, role: &str, business: Option<&str>) -> i64 {
        let backend = self.backend().await;
        let a = chatdesk_server::auth::accounts::add(
            backend.store().as_ref(),
            email,
            "password",
            role,
            business,
            Some("Agent Smith"),
        )
        .await
        .unwrap();
        backend.close().await;
        a.id
    }

    pub async fn send(&self, who: &As, session: &str, content: &str) -> Value {
        let (status, b) = self
            .post(
                &format!("/v1/sessions/{session}/messages"),
                who,
                serde_json::json!({"content": content}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "send: {b}");
        b
    }
}

pub async fn split(r: Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Assert an error response: status and stable code.
#[track_caller]
pub fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "body: {}", got.1);
    assert_eq!(got.1["error"]["code"], code, "body: {}", got.1);
    assert!(
        got.1["error"]["message"].is_string(),
        "error message missing: {}",
        got.1
    );
}

/// A local stand-in server (SMTP, S3) that `scripts/test` installs into `target/`: started
/// on a free port, waited for until it listens, killed when dropped.
pub struct LocalServer {
    child: std::process::Child,
    pub port: u16,
}

impl LocalServer {
    /// `tool` under `target/` (or the path in the environment variable `env`), started by
    /// `command` with the port it is to listen on.
    pub fn start(
        tool: &str,
        env: &str,
        command: impl FnOnce(&std::path::Path, u16) -> std::process::Command,
    ) -> Self {
        let path = std::env::var(env).map_or_else(
            |_| {
                std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../../target")
                    .join(tool)
            },
            std::path::PathBuf::from,
        );
        assert!(
            path.exists(),
            "no {}: run scripts/test (it installs the local servers the tests use)",
            path.display()
        );
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let child = command(&path, port)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{tool} starts: {e}"));
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{tool} did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
