//! Labels in memory.

use super::*;
use crate::domain::Label;

#[async_trait]
impl LabelStore for MemoryStore {
    async fn create_label(&self, label: &Label) -> StoreResult<Label> {
        let mut state = self.lock();
        let lower = label.name.as_str().to_lowercase();
        if state
            .labels
            .iter()
            .any(|l| l.business_id == label.business_id && l.name.as_str().to_lowercase() == lower)
        {
            return Err(StoreError::Conflict("a label has that name".into()));
        }
        state.labels.push(label.clone());
        Ok(label.clone())
    }

    async fn list_labels(&self, business_id: &BusinessId) -> StoreResult<Vec<Label>> {
        let state = self.lock();
        let mut out: Vec<Label> = state
            .labels
            .iter()
            .filter(|l| &l.business_id == business_id)
            .cloned()
            .collect();
        out.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
        Ok(out)
    }

    async fn delete_label(&self, business_id: &BusinessId, id: uuid::Uuid) -> StoreResult<bool> {
        let mut state = self.lock();
        let before = state.labels.len();
        state
            .labels
            .retain(|l| !(l.id == id && &l.business_id == business_id));
        let gone = state.labels.len() < before;
        if gone {
            for labels in state.session_labels.values_mut() {
                labels.remove(&id);
            }
        }
        Ok(gone)
    }

    async fn set_session_labels(
        &self,
        session: SessionId,
        labels: &[uuid::Uuid],
    ) -> StoreResult<()> {
        let mut state = self.lock();
        state
            .session_labels
            .insert(session, labels.iter().copied().collect());
        Ok(())
    }

    async fn labels_of(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Label)>> {
        let state = self.lock();
        let mut out = Vec::new();
        for s in sessions {
            let Some(ids) = state.session_labels.get(s) else {
                continue;
            };
            let mut labels: Vec<Label> = state
                .labels
                .iter()
                .filter(|l| ids.contains(&l.id))
                .cloned()
                .collect();
            labels.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
            out.extend(labels.into_iter().map(|l| (*s, l)));
        }
        Ok(out)
    }
}
