//! Canned responses, per tenant.

use super::*;
use crate::domain::{CannedResponse, ShortCode};

#[async_trait]
pub trait CannedStore: Send + Sync + 'static {
    /// `Conflict` when the tenant (or that department) has the code already.
    async fn create_canned(&self, canned: &CannedResponse) -> StoreResult<CannedResponse>;

    /// The tenant's canned responses, by code.
    async fn list_canned(&self, business_id: &BusinessId) -> StoreResult<Vec<CannedResponse>>;

    /// Change a canned response's code or text; `None` if the tenant has no such one.
    async fn update_canned(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        code: Option<&ShortCode>,
        text: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<CannedResponse>>;

    async fn delete_canned(&self, business_id: &BusinessId, id: uuid::Uuid) -> StoreResult<bool>;
}
