//! A minimal Socket.IO v5 client over WebSocket (engine.io v4), enough to drive chatdesk's
//! `/chat` namespace under load: connect with a token, emit with acks, receive events, answer
//! pings. The official client is used in the test suite; this one is for speed.

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

type Acks = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// A connected socket. Events arrive on `events` as (name, data).
pub struct Socket {
    ns: String,
    out: mpsc::UnboundedSender<String>,
    acks: Acks,
    next_ack: AtomicU64,
    pub events: mpsc::UnboundedReceiver<(String, Value)>,
    /// Its writer and reader; the connection closes when both stop.
    tasks: [tokio::task::JoinHandle<()>; 2],
}

impl Drop for Socket {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Where and how to connect.
#[derive(Clone)]
pub struct Dial<'a> {
    /// `http://host:port`
    pub base: &'a str,
    /// Namespace, such as `/chat`.
    pub ns: &'a str,
    /// The handshake's `auth` object.
    pub auth: Value,
    /// Local address to connect from (several 127.0.0.x spread many connections over more
    /// ephemeral ports); `None` lets the kernel choose.
    pub source: Option<std::net::IpAddr>,
}

impl Socket {
    /// Connect to `/chat` at `base` (`http://host:port`) with `auth: {token}`.
    pub async fn connect(base: &str, token: &str) -> anyhow::Result<Self> {
        Self::dial(Dial {
            base,
            ns: "/chat",
            auth: serde_json::json!({ "token": token }),
            source: None,
        })
        .await
    }

    pub async fn dial(d: Dial<'_>) -> anyhow::Result<Self> {
        let host = d.base.trim_start_matches("http://");
        let url = format!("ws://{host}/socket.io/?EIO=4&transport=websocket");
        let addr: std::net::SocketAddr = host.parse()?;
        let tcp = match d.source {
            Some(ip) => {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.bind(std::net::SocketAddr::new(ip, 0))?;
                socket.connect(addr).await?
            }
            None => tokio::net::TcpStream::connect(addr).await?,
        };
        tcp.set_nodelay(true)?;
        // Small frames only: a small read buffer keeps 100,000 idle clients affordable.
        let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
        let (ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config)).await?;
        let (mut sink, mut stream) = ws.split();
        let ns = d.ns;
        // Engine.io open packet first.
        match stream.next().await {
            Some(Ok(Message::Text(t))) if t.starts_with('0') => {}
            other => anyhow::bail!("no engine.io open packet: {other:?}"),
        }
        sink.send(Message::Text(format!("40{ns},{}", d.auth).into()))
            .await?;
        let connected = format!("40{ns}");
        loop {
            match stream.next().await {
                Some(Ok(Message::Text(t))) if t.starts_with(&connected) => break,
                // A ping may come first: answer it and keep waiting.
                Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                    sink.send(Message::Text("3".into())).await?
                }
                other => anyhow::bail!("namespace connect refused: {other:?}"),
            }
        }
        let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
        let (ev_tx, events) = mpsc::unbounded_channel();
        let acks: Acks = Arc::default();
        let writer = tokio::spawn(async move {
            while let Some(text) = out_rx.recv().await {
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
        });
        let (acks2, out2) = (acks.clone(), out.clone());
        let (event_prefix, ack_prefix) = (format!("42{ns},"), format!("43{ns},"));
        let reader = tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(text) = msg else { continue };
                let text = text.as_str();
                if text == "2" {
                    let _ = out2.send("3".into());
                } else if let Some(rest) = text.strip_prefix(&event_prefix) {
                    if let Ok(Value::Array(mut parts)) = serde_json::from_str::<Value>(rest) {
                        if parts.len() >= 2 {
                            let data = parts.remove(1);
                            let name = parts.remove(0).as_str().unwrap_or_default().to_owned();
                            let _ = ev_tx.send((name, data));
                        }
                    }
                } else if let Some(rest) = text.strip_prefix(&ack_prefix) {
                    let digits = rest.find('[').unwrap_or(0);
                    if let (Ok(id), Ok(Value::Array(mut parts))) = (
                        rest[..digits].parse::<u64>(),
                        serde_json::from_str::<Value>(&rest[digits..]),
                    ) {
                        if let Some(tx) = acks2.lock().expect("acks").remove(&id) {
                            let _ = tx.send(if parts.is_empty() {
                                Value::Null
                            } else {
                                parts.remove(0)
                            });
                        }
                    }
                }
            }
            // The connection is gone: every pending `ask` fails instead of waiting forever.
            acks2.lock().expect("acks").clear();
        });
        Ok(Self {
            ns: ns.to_owned(),
            out,
            acks,
            next_ack: AtomicU64::new(1),
            events,
            tasks: [writer, reader],
        })
    }

    /// Emit an event and wait for its acknowledgement.
    pub async fn ask(&self, event: &str, data: &Value) -> anyhow::Result<Value> {
        let id = self.next_ack.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.acks.lock().expect("acks").insert(id, tx);
        self.out.send(format!(
            "42{},{id}{}",
            self.ns,
            serde_json::json!([event, data])
        ))?;
        match tokio::time::timeout(std::time::Duration::from_secs(60), rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => anyhow::bail!("{event}: the connection closed before the answer"),
            Err(_) => anyhow::bail!("{event}: no answer within 60 s"),
        }
    }
}
