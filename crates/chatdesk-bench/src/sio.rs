//! A minimal Socket.IO v5 client over WebSocket (engine.io v4), enough to drive chatdesk's
//! `/chat` namespace under load: connect with a token, emit with acks, receive events, answer
//! pings. The official client is used in the test suite; this one is for speed.

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

type Acks = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// A connected socket. Events arrive on `events` as (name, data).
pub struct Socket {
    out: mpsc::UnboundedSender<String>,
    acks: Acks,
    next_ack: AtomicU64,
    pub events: mpsc::UnboundedReceiver<(String, Value)>,
}

impl Socket {
    /// Connect to `/chat` at `base` (`http://host:port`) with `auth: {token}`.
    pub async fn connect(base: &str, token: &str) -> anyhow::Result<Self> {
        let url = format!(
            "{}/socket.io/?EIO=4&transport=websocket",
            base.replacen("http", "ws", 1)
        );
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        let (mut sink, mut stream) = ws.split();
        // Engine.io open packet first.
        match stream.next().await {
            Some(Ok(Message::Text(t))) if t.starts_with('0') => {}
            other => anyhow::bail!("no engine.io open packet: {other:?}"),
        }
        sink.send(Message::Text(
            format!("40/chat,{}", serde_json::json!({ "token": token })).into(),
        ))
        .await?;
        loop {
            match stream.next().await {
                Some(Ok(Message::Text(t))) if t.starts_with("40/chat") => break,
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
        tokio::spawn(async move {
            while let Some(text) = out_rx.recv().await {
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
        });
        let (acks2, out2) = (acks.clone(), out.clone());
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(text) = msg else { continue };
                let text = text.as_str();
                if text == "2" {
                    let _ = out2.send("3".into());
                } else if let Some(rest) = text.strip_prefix("42/chat,") {
                    if let Ok(Value::Array(mut parts)) = serde_json::from_str::<Value>(rest) {
                        if parts.len() >= 2 {
                            let data = parts.remove(1);
                            let name = parts.remove(0).as_str().unwrap_or_default().to_owned();
                            let _ = ev_tx.send((name, data));
                        }
                    }
                } else if let Some(rest) = text.strip_prefix("43/chat,") {
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
        });
        Ok(Self {
            out,
            acks,
            next_ack: AtomicU64::new(1),
            events,
        })
    }

    /// Emit an event and wait for its acknowledgement.
    pub async fn ask(&self, event: &str, data: &Value) -> anyhow::Result<Value> {
        let id = self.next_ack.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.acks.lock().expect("acks").insert(id, tx);
        self.out
            .send(format!("42/chat,{id}{}", serde_json::json!([event, data])))?;
        Ok(rx.await?)
    }
}
