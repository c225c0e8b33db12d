//! Each authenticated socket's writer task: live events and catch-ups go out in order, from one place.

use super::*;

/// Commands to a socket's writer task, boxed in its queue: tokio allocates a queue's first 32
/// slots up front, for every socket, idle or not (32 pointers instead of 32 commands).
pub(super) enum Command {
    Join {
        session: SessionId,
        since_seq: i64,
        reply: oneshot::Sender<Value>,
    },
    Leave {
        session: SessionId,
    },
}

#[derive(Clone)]
pub(super) struct Writer(pub(super) mpsc::Sender<Box<Command>>);

/// What a socket's writer task owns.
pub(super) struct WriterParts {
    principal: Principal,
    feed: Feed,
    commands: mpsc::Receiver<Box<Command>>,
}

/// A writer's parts, made before the socket is connected and taken when it is.
#[derive(Clone)]
pub(super) struct Pending(pub(super) Arc<Mutex<Option<WriterParts>>>);

/// Give an identified socket its feed and command queue (nothing is sent yet).
pub(super) fn prepare(s: &SocketRef, rt: &Realtime, p: Principal) {
    let feed = Feed::for_principal(&rt.hub, &rt.messages, &p);
    let (tx, rx) = mpsc::channel(16);
    s.extensions.insert(Identity(p.clone()));
    s.extensions.insert(Writer(tx));
    s.extensions
        .insert(Pending(Arc::new(Mutex::new(Some(WriterParts {
            principal: p,
            feed,
            commands: rx,
        })))));
}

/// While it is in a socket's extensions, the socket counts towards its agent's presence.
#[derive(Clone)]
pub(super) struct Online(#[allow(dead_code, reason = "held for its Drop")] Arc<PresenceGuard>);

pub(super) async fn track_presence(s: &SocketRef, rt: &Realtime, p: &Principal) {
    if let Some(guard) = PresenceGuard::open(&rt.directory, p).await {
        s.extensions.insert(Online(Arc::new(guard)));
    }
}

/// Start the writer of a prepared, connected socket.
pub(super) fn launch_writer(s: &SocketRef, rt: &Realtime) {
    let parts = s
        .extensions
        .get::<Pending>()
        .and_then(|Pending(cell)| cell.lock().expect("pending lock").take());
    if let Some(w) = parts {
        tokio::spawn(writer(
            s.clone(),
            rt.clone(),
            w.principal,
            w.feed,
            w.commands,
        ));
    }
}

/// Each socket's task, alive as long as the socket: the futures of its rare steps (joining a
/// session, an unread count) are boxed so that the task itself stays small (1,216 → 504
/// bytes per idle socket).
pub(super) async fn writer(
    s: SocketRef,
    rt: Realtime,
    p: Principal,
    mut feed: Feed,
    mut commands: mpsc::Receiver<Box<Command>>,
) {
    loop {
        tokio::select! {
            event = feed.next() => {
                let Some(event) = event else {
                    // Dropped by the hub (too slow, or shutdown): disconnect; the client replays.
                    let _ = s.clone().disconnect();
                    return;
                };
                if let chatdesk_core::bus::Event::ReadAdvanced { session_id, session_number, reader, up_to_seq, .. } = &*event.event {
                    if *reader == p.party && Box::pin(push_unread(&s, &rt, &p, *session_id, *session_number, *up_to_seq)).await.is_err() {
                        let _ = s.clone().disconnect();
                        return;
                    }
                }
                if let Some((name, data)) = deliver::render(&event, &p.party, &rt.hub.links) {
                    if s.emit(name, &data).is_err() {
                        // The socket's own buffer is full or it is gone.
                        let _ = s.clone().disconnect();
                        return;
                    }
                }
            }
            command = commands.recv() => match command.map(|c| *c) {
                None => return,
                Some(Command::Join { session, since_seq, reply }) => {
                    let answer = match Box::pin(feed.join(&rt.messages, &p, session, since_seq)).await {
                        Ok(caught) => {
                            let (id, number) = (caught.session.id, caught.session.number);
                            let backlog = caught.messages;
                            for m in &backlog {
                                let read = m.is_read(&caught.cursors);
                                if s.emit("newMessage", &payload::message(number, m, read, &rt.hub.links)).is_err() {
                                    let _ = s.clone().disconnect();
                                    return;
                                }
                            }
                            let last = feed.last_delivered(id).unwrap_or(since_seq);
                            json!({"ok": true, "sessionId": id.to_string(), "conversationId": number, "replayed": backlog.len(), "lastSeq": last})
                        }
                        Err(e) => service_error(e),
                    };
                    let _ = reply.send(answer);
                }
                Some(Command::Leave { session }) => feed.leave(session),
            }
        }
    }
}

/// Tell the reader's connections their unread count after a read receipt.
pub(super) async fn push_unread(
    s: &SocketRef,
    rt: &Realtime,
    p: &Principal,
    session: chatdesk_core::domain::SessionId,
    number: i64,
    up_to: i64,
) -> Result<(), ()> {
    let summary = rt.messages.unread(p).await.map_err(|_| ())?;
    let here = summary
        .sessions
        .iter()
        .find(|u| u.session_id == session)
        .map_or(0, |u| u.unread);
    let data = json!({"conversationId": number, "sessionId": session.to_string(), "lastReadSeq": up_to, "unreadCount": here, "totalUnread": summary.total});
    s.emit("unreadCount", &data).map_err(|_| ())
}
