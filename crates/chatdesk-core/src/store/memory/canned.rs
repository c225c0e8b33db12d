//! Canned responses in memory.

use super::*;
use crate::domain::{CannedResponse, ShortCode};

fn taken(state: &State, c: &CannedResponse) -> bool {
    state.canned.iter().any(|o| {
        o.id != c.id
            && o.business_id == c.business_id
            && o.department_id == c.department_id
            && o.code == c.code
    })
}

fn code_taken() -> StoreError {
    StoreError::Conflict("a canned response has that code".into())
}

#[async_trait]
impl CannedStore for MemoryStore {
    async fn create_canned(&self, canned: &CannedResponse) -> StoreResult<CannedResponse> {
        let mut state = self.lock();
        if taken(&state, canned) {
            return Err(code_taken());
        }
        state.canned.push(canned.clone());
        Ok(canned.clone())
    }

    async fn list_canned(&self, business_id: &BusinessId) -> StoreResult<Vec<CannedResponse>> {
        let state = self.lock();
        let mut out: Vec<CannedResponse> = state
            .canned
            .iter()
            .filter(|c| &c.business_id == business_id)
            .cloned()
            .collect();
        out.sort_by(|a, b| {
            let key = |c: &CannedResponse| (c.code.as_str().to_owned(), c.department_id.clone());
            key(a).cmp(&key(b))
        });
        Ok(out)
    }

    async fn update_canned(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        code: Option<&ShortCode>,
        text: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<CannedResponse>> {
        let mut state = self.lock();
        let Some(found) = state
            .canned
            .iter()
            .find(|c| c.id == id && &c.business_id == business_id)
            .cloned()
        else {
            return Ok(None);
        };
        let changed = CannedResponse {
            code: code.cloned().unwrap_or(found.code),
            text: text.map_or(found.text, str::to_owned),
            updated_at: at,
            ..found
        };
        if taken(&state, &changed) {
            return Err(code_taken());
        }
        for c in state.canned.iter_mut().filter(|c| c.id == id) {
            *c = changed.clone();
        }
        Ok(Some(changed))
    }

    async fn delete_canned(&self, business_id: &BusinessId, id: uuid::Uuid) -> StoreResult<bool> {
        let mut state = self.lock();
        let before = state.canned.len();
        state
            .canned
            .retain(|c| !(c.id == id && &c.business_id == business_id));
        Ok(state.canned.len() < before)
    }
}
