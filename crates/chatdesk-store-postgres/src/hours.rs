//! Business hours of a tenant and of its departments.

use super::*;
use chatdesk_core::domain::BusinessHours;

#[async_trait]
impl HoursStore for PgStore {
    async fn set_hours(
        &self,
        business_id: &BusinessId,
        department: Option<&str>,
        hours: Option<&BusinessHours>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let department = department.unwrap_or("");
        match hours {
            Some(h) => sqlx::query(
                "INSERT INTO business_hours (business_id, department, schedule, updated_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (business_id, department) DO UPDATE \
                 SET schedule = excluded.schedule, updated_at = excluded.updated_at",
            )
            .bind(business_id.as_str())
            .bind(department)
            .bind(serde_json::to_string(h).expect("a schedule serializes"))
            .bind(at),
            None => {
                sqlx::query("DELETE FROM business_hours WHERE business_id = $1 AND department = $2")
                    .bind(business_id.as_str())
                    .bind(department)
            }
        }
        .execute(&self.pool)
        .await
        .map(drop)
        .map_err(db)
    }

    async fn tenants_with_hours(&self) -> StoreResult<Vec<BusinessId>> {
        let found: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT business_id FROM business_hours")
                .fetch_all(&self.pool)
                .await
                .map_err(db)?;
        found
            .iter()
            .map(|b| BusinessId::parse(b).map_err(corrupt))
            .collect()
    }

    async fn hours(
        &self,
        business_id: &BusinessId,
    ) -> StoreResult<Vec<(Option<String>, BusinessHours)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT department, schedule FROM business_hours WHERE business_id = $1 ORDER BY department",
        )
        .bind(business_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.into_iter()
            .map(|(d, s)| Ok(((!d.is_empty()).then_some(d), stored_hours(&s)?)))
            .collect()
    }
}
