//! Business hours of a tenant and of its departments.

use super::*;
use chatdesk_core::domain::BusinessHours;

#[async_trait]
impl HoursStore for SqliteStore {
    async fn set_hours(
        &self,
        business_id: &BusinessId,
        department: Option<&str>,
        hours: Option<&BusinessHours>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let tenant = business_id.as_str().to_owned();
        let department = department.unwrap_or("").to_owned();
        let schedule = hours.map(|h| serde_json::to_string(h).expect("a schedule serializes"));
        self.write(move |c| {
            match schedule {
                Some(s) => sql::execute(
                    c,
                    "INSERT INTO business_hours (business_id, department, schedule, updated_at) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (business_id, department) DO UPDATE \
                     SET schedule = excluded.schedule, updated_at = excluded.updated_at",
                    params![tenant, department, s, micros(at)],
                ),
                None => sql::execute(
                    c,
                    "DELETE FROM business_hours WHERE business_id = ?1 AND department = ?2",
                    params![tenant, department],
                ),
            }
            .map(drop)
        })
        .await
    }

    async fn tenants_with_hours(&self) -> StoreResult<Vec<BusinessId>> {
        self.read(|c| {
            sql::all(
                c,
                "SELECT DISTINCT business_id FROM business_hours",
                [],
                |r| {
                    use chatdesk_core::rows::Columns;
                    BusinessId::parse(&r.text("business_id")?.unwrap_or_default()).map_err(corrupt)
                },
            )
        })
        .await
    }

    async fn hours(
        &self,
        business_id: &BusinessId,
    ) -> StoreResult<Vec<(Option<String>, BusinessHours)>> {
        let tenant = business_id.as_str().to_owned();
        self.read(move |c| {
            sql::all(
                c,
                "SELECT department, schedule FROM business_hours WHERE business_id = ?1 ORDER BY department",
                [tenant],
                |r| {
                    use chatdesk_core::rows::Columns;
                    let department = r.text("department")?.filter(|d| !d.is_empty());
                    let schedule = r.text("schedule")?.unwrap_or_default();
                    Ok((department, stored_hours(&schedule)?))
                },
            )
        })
        .await
    }
}
