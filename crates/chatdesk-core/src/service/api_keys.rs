//! API keys as admins see them: listed and revoked (created with `chatdesk api-key add`).

use super::SessionService;
use crate::clock;
use crate::domain::BusinessId;
use crate::error::{ServiceError, ServiceResult};
use crate::identity::{Principal, Role};
use crate::store::ApiKey;

impl SessionService {
    /// Which keys this admin manages: a scoped admin its tenant's (naming another is
    /// refused), an unscoped one every tenant's or the one it names.
    fn key_scope(p: &Principal, business: Option<&str>) -> ServiceResult<Option<BusinessId>> {
        if p.role != Role::Admin {
            return Err(ServiceError::Forbidden("only admins manage API keys"));
        }
        let asked = business.map(BusinessId::parse).transpose()?;
        match (&p.business_id, asked) {
            (Some(home), Some(asked)) if *home != asked => Err(ServiceError::Forbidden(
                "this credential may not manage that business",
            )),
            (Some(home), _) => Ok(Some(home.clone())),
            (None, asked) => Ok(asked),
        }
    }

    pub async fn api_keys(
        &self,
        p: &Principal,
        business: Option<&str>,
    ) -> ServiceResult<Vec<ApiKey>> {
        let scope = Self::key_scope(p, business)?;
        Ok(self.store.list_api_keys(scope.as_ref()).await?)
    }

    pub async fn revoke_api_key(
        &self,
        p: &Principal,
        business: Option<&str>,
        id: i64,
    ) -> ServiceResult<()> {
        let scope = Self::key_scope(p, business)?;
        if self
            .store
            .revoke_api_key(scope.as_ref(), id, clock::now())
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound("API key"))
        }
    }
}
