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
use socketioxide::handler::ConnectHandler;
use socketioxide::SocketIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::Mutex;

#[derive(Clone)]
struct Room(Arc<str>);

/// Messages this socket has sent. Held while a message is relayed: socketioxide handles each
/// event in its own task, and without the lock two sends could reach the room out of order.
#[derive(Clone, Default)]
struct Sent(Arc<Mutex<i64>>);

pub fn register(io: &SocketIo) {
    io.ns("/echo", (async || {}).with(join));
}

/// Runs before the server answers the connect, as `/chat`'s handshake does: socketioxide
/// runs the connect handler itself only later, in its own task, so a socket that joined its
/// room there could be told it is connected and miss what the room heard in between.
async fn join(s: SocketRef, TryData(auth): TryData<Value>) -> Result<(), Infallible> {
    let room: Arc<str> = auth
        .ok()
        .and_then(|a| a.get("room").and_then(Value::as_str).map(Arc::from))
        .unwrap_or_else(|| Arc::from(s.id.to_string()));
    s.join(room.to_string());
    s.extensions.insert(Room(room));
    s.extensions.insert(Sent::default());
    s.on("sendMessage", relay);
    Ok(())
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
