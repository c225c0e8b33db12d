//! Everything the decorator does not remember goes straight to the store it wraps. A method
//! the port gains must be forwarded here too, even one with a default body, or the wrapped
//! store's own version of it would be skipped.

use super::*;
use crate::domain::{Attachment, AttachmentId};

#[async_trait]
impl SessionStore for Remembered {
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }

    async fn open_session(&self, new: NewSession, resume: bool) -> StoreResult<(Session, bool)> {
        self.inner.open_session(new, resume).await
    }

    async fn open_session_with_place(
        &self,
        new: NewSession,
        resume: bool,
    ) -> StoreResult<(Session, bool, Option<i64>)> {
        self.inner.open_session_with_place(new, resume).await
    }

    async fn get_session(&self, id: SessionId) -> StoreResult<Option<Session>> {
        self.inner.get_session(id).await
    }

    async fn assistant_of(&self, id: SessionId) -> StoreResult<Option<UserId>> {
        self.inner.assistant_of(id).await
    }

    async fn send_target(&self, id: SessionId) -> StoreResult<Option<Session>> {
        Remembered::send_target(self, id).await
    }

    async fn get_session_by_number(&self, number: i64) -> StoreResult<Option<Session>> {
        self.inner.get_session_by_number(number).await
    }

    async fn list_sessions(
        &self,
        filter: &SessionFilter,
        cursor: Option<SessionCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        self.inner.list_sessions(filter, cursor, limit).await
    }

    async fn count_sessions(&self, filter: &SessionFilter) -> StoreResult<i64> {
        self.inner.count_sessions(filter).await
    }

    async fn list_sessions_offset(
        &self,
        filter: &SessionFilter,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        self.inner.list_sessions_offset(filter, offset, limit).await
    }

    async fn close_idle_sessions(
        &self,
        filter: &SessionFilter,
        idle_before: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<Session>> {
        self.inner
            .close_idle_sessions(filter, idle_before, at)
            .await
    }

    async fn record_activity(
        &self,
        id: SessionId,
        kind: ActivityKind,
        response_time_ms: Option<i64>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        self.inner
            .record_activity(id, kind, response_time_ms, at)
            .await
    }

    async fn update_session(
        &self,
        id: SessionId,
        patch: &SessionPatch,
        at: DateTime<Utc>,
    ) -> StoreResult<PatchOutcome> {
        self.inner.update_session(id, patch, at).await
    }

    async fn delete_session(&self, id: SessionId, at: DateTime<Utc>) -> StoreResult<bool> {
        let deleted = self.inner.delete_session(id, at).await;
        lock(&self.targets).forget(id);
        deleted
    }

    async fn link_visitor(
        &self,
        visitor: VisitorId,
        user: &UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<LinkOutcome> {
        let outcome = self.inner.link_visitor(visitor, user, at).await;
        // Owners changed: no remembered send target can be trusted.
        lock(&self.targets).clear();
        outcome
    }

    async fn visitor_link(&self, visitor: VisitorId) -> StoreResult<Option<UserId>> {
        self.inner.visitor_link(visitor).await
    }

    async fn search_sessions(
        &self,
        filter: &SessionFilter,
        query: &crate::domain::SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<Session>> {
        self.inner.search_sessions(filter, query, limit).await
    }
}

#[async_trait]
impl MessageStore for Remembered {
    async fn append_messages(&self, batch: &[NewMessage]) -> StoreResult<Vec<AppendOutcome>> {
        self.inner.append_messages(batch).await
    }

    async fn list_messages(
        &self,
        session: SessionId,
        range: MessageRange,
    ) -> StoreResult<Vec<Message>> {
        self.inner.list_messages(session, range).await
    }

    async fn revise_message(
        &self,
        session: SessionId,
        seq: i64,
        revision: &crate::domain::Revision,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Message>> {
        self.inner.revise_message(session, seq, revision, at).await
    }

    async fn get_session_with_messages(
        &self,
        id: SessionId,
        range: MessageRange,
    ) -> StoreResult<Option<(Session, Vec<Message>)>> {
        self.inner.get_session_with_messages(id, range).await
    }

    async fn mark_read(
        &self,
        session: SessionId,
        reader: &Party,
        up_to_seq: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<i64> {
        self.inner.mark_read(session, reader, up_to_seq, at).await
    }

    async fn unread_counts(
        &self,
        reader: &Party,
        tenant: Option<&BusinessId>,
    ) -> StoreResult<Vec<UnreadCount>> {
        self.inner.unread_counts(reader, tenant).await
    }

    async fn read_cursors(&self, session: SessionId) -> StoreResult<Vec<(Party, i64)>> {
        self.inner.read_cursors(session).await
    }

    async fn search_messages(
        &self,
        filter: &SessionFilter,
        query: &crate::domain::SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        self.inner.search_messages(filter, query, limit).await
    }

    async fn message_beats(
        &self,
        sessions: &[SessionId],
    ) -> StoreResult<Vec<(SessionId, crate::analytics::Beat)>> {
        self.inner.message_beats(sessions).await
    }

    async fn unread_in(
        &self,
        reader: &Party,
        sessions: &[SessionId],
    ) -> StoreResult<Vec<UnreadCount>> {
        self.inner.unread_in(reader, sessions).await
    }
}

#[async_trait]
impl NoteStore for Remembered {
    async fn add_note(
        &self,
        session: SessionId,
        author: &UserId,
        content: &crate::domain::Content,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<crate::domain::Note>> {
        self.inner.add_note(session, author, content, at).await
    }

    async fn list_notes(
        &self,
        session: SessionId,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::Note>> {
        self.inner.list_notes(session, limit).await
    }

    async fn get_note(
        &self,
        session: SessionId,
        number: i64,
    ) -> StoreResult<Option<crate::domain::Note>> {
        self.inner.get_note(session, number).await
    }
}

#[async_trait]
impl RatingStore for Remembered {
    async fn rate_session(&self, rating: &crate::domain::Rating) -> StoreResult<RateOutcome> {
        self.inner.rate_session(rating).await
    }

    async fn ratings(&self, sessions: &[SessionId]) -> StoreResult<Vec<crate::domain::Rating>> {
        self.inner.ratings(sessions).await
    }
}

#[async_trait]
impl AttachmentStore for Remembered {
    async fn insert_attachment(&self, a: &Attachment, quota_bytes: i64) -> StoreResult<bool> {
        self.inner.insert_attachment(a, quota_bytes).await
    }

    async fn get_attachment(&self, id: AttachmentId) -> StoreResult<Option<Attachment>> {
        self.inner.get_attachment(id).await
    }

    async fn attachments_of_deleted_sessions(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Attachment>> {
        self.inner
            .attachments_of_deleted_sessions(cutoff, limit)
            .await
    }

    async fn forget_attachment(&self, id: AttachmentId) -> StoreResult<()> {
        self.inner.forget_attachment(id).await
    }
}

#[async_trait]
impl CannedStore for Remembered {
    async fn create_canned(
        &self,
        canned: &crate::domain::CannedResponse,
    ) -> StoreResult<crate::domain::CannedResponse> {
        self.inner.create_canned(canned).await
    }

    async fn list_canned(
        &self,
        business_id: &BusinessId,
    ) -> StoreResult<Vec<crate::domain::CannedResponse>> {
        self.inner.list_canned(business_id).await
    }

    async fn update_canned(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        code: Option<&crate::domain::ShortCode>,
        text: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<crate::domain::CannedResponse>> {
        self.inner
            .update_canned(business_id, id, code, text, at)
            .await
    }

    async fn delete_canned(&self, business_id: &BusinessId, id: uuid::Uuid) -> StoreResult<bool> {
        self.inner.delete_canned(business_id, id).await
    }
}

#[async_trait]
impl LabelStore for Remembered {
    async fn create_label(
        &self,
        label: &crate::domain::Label,
    ) -> StoreResult<crate::domain::Label> {
        self.inner.create_label(label).await
    }

    async fn list_labels(
        &self,
        business_id: &BusinessId,
    ) -> StoreResult<Vec<crate::domain::Label>> {
        self.inner.list_labels(business_id).await
    }

    async fn delete_label(&self, business_id: &BusinessId, id: uuid::Uuid) -> StoreResult<bool> {
        self.inner.delete_label(business_id, id).await
    }

    async fn set_session_labels(
        &self,
        session: SessionId,
        labels: &[uuid::Uuid],
    ) -> StoreResult<()> {
        self.inner.set_session_labels(session, labels).await
    }

    async fn labels_of(
        &self,
        sessions: &[SessionId],
    ) -> StoreResult<Vec<(SessionId, crate::domain::Label)>> {
        self.inner.labels_of(sessions).await
    }
}

#[async_trait]
impl HoursStore for Remembered {
    async fn set_hours(
        &self,
        business_id: &BusinessId,
        department: Option<&str>,
        hours: Option<&crate::domain::BusinessHours>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.inner
            .set_hours(business_id, department, hours, at)
            .await
    }

    async fn tenants_with_hours(&self) -> StoreResult<Vec<BusinessId>> {
        self.inner.tenants_with_hours().await
    }

    async fn hours(
        &self,
        business_id: &BusinessId,
    ) -> StoreResult<Vec<(Option<String>, crate::domain::BusinessHours)>> {
        self.inner.hours(business_id).await
    }
}

#[async_trait]
impl ContactStore for Remembered {
    async fn get_session_with_contact(
        &self,
        id: SessionId,
    ) -> StoreResult<Option<(Session, Option<Contact>)>> {
        self.inner.get_session_with_contact(id).await
    }

    async fn upsert_contact(
        &self,
        session: SessionId,
        contact: NewContact,
        at: DateTime<Utc>,
    ) -> StoreResult<Contact> {
        self.inner.upsert_contact(session, contact, at).await
    }

    async fn contacts(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Contact)>> {
        self.inner.contacts(sessions).await
    }
}

#[async_trait]
impl RoutingStore for Remembered {
    async fn create_department(
        &self,
        business_id: &BusinessId,
        name: &crate::domain::DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<crate::domain::Department> {
        self.inner.create_department(business_id, name, at).await
    }

    async fn list_departments(
        &self,
        business_id: &BusinessId,
    ) -> StoreResult<Vec<crate::domain::Department>> {
        self.inner.list_departments(business_id).await
    }

    async fn get_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
    ) -> StoreResult<Option<crate::domain::Department>> {
        self.inner.get_department(business_id, id).await
    }

    async fn rename_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        name: &crate::domain::DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<crate::domain::Department>> {
        self.inner
            .rename_department(business_id, id, name, at)
            .await
    }

    async fn delete_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.inner.delete_department(business_id, id, at).await
    }

    async fn set_department_member(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        agent: &UserId,
        member: bool,
    ) -> StoreResult<Option<crate::domain::Department>> {
        self.inner
            .set_department_member(business_id, id, agent, member)
            .await
    }

    async fn update_agent(
        &self,
        business_id: &BusinessId,
        agent: &UserId,
        max_concurrent: Option<i64>,
        presence: Option<crate::domain::Presence>,
        connections: Connections<'_>,
        at: DateTime<Utc>,
    ) -> StoreResult<crate::domain::Agent> {
        self.inner
            .update_agent(
                business_id,
                agent,
                max_concurrent,
                presence,
                connections,
                at,
            )
            .await
    }

    async fn node_alive(&self, node: &str, at: DateTime<Utc>) -> StoreResult<()> {
        self.inner.node_alive(node, at).await
    }

    async fn forget_silent_nodes(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.inner.forget_silent_nodes(before).await
    }

    async fn list_agents(
        &self,
        business_id: &BusinessId,
    ) -> StoreResult<Vec<crate::domain::Agent>> {
        self.inner.list_agents(business_id).await
    }

    async fn tenant_settings(&self, business_id: &BusinessId) -> StoreResult<TenantSettings> {
        Remembered::tenant_settings(self, business_id).await
    }

    async fn tenant_idle_timeouts(&self) -> StoreResult<Vec<(BusinessId, i64)>> {
        self.inner.tenant_idle_timeouts().await
    }

    async fn set_tenant_settings(
        &self,
        business_id: &BusinessId,
        settings: TenantSettings,
        at: DateTime<Utc>,
    ) -> StoreResult<TenantSettings> {
        let written = self
            .inner
            .set_tenant_settings(business_id, settings, at)
            .await?;
        self.settings.written(business_id, written);
        Ok(written)
    }

    async fn assign_next(
        &self,
        business_id: &BusinessId,
        open: &crate::routing::OpenQueues,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>> {
        self.inner.assign_next(business_id, open, at).await
    }

    async fn queue_position(&self, session: &Session) -> StoreResult<i64> {
        self.inner.queue_position(session).await
    }

    async fn queue(
        &self,
        business_id: &BusinessId,
        limit: u32,
    ) -> StoreResult<Vec<(Session, i64)>> {
        self.inner.queue(business_id, limit).await
    }
}

#[async_trait]
impl WebhookStore for Remembered {
    async fn create_webhook(
        &self,
        business_id: &BusinessId,
        url: &crate::domain::WebhookUrl,
        secret: &str,
        events: &[crate::domain::WebhookEvent],
        at: DateTime<Utc>,
    ) -> StoreResult<Webhook> {
        let created = self
            .inner
            .create_webhook(business_id, url, secret, events, at)
            .await;
        self.webhooks_changed(business_id);
        created
    }

    async fn list_webhooks(&self, business_id: &BusinessId) -> StoreResult<Vec<Webhook>> {
        self.inner.list_webhooks(business_id).await
    }

    async fn recent_webhooks(&self, business_id: &BusinessId) -> StoreResult<Vec<Webhook>> {
        Remembered::recent_webhooks(self, business_id).await
    }

    async fn update_webhook(
        &self,
        business_id: &BusinessId,
        id: i64,
        change: &WebhookChange,
    ) -> StoreResult<Option<Webhook>> {
        let updated = self.inner.update_webhook(business_id, id, change).await;
        self.webhooks_changed(business_id);
        updated
    }

    async fn delete_webhook(
        &self,
        business_id: &BusinessId,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let deleted = self.inner.delete_webhook(business_id, id, at).await;
        self.webhooks_changed(business_id);
        deleted
    }

    async fn list_deliveries(
        &self,
        webhook_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        self.inner.list_deliveries(webhook_id, limit).await
    }

    async fn enqueue_deliveries(&self, deliveries: &[NewDelivery]) -> StoreResult<()> {
        self.inner.enqueue_deliveries(deliveries).await
    }

    async fn outbox(&self, limit: u32) -> StoreResult<Vec<OutboxEntry>> {
        self.inner.outbox(limit).await
    }

    async fn dispatch_outbox(&self, done: &[i64], deliveries: &[NewDelivery]) -> StoreResult<()> {
        self.inner.dispatch_outbox(done, deliveries).await
    }

    async fn release_deliveries(&self, ids: &[uuid::Uuid], at: DateTime<Utc>) -> StoreResult<()> {
        self.inner.release_deliveries(ids, at).await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>> {
        self.inner.claim_deliveries(now, lease_until, limit).await
    }

    async fn finish_delivery(
        &self,
        id: uuid::Uuid,
        outcome: Result<(), String>,
        next_attempt_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.inner
            .finish_delivery(id, outcome, next_attempt_at, at)
            .await
    }
}

#[async_trait]
impl AccountStore for Remembered {
    async fn find_account(&self, id: i64) -> StoreResult<Option<Account>> {
        self.inner.find_account(id).await
    }

    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        self.inner.create_account(new).await
    }

    async fn find_account_by_email(&self, email: &Email) -> StoreResult<Option<Account>> {
        self.inner.find_account_by_email(email).await
    }

    async fn create_api_key(
        &self,
        name: &str,
        business_id: &BusinessId,
        key_hash: &str,
    ) -> StoreResult<ApiKey> {
        self.inner.create_api_key(name, business_id, key_hash).await
    }

    async fn find_api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        self.inner.find_api_key(key_hash).await
    }

    async fn list_api_keys(&self, business: Option<&BusinessId>) -> StoreResult<Vec<ApiKey>> {
        self.inner.list_api_keys(business).await
    }

    async fn revoke_api_key(
        &self,
        business: Option<&BusinessId>,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.inner.revoke_api_key(business, id, at).await
    }

    async fn server_secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> String + Sync),
    ) -> StoreResult<String> {
        self.inner.server_secret(name, generate).await
    }
}
