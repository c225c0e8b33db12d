//! Messages: send, page, read cursors and unread counts.

use super::kernel::Kernel;
use super::*;
use crate::domain::{AttachmentRef, Revision};

/// Most messages a transcript holds (the newest).
pub const MAX_TRANSCRIPT_MESSAGES: i64 = 10_000;

/// Messages: send, page, read cursors and unread counts; and conversation-style sending
/// (`conversation.rs`), which may open a session for a first message.
#[derive(Clone)]
pub struct Messages {
    pub(super) k: Arc<Kernel>,
    pub(super) sessions: Sessions,
}

impl Messages {
    pub(super) fn new(k: Arc<Kernel>, sessions: Sessions) -> Self {
        Self { k, sessions }
    }

    /// A session whose messages the caller may read.
    pub async fn readable(&self, p: &Principal, id: SessionId) -> ServiceResult<Session> {
        self.k.visible(p, id).await
    }

    /// Messages strictly between two `seq`s of a session the caller has already been shown
    /// (oldest first).
    pub async fn between(
        &self,
        session: SessionId,
        after: i64,
        before: i64,
    ) -> ServiceResult<Vec<Message>> {
        let limit = u32::try_from(before - after - 1).unwrap_or(0);
        let range = MessageRange::Before {
            before,
            after,
            limit,
        };
        Ok(self.k.store.list_messages(session, range).await?)
    }

    /// The newest message of a session the caller has already been shown.
    pub async fn last_message(&self, session: &Session) -> ServiceResult<Option<Message>> {
        let range = MessageRange::Before {
            before: session.last_seq + 1,
            after: 0,
            limit: 1,
        };
        Ok(self.k.store.list_messages(session.id, range).await?.pop())
    }

    /// Messages after `after` (oldest first, at most `limit`) in a session the caller has
    /// already been shown.
    pub async fn messages_after(
        &self,
        session: &Session,
        after: i64,
        limit: u32,
    ) -> ServiceResult<Vec<Message>> {
        let range = MessageRange::After { after, limit };
        Ok(self.k.store.list_messages(session.id, range).await?)
    }

    /// Every reader's cursor in a session the caller has already been shown.
    pub async fn read_cursors(&self, session: &Session) -> ServiceResult<Vec<(Party, i64)>> {
        Ok(self.k.store.read_cursors(session.id).await?)
    }

    /// The caller's unread count in each of these sessions (already shown to it).
    pub async fn unread_in(
        &self,
        p: &Principal,
        sessions: &[Session],
    ) -> ServiceResult<Vec<UnreadCount>> {
        let ids: Vec<SessionId> = sessions.iter().map(|s| s.id).collect();
        Ok(self.k.store.unread_in(&p.party, &ids).await?)
    }

    /// Append a message, durably. Returns the message and whether it was created now
    /// (false: a retry of an earlier send with the same `client_msg_id`).
    pub async fn send_message(
        &self,
        p: &Principal,
        id: SessionId,
        req: SendMessage,
    ) -> ServiceResult<(Message, bool)> {
        let content = self.outgoing_content(&req.content, &req.attachment_ids)?;
        let client_msg_id = parse_opt(req.client_msg_id.as_deref(), ClientMsgId::parse)?;
        let session = self.k.send_target(p, id).await?;
        let files = super::attachments::attached(&self.k, p, &session, &req.attachment_ids).await?;
        self.append(p, &session, content, client_msg_id, files)
            .await
    }

    /// A message's text: any text, or none at all when it carries files.
    pub(super) fn outgoing_content(&self, raw: &str, files: &[String]) -> ServiceResult<Content> {
        match raw.trim().is_empty() && !files.is_empty() {
            true => Ok(Content::files_only()),
            false => Ok(Content::parse(raw, self.k.limits.max_content_chars)?),
        }
    }

    /// Append to a session the caller has already been shown.
    pub async fn append(
        &self,
        p: &Principal,
        session: &Session,
        content: Content,
        client_msg_id: Option<ClientMsgId>,
        attachments: Vec<AttachmentRef>,
    ) -> ServiceResult<(Message, bool)> {
        let sender_type = match p.role {
            Role::Customer => SenderType::Customer,
            Role::Agent | Role::Admin => SenderType::Agent,
            Role::Service => SenderType::Assistant,
        };
        // A person on staff who answers a waiting session takes it.
        let claim_for_agent = match p.role {
            Role::Agent | Role::Admin if session.owner != p.party => p.party.user_id().cloned(),
            _ => None,
        };
        // Kept only to tell a true retry from a key reused for another text.
        let keyed_content = client_msg_id.as_ref().map(|_| content.as_str().to_owned());
        let message = NewMessage {
            id: MessageId::generate(),
            session_id: session.id,
            sender: p.party.clone(),
            sender_type,
            content: content.into_string(),
            client_msg_id,
            claim_for_agent,
            at: clock::now(),
            attachments,
        };
        let audience = Audience {
            business_id: session.business_id.clone(),
            owner: session.owner.clone(),
            session_number: session.number,
        };
        match self.k.committer.append(message, audience).await? {
            AppendOutcome::Created(m) => Ok((m, true)),
            AppendOutcome::Duplicate(m) if keyed_content.as_deref() == Some(m.content.as_str()) => {
                Ok((m, false))
            }
            AppendOutcome::Duplicate(_) => Err(ServiceError::conflict(
                "client_msg_id_reused",
                "this client_msg_id was already used for a message with other content",
            )),
            AppendOutcome::SessionMissing => Err(ServiceError::NotFound("session")),
            AppendOutcome::SessionClosed => Err(ServiceError::conflict(
                "session_closed",
                "the session is closed; no more messages can be added",
            )),
        }
    }

    pub async fn list_messages(
        &self,
        p: &Principal,
        id: SessionId,
        q: MessageQuery,
    ) -> ServiceResult<Vec<Message>> {
        self.k.page_size(q.limit)?;
        self.list_messages_unchecked_limit(p, id, q).await
    }

    /// `list_messages` with `q.limit` already checked (or one past the maximum, for a probe).
    async fn list_messages_unchecked_limit(
        &self,
        p: &Principal,
        id: SessionId,
        q: MessageQuery,
    ) -> ServiceResult<Vec<Message>> {
        let limit = q.limit.unwrap_or(self.k.limits.default_page);
        let after = non_negative("after_seq", q.after_seq)?.unwrap_or(0);
        let range = match non_negative("before_seq", q.before_seq)? {
            Some(before) => MessageRange::Before {
                before,
                after,
                limit,
            },
            None => MessageRange::After { after, limit },
        };
        // The session that proves the caller may see it, and the page, in one store read.
        match self.k.store.get_session_with_messages(id, range).await? {
            Some((session, messages)) if authz::can_see(p, &session) => Ok(messages),
            _ => Err(ServiceError::NotFound("session")),
        }
    }

    /// A page of messages and whether more lie beyond it in the same direction (after the
    /// last one when paging forward with `after_seq`; before the first one with
    /// `before_seq`).
    pub async fn message_page(
        &self,
        p: &Principal,
        id: SessionId,
        q: MessageQuery,
    ) -> ServiceResult<MessagePage> {
        let limit = self.k.page_size(q.limit)?;
        let backwards = q.before_seq.is_some();
        // One more than asked: its presence says there is more.
        let probe = MessageQuery {
            limit: Some(limit + 1),
            ..q
        };
        let mut messages = self.list_messages_unchecked_limit(p, id, probe).await?;
        let has_more = messages.len() > limit as usize;
        if has_more {
            if backwards {
                messages.remove(0);
            } else {
                messages.pop();
            }
        }
        Ok(MessagePage { messages, has_more })
    }

    /// Its sender edits or deletes message `seq`, within the edit window, while the session
    /// is open; everyone who may see the session hears of it.
    pub async fn revise(
        &self,
        p: &Principal,
        id: SessionId,
        seq: i64,
        revision: Revision,
    ) -> ServiceResult<Message> {
        let session = self.k.visible(p, id).await?;
        let found = self
            .messages_after(&session, seq.max(1) - 1, 1)
            .await?
            .into_iter()
            .find(|m| m.seq == seq && m.deleted_at.is_none())
            .ok_or(ServiceError::NotFound("message"))?;
        if found.sender != p.party || found.sender_type == SenderType::System {
            return Err(ServiceError::Forbidden(
                "only a message's sender edits or deletes it",
            ));
        }
        if session.status == SessionStatus::Closed {
            return Err(ServiceError::conflict(
                "session_closed",
                "the session is closed; its messages stay as they are",
            ));
        }
        let now = clock::now();
        if (now - found.created_at).num_seconds() > self.k.limits.edit_window_secs {
            return Err(ServiceError::conflict(
                "edit_window_passed",
                format!(
                    "a message is edited or deleted within {} seconds of sending",
                    self.k.limits.edit_window_secs
                ),
            ));
        }
        let message = self
            .k
            .store
            .revise_message(session.id, seq, &revision, now)
            .await?
            .ok_or(ServiceError::NotFound("message"))?;
        self.k.bus.publish(Event::MessageRevised {
            business_id: session.business_id,
            owner: session.owner,
            session_number: session.number,
            message: message.clone(),
        });
        Ok(message)
    }

    /// The whole conversation for a transcript: the session and its messages, oldest first,
    /// at most [`MAX_TRANSCRIPT_MESSAGES`] (the newest, when there are more).
    pub async fn transcript(
        &self,
        p: &Principal,
        id: SessionId,
    ) -> ServiceResult<(Session, Vec<Message>)> {
        let session = self.k.visible(p, id).await?;
        let first = (session.last_seq - MAX_TRANSCRIPT_MESSAGES).max(0);
        let mut messages = Vec::new();
        let mut after = first;
        loop {
            let page = self
                .messages_after(&session, after, self.k.limits.max_page)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            messages.extend(page);
            if messages.len() >= MAX_TRANSCRIPT_MESSAGES as usize {
                break;
            }
        }
        Ok((session, messages))
    }

    /// Move the caller's read cursor to `up_to_seq` (it never moves back).
    pub async fn mark_read(
        &self,
        p: &Principal,
        id: SessionId,
        up_to_seq: i64,
    ) -> ServiceResult<ReadReceipt> {
        let session = self.k.visible(p, id).await?;
        if up_to_seq < 0 || up_to_seq > session.last_seq {
            return Err(Invalid::new(
                "up_to_seq",
                "seq_out_of_range",
                format!("up_to_seq must be between 0 and {}", session.last_seq),
            )
            .into());
        }
        let last_read_seq = self
            .k
            .store
            .mark_read(id, &p.party, up_to_seq, clock::now())
            .await?;
        self.k.bus.publish(Event::ReadAdvanced {
            business_id: session.business_id.clone(),
            owner: session.owner.clone(),
            session_id: id,
            session_number: session.number,
            reader: p.party.clone(),
            up_to_seq: last_read_seq,
        });
        let unread = self
            .k
            .store
            .unread_counts(&p.party, p.business_id.as_ref())
            .await?
            .into_iter()
            .find(|u| u.session_id == id)
            .map_or(0, |u| u.unread);
        Ok(ReadReceipt {
            session_id: id,
            last_read_seq,
            unread,
        })
    }

    pub async fn unread(&self, p: &Principal) -> ServiceResult<UnreadSummary> {
        // A tenant-scoped identity counts only its tenant's sessions.
        let sessions = self
            .k
            .store
            .unread_counts(&p.party, p.business_id.as_ref())
            .await?;
        let total = sessions.iter().map(|u| u.unread).sum();
        Ok(UnreadSummary { sessions, total })
    }
}

fn non_negative(field: &'static str, v: Option<i64>) -> Result<Option<i64>, Invalid> {
    match v {
        Some(n) if n < 0 => Err(Invalid::new(
            field,
            "invalid_seq",
            format!("{field} must not be negative"),
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn keyed(text: &str, key: &str) -> SendMessage {
        SendMessage {
            content: text.into(),
            client_msg_id: Some(key.into()),
            ..SendMessage::default()
        }
    }

    #[tokio::test]
    async fn a_retried_send_is_stored_once() {
        let desk = desk();
        let ann = customer("ann");
        let s = desk.open(&ann).await;
        let (first, created) = desk
            .messages
            .send_message(&ann, s.id, keyed("hi", "k1"))
            .await
            .unwrap();
        assert!(created);
        let (again, created) = desk
            .messages
            .send_message(&ann, s.id, keyed("hi", "k1"))
            .await
            .unwrap();
        assert!(!created, "a retry is not a new message");
        assert_eq!(again.id, first.id);
        let reused = desk
            .messages
            .send_message(&ann, s.id, keyed("other", "k1"))
            .await;
        assert!(matches!(
            reused,
            Err(ServiceError::Conflict {
                code: "client_msg_id_reused",
                ..
            })
        ));
        let now = desk.sessions.get_session(&ann, s.id).await.unwrap();
        assert_eq!((now.last_seq, now.message_count), (1, 1));
    }

    #[tokio::test]
    async fn concurrent_sends_take_consecutive_seqs() {
        let desk = Arc::new(desk());
        let ann = customer("ann");
        let s = desk.open(&ann).await;
        let sends: Vec<_> = (0..20)
            .map(|i| {
                let (desk, ann, s) = (desk.clone(), ann.clone(), s.clone());
                tokio::spawn(async move { desk.send(&ann, &s, &format!("m{i}")).await })
            })
            .collect();
        let mut seqs = Vec::new();
        for send in sends {
            seqs.push(send.await.unwrap().unwrap().seq);
        }
        seqs.sort();
        assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_staff_reply_takes_a_waiting_session() {
        let desk = desk();
        let (ann, ada) = (customer("ann"), agent("ada"));
        let s = desk.open(&ann).await;
        assert_eq!(s.status, SessionStatus::Waiting);
        desk.send(&ada, &s, "how can I help?").await.unwrap();
        let now = desk.sessions.get_session(&ann, s.id).await.unwrap();
        assert_eq!(now.status, SessionStatus::Active);
        assert_eq!(now.agent_id, Some(UserId::parse("ada").unwrap()));
    }

    #[tokio::test]
    async fn unread_counts_others_messages_until_read() {
        let desk = desk();
        let (ann, ada) = (customer("ann"), agent("ada"));
        let s = desk.open(&ann).await;
        desk.send(&ann, &s, "hello").await.unwrap();
        for text in ["hi", "one moment"] {
            desk.send(&ada, &s, text).await.unwrap();
        }
        assert_eq!(
            desk.messages.unread(&ann).await.unwrap().total,
            2,
            "her own is not unread"
        );
        let receipt = desk.messages.mark_read(&ann, s.id, 2).await.unwrap();
        assert_eq!((receipt.last_read_seq, receipt.unread), (2, 1));
        // A cursor never moves back.
        let receipt = desk.messages.mark_read(&ann, s.id, 1).await.unwrap();
        assert_eq!(receipt.last_read_seq, 2);
        let past_the_end = desk.messages.mark_read(&ann, s.id, 9).await;
        assert!(matches!(past_the_end, Err(ServiceError::Invalid(_))));
    }

    #[tokio::test]
    async fn content_over_the_limit_is_refused_before_anything_is_written() {
        let desk = desk();
        let ann = customer("ann");
        let s = desk.open(&ann).await;
        let long = "x".repeat(Limits::default().max_content_chars + 1);
        assert!(matches!(
            desk.send(&ann, &s, &long).await,
            Err(ServiceError::Invalid(_))
        ));
        assert_eq!(
            desk.sessions
                .get_session(&ann, s.id)
                .await
                .unwrap()
                .last_seq,
            0
        );
    }
}
