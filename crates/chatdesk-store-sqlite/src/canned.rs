//! Canned responses, per tenant.

use super::*;
use chatdesk_core::domain::{CannedResponse, ShortCode};
use chatdesk_core::rows::CANNED_COLUMNS;

#[async_trait]
impl CannedStore for SqliteStore {
    async fn create_canned(&self, canned: &CannedResponse) -> StoreResult<CannedResponse> {
        let c = canned.clone();
        self.write(move |conn| {
            sql::execute(
                conn,
                "INSERT INTO canned_responses (id, business_id, department_id, code, text, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    sql::uuid(c.id),
                    c.business_id.as_str(),
                    c.department_id.as_deref(),
                    c.code.as_str(),
                    c.text.as_str(),
                    micros(c.created_at),
                    micros(c.updated_at)
                ],
            )?;
            Ok(c)
        })
        .await
    }

    async fn list_canned(&self, business_id: &BusinessId) -> StoreResult<Vec<CannedResponse>> {
        let sql = format!(
            "SELECT {CANNED_COLUMNS} FROM canned_responses WHERE business_id = ?1 ORDER BY code, COALESCE(department_id, '')"
        );
        let tenant = business_id.as_str().to_owned();
        self.read(move |c| sql::all(c, &sql, [tenant], |r| chatdesk_core::rows::canned(r)))
            .await
    }

    async fn update_canned(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        code: Option<&ShortCode>,
        text: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<CannedResponse>> {
        let sql = format!(
            "UPDATE canned_responses SET code = COALESCE(?3, code), text = COALESCE(?4, text), updated_at = ?5 \
             WHERE business_id = ?1 AND id = ?2 RETURNING {CANNED_COLUMNS}"
        );
        let tenant = business_id.as_str().to_owned();
        let code = code.map(|c| c.as_str().to_owned());
        let text = text.map(str::to_owned);
        self.write(move |c| {
            sql::first(
                c,
                &sql,
                params![tenant, sql::uuid(id), code, text, micros(at)],
                |r| chatdesk_core::rows::canned(r),
            )
        })
        .await
    }

    async fn delete_canned(&self, business_id: &BusinessId, id: uuid::Uuid) -> StoreResult<bool> {
        let tenant = business_id.as_str().to_owned();
        self.write(move |c| {
            sql::execute(
                c,
                "DELETE FROM canned_responses WHERE business_id = ?1 AND id = ?2",
                params![tenant, sql::uuid(id)],
            )
            .map(|n| n > 0)
        })
        .await
    }
}
