//! Business hours in memory.

use super::*;
use crate::domain::BusinessHours;

#[async_trait]
impl HoursStore for MemoryStore {
    async fn set_hours(
        &self,
        business_id: &BusinessId,
        department: Option<&str>,
        hours: Option<&BusinessHours>,
        _at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        let key = (business_id.clone(), department.map(str::to_owned));
        match hours {
            Some(h) => {
                state.hours.insert(key, h.clone());
            }
            None => {
                state.hours.remove(&key);
            }
        }
        Ok(())
    }

    async fn tenants_with_hours(&self) -> StoreResult<Vec<BusinessId>> {
        let mut tenants: Vec<BusinessId> =
            self.lock().hours.keys().map(|(b, _)| b.clone()).collect();
        tenants.dedup();
        Ok(tenants)
    }

    async fn hours(
        &self,
        business_id: &BusinessId,
    ) -> StoreResult<Vec<(Option<String>, BusinessHours)>> {
        let state = self.lock();
        Ok(state
            .hours
            .iter()
            .filter(|((b, _), _)| b == business_id)
            .map(|((_, d), h)| (d.clone(), h.clone()))
            .collect())
    }
}
