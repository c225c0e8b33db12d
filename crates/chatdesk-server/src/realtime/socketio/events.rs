//! The events that name a conversation: `sendMessage`, `markAsRead`, `joinSession`, `leaveSession`.

use super::*;

pub(super) async fn send_message(
    s: SocketRef,
    State(rt): State<Realtime>,
    TryData(data): TryData<inbound::SendMessage>,
    ack: AckSender,
) {
    if !admit(&s) {
        return;
    }
    let Some(p) = identity(&s) else {
        let _ = ack.send(&unauthenticated());
        return;
    };
    let mut data = match data {
        Ok(data) => data,
        Err(e) => {
            let _ = ack.send(&invalid_body(e));
            return;
        }
    };
    let to = data
        .conversation()
        .and_then(|named| Conversation::of_send(&p, named, data.user_id.as_ref()));
    let to = match to {
        Ok(to) => to,
        Err(e) => {
            let _ = ack.send(&error_value(ApiError::bad_request(e.code, e.message)));
            return;
        }
    };
    let req = PostMessage {
        to,
        content: data.content.unwrap_or_default(),
        client_msg_id: data.client_msg_id,
        session_type: Some("support".into()),
        attachment_ids: data.attachment_ids,
    };
    let _ =
        match rt.messages.post_message(&p, req).await {
            // The same text the hub's connections send as `newMessage` (`Renderings`).
            Ok((session, message, _)) => {
                let json = rt.hub.renderings.slot(message.id);
                ack.send(&**json.get_or_init(|| {
                    payload::render_message(session.number, &message, &rt.hub.links)
                }))
            }
            Err(e) => ack.send(&service_error(e)),
        };
}

pub(super) async fn mark_as_read(
    s: SocketRef,
    State(rt): State<Realtime>,
    TryData(data): TryData<inbound::MarkAsRead>,
    ack: AckSender,
) {
    if !admit(&s) {
        return;
    }
    let Some(p) = identity(&s) else {
        let _ = ack.send(&unauthenticated());
        return;
    };
    let answer = match data {
        Ok(data) => read(&rt, &p, data).await.unwrap_or_else(service_error),
        Err(e) => invalid_body(e),
    };
    let _ = ack.send(&answer);
}

pub(super) async fn read(
    rt: &Realtime,
    p: &Principal,
    mut data: inbound::MarkAsRead,
) -> Result<Value, ServiceError> {
    let to = data.conversation()?.ok_or_else(|| {
        ServiceError::from(chatdesk_core::domain::Invalid::new(
            "conversationId",
            "missing_field",
            "markAsRead needs conversationId or sessionId",
        ))
    })?;
    let session = rt.messages.conversation(p, to, None).await?;
    let up_to = data.up_to_seq.unwrap_or(session.last_seq);
    let r = rt.messages.mark_read(p, session.id, up_to).await?;
    Ok(
        json!({"ok": true, "conversationId": session.number, "sessionId": session.id.to_string(), "lastReadSeq": r.last_read_seq, "unreadCount": r.unread}),
    )
}

pub(super) async fn join_session(
    s: SocketRef,
    TryData(data): TryData<inbound::JoinSession>,
    ack: AckSender,
) {
    let Some(Writer(tx)) = s.extensions.get::<Writer>() else {
        let _ = ack.send(&unauthenticated());
        return;
    };
    let data = match data {
        Ok(data) => data,
        Err(e) => {
            let _ = ack.send(&invalid_body(e));
            return;
        }
    };
    let Some(session) = data.session_id else {
        let _ = ack.send(&error_value(ApiError::bad_request(
            "missing_field",
            "joinSession needs sessionId",
        )));
        return;
    };
    let session = match SessionId::parse(&session) {
        Ok(id) => id,
        Err(e) => {
            let _ = ack.send(&error_value(e.into()));
            return;
        }
    };
    let (reply, answer) = oneshot::channel();
    let join = Command::Join {
        session,
        since_seq: data.since_seq.unwrap_or(0),
        reply,
    };
    if tx.send(Box::new(join)).await.is_err() {
        return;
    }
    if let Ok(v) = answer.await {
        let _ = ack.send(&v);
    }
}

pub(super) async fn leave_session(s: SocketRef, TryData(data): TryData<inbound::LeaveSession>) {
    if !admit(&s) {
        return;
    }
    let session = data
        .ok()
        .and_then(|d| d.session_id)
        .and_then(|raw| SessionId::parse(&raw).ok());
    if let (Some(Writer(tx)), Some(session)) = (s.extensions.get::<Writer>(), session) {
        let _ = tx.send(Box::new(Command::Leave { session })).await;
    }
}
