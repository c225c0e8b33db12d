//! Labels of a tenant, and which sessions carry them.

use super::*;
use crate::domain::Label;

#[async_trait]
pub trait LabelStore: Send + Sync + 'static {
    /// `Conflict` when the tenant has a label of that name (in any case).
    async fn create_label(&self, label: &Label) -> StoreResult<Label>;

    /// The tenant's labels, by name.
    async fn list_labels(&self, business_id: &BusinessId) -> StoreResult<Vec<Label>>;

    /// Remove a label, and from every session that carried it. False if there was none.
    async fn delete_label(&self, business_id: &BusinessId, id: uuid::Uuid) -> StoreResult<bool>;

    /// The session's labels become exactly these (labels of its tenant, checked by the
    /// caller).
    async fn set_session_labels(
        &self,
        session: SessionId,
        labels: &[uuid::Uuid],
    ) -> StoreResult<()>;

    /// The labels of these sessions, by name.
    async fn labels_of(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Label)>>;
}
