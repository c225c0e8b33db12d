//! `/echo`: a bare Socket.IO relay in the same binary, served only with `echo_namespace`.
//!
//! It is the ceiling `chatdesk-bench echo` measures `/chat` against: the same clients, the
//! same events (`sendMessage` acknowledged with a `seq`, `newMessage` to the other side), but
//! no identity, no storage, no hub. Whatever `/chat` costs beyond this is chatdesk's own.
//!
//! A client joins the room named by its handshake `auth: {room}`; each `sendMessage` is
//! acknowledged with `{seq}` (counted per sending socket) and relayed to the room's other
//! members as `newMessage {sessionId: room, seq, content}`.

use serde_json::{json, Value};
use socketioxide::extract::{AckSender, Data, SocketRef, TryData};
use socketioxide::SocketIo;
use std::sync::Arc;
use tokio::sync::Mutex;

#[derive(Clone)]
struct Room(Arc<str>);

/// Messages this socket has sent. Held while a message is relayed: socketioxide handles each
/// event in its own task, and without the lock two sends could reach the room out of order.
#[derive(Clone, Default)]
struct Sent(Arc<Mutex<i64>>);

pub fn register(io: &SocketIo) {
    io.ns(
        "/echo",
        async |s: SocketRef, TryData(auth): TryData<Value>| {
            let room: Arc<str> = auth
                .ok()
                .and_then(|a| a.get("room").and_then(Value::as_str).map(Arc::from))
                .unwrap_or_else(|| Arc::from(s.id.to_string()));
            s.join(room.to_string());
            s.extensions.insert(Room(room));
            s.extensions.insert(Sent::default());
            s.on("sendMessage", relay);
        },
    );
}

async fn relay(s: SocketRef, Data(data): Data<Value>, ack: AckSender) {
    let (Some(Room(room)), Some(Sent(sent))) = (s.extensions.get::<Room>(), s.extensions.get())
    else {
        return;
    };
    let content = data.get("content").cloned().unwrap_or(Value::Null);
    let mut sent = sent.lock().await;
    *sent += 1;
    let seq = *sent;
    let message = json!({ "sessionId": &*room, "seq": seq, "content": content });
    let _ = s.to(room.to_string()).emit("newMessage", &message).await;
    drop(sent);
    let _ = ack.send(&json!({ "seq": seq }));
}
