//! `rest`: 64 connections hammering three requests in turn — open a session with
//! `force_new`, fetch one session, fetch a page of 50 messages — each for a fixed time.
//! A fourth row, `GET /healthz` (a constant body, no identity, no store), is the scale:
//! what the HTTP stack and the load generator alone reach on this machine, as `echo` is for
//! `fanout`.
//!
//! Two more rows repeat the reads while messages are written alongside them at a steady
//! rate, as on a server where agents read while chats go on. On SQLite a read that finds
//! the WAL moved since its connection's last read starts from an empty page cache and a
//! fresh file mapping, which the read-only phases never show.

use crate::server::{open_session, SECRET};
use crate::stats::{row, Row, Samples, Target};
use chatdesk_core::identity::Role;
use chatdesk_server::auth::jwt::JwtKeys;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Uri};
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub async fn run(base: &str, connections: usize, duration: Duration) -> anyhow::Result<Vec<Row>> {
    let token =
        JwtKeys::new(SECRET).issue("rest-user", Role::Customer, None, Duration::from_secs(3600));
    let setup = reqwest::Client::new();
    let sid = open_session(&setup, base, &token, &json!({"force_new": true})).await?;
    for i in 0..50 {
        setup
            .post(format!("{base}/v1/sessions/{sid}/messages"))
            .bearer_auth(&token)
            .json(&json!({"content": format!("message {i}")}))
            .send()
            .await?
            .error_for_status()?;
    }
    // (row, target, request, whether messages are written alongside)
    let cases = [
        (
            "POST /v1/sessions (force_new)",
            Target::Report,
            "post",
            false,
        ),
        ("GET /v1/sessions/{id}", Target::Report, "get", false),
        ("GET 50 messages", Target::Report, "page", false),
        (
            "GET /healthz (HTTP alone, for scale)",
            Target::Report,
            "healthz",
            false,
        ),
        (
            "GET /v1/sessions/{id}, messages written alongside",
            Target::Report,
            "get",
            true,
        ),
        (
            "GET 50 messages, messages written alongside",
            Target::Report,
            "page",
            true,
        ),
    ];
    let writers = Writers::open(&setup, base, &token).await?;
    let mut rows = Vec::new();
    for (name, target, kind, alongside) in cases {
        let deadline = Instant::now() + duration;
        let writing = alongside.then(|| writers.start(base, &token, deadline));
        let (count, mut lat) = hammer(base, &token, &sid, kind, connections, deadline).await?;
        let rate = count as f64 / duration.as_secs_f64();
        let mut note = format!(
            "{connections} connections; p50 {:.2} ms, p99 {:.2} ms",
            lat.percentile_ms(50.0),
            lat.percentile_ms(99.0)
        );
        if let Some(writing) = writing {
            let written = writing.await??;
            note += &format!(
                "; {:.0} messages/s written alongside",
                written as f64 / duration.as_secs_f64()
            );
        }
        rows.push(row("rest", name, rate, "req/s", target, note));
    }
    // Each held to `/healthz` of the same run: the machine's hour cancels out.
    let healthz = rows[3].value;
    let shares = [
        (0, "POST /v1/sessions / healthz", 35.0),
        (1, "GET /v1/sessions/{id} / healthz", 75.0),
        (2, "GET 50 messages / healthz", 30.0),
    ];
    for (i, metric, at_least) in shares {
        let value = rows[i].value;
        rows.push(row(
            "rest",
            metric,
            100.0 * value / healthz,
            "%",
            Target::AtLeast(at_least),
            format!("{value:.0} / {healthz:.0} req/s, this run"),
        ));
    }
    Ok(rows)
}

/// Messages written while reads run: [`WRITERS`] clients, each posting to a session of its
/// own, paced together at [`WRITE_RATE`] — a steady stream, not a second load test.
const WRITE_RATE: u32 = 1_000;
const WRITERS: u32 = 16;

struct Writers {
    sessions: Vec<Arc<String>>,
}

impl Writers {
    async fn open(client: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<Self> {
        let mut sessions = Vec::new();
        for _ in 0..WRITERS {
            let sid = open_session(client, base, token, &json!({"force_new": true})).await?;
            sessions.push(Arc::new(sid));
        }
        Ok(Self { sessions })
    }

    /// Write until `deadline`; the task answers how many messages were written.
    fn start(
        &self,
        base: &str,
        token: &str,
        deadline: Instant,
    ) -> tokio::task::JoinHandle<anyhow::Result<u64>> {
        let every = Duration::from_secs(1) * WRITERS / WRITE_RATE;
        let tasks: Vec<_> = self
            .sessions
            .iter()
            .map(|sid| {
                let url = format!("{base}/v1/sessions/{sid}/messages");
                let token = token.to_owned();
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    let mut tick = tokio::time::interval(every);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        tick.tick().await;
                        client
                            .post(&url)
                            .bearer_auth(&token)
                            .json(&json!({"content": format!("alongside {n}")}))
                            .send()
                            .await?
                            .error_for_status()?;
                        n += 1;
                    }
                    anyhow::Ok(n)
                })
            })
            .collect();
        tokio::spawn(async move {
            let mut total = 0;
            for t in tasks {
                total += t.await??;
            }
            Ok(total)
        })
    }
}

/// What one of `hammer`'s connections sends, over and over: its parts are built once.
struct Request {
    method: Method,
    path: Uri,
    host: HeaderValue,
    authorization: HeaderValue,
    /// A JSON body, for POST.
    body: Option<Bytes>,
}

impl Request {
    fn of(kind: &str, host: &str, token: &str, sid: &str) -> anyhow::Result<Self> {
        let (method, path, body) = match kind {
            "post" => (
                Method::POST,
                "/v1/sessions".to_owned(),
                Some(Bytes::from_static(br#"{"force_new":true}"#)),
            ),
            "get" => (Method::GET, format!("/v1/sessions/{sid}"), None),
            "healthz" => (Method::GET, "/healthz".to_owned(), None),
            "page" => (
                Method::GET,
                format!("/v1/sessions/{sid}/messages?limit=50"),
                None,
            ),
            other => anyhow::bail!("no request {other}"),
        };
        Ok(Self {
            method,
            path: path.parse()?,
            host: HeaderValue::from_str(host)?,
            authorization: HeaderValue::from_str(&format!("Bearer {token}"))?,
            body,
        })
    }

    fn build(&self) -> hyper::Request<Full<Bytes>> {
        let mut r = hyper::Request::builder()
            .method(self.method.clone())
            .uri(self.path.clone())
            .header(header::HOST, self.host.clone())
            .header(header::AUTHORIZATION, self.authorization.clone());
        if self.body.is_some() {
            r = r.header(header::CONTENT_TYPE, "application/json");
        }
        r.body(Full::new(self.body.clone().unwrap_or_default()))
            .expect("a request of parts that parsed")
    }
}

/// `connections` keep-alive connections, each sending `kind` and reading the whole answer
/// until `deadline`: how many succeeded, and their latencies. Any answer but a 2xx fails
/// the run.
///
/// The connections are hyper's own HTTP/1.1 client connections, not reqwest's: reqwest's
/// pool, URL parsing and per-request header maps cost this load generator ~13–16 µs per
/// small request (~24 per page) on this machine — as much CPU as the server spent answering
/// a session GET, on the same two cores.
async fn hammer(
    base: &str,
    token: &str,
    sid: &str,
    kind: &str,
    connections: usize,
    deadline: Instant,
) -> anyhow::Result<(u64, Samples)> {
    let host = base
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("rest drives http:// servers, not {base}"))?
        .trim_end_matches('/')
        .to_owned();
    let request = Arc::new(Request::of(kind, &host, token, sid)?);
    let tasks = (0..connections).map(|_| {
        let (host, request) = (host.clone(), request.clone());
        tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(&host).await?;
            stream.set_nodelay(true)?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            let work = async {
                let mut lat = Samples::default();
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    sender.ready().await?;
                    let r = sender.send_request(request.build()).await?;
                    anyhow::ensure!(
                        r.status().is_success(),
                        "{} {}: HTTP {}",
                        request.method,
                        request.path,
                        r.status()
                    );
                    r.into_body().collect().await?;
                    lat.push(t.elapsed());
                    n += 1;
                }
                anyhow::Ok((n, lat))
            };
            // The connection is driven here, beside its requests, not by a task of its own.
            tokio::select! {
                done = work => done,
                closed = connection => Err(anyhow::anyhow!("connection closed early: {closed:?}")),
            }
        })
    });
    let mut total = 0;
    let mut all = Samples::default();
    for r in futures::future::join_all(tasks).await {
        let (n, lat) = r??;
        total += n;
        all.extend(lat);
    }
    Ok((total, all))
}
