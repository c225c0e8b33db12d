//! Business hours of a tenant and of its departments.

use super::*;
use crate::domain::BusinessHours;

#[async_trait]
pub trait HoursStore: Send + Sync + 'static {
    /// Set (or with `None`, remove) the schedule of the tenant, or of one of its departments.
    async fn set_hours(
        &self,
        business_id: &BusinessId,
        department: Option<&str>,
        hours: Option<&BusinessHours>,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Every tenant that has a schedule (its own or a department's).
    async fn tenants_with_hours(&self) -> StoreResult<Vec<BusinessId>>;

    /// The tenant's schedules: its own (`None`) and its departments'.
    async fn hours(
        &self,
        business_id: &BusinessId,
    ) -> StoreResult<Vec<(Option<String>, BusinessHours)>>;
}

/// A stored schedule read back (it was checked when it was set).
pub fn stored_hours(raw: &str) -> StoreResult<BusinessHours> {
    let value: serde_json::Value =
        serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    BusinessHours::parse(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}
