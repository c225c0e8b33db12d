//! API keys as admins see them: listed and revoked (created with `chatdesk api-key add`).

use super::Directory;
use crate::clock;
use crate::domain::BusinessId;
use crate::error::{ServiceError, ServiceResult};
use crate::identity::{Principal, Role};
use crate::store::ApiKey;

impl Directory {
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
        Ok(self.k.store.list_api_keys(scope.as_ref()).await?)
    }

    pub async fn revoke_api_key(
        &self,
        p: &Principal,
        business: Option<&str>,
        id: i64,
    ) -> ServiceResult<()> {
        let scope = Self::key_scope(p, business)?;
        if self
            .k
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

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::domain::UserId;
    use crate::store::AccountStore;

    fn admin_of(tenant: Option<&str>) -> Principal {
        Principal::user(
            UserId::parse("root").unwrap(),
            Role::Admin,
            tenant.map(|t| BusinessId::parse(t).unwrap()),
        )
    }

    #[tokio::test]
    async fn an_admin_lists_and_revokes_only_its_tenants_keys() {
        let desk = desk();
        let (shop, other) = (
            BusinessId::parse("shop").unwrap(),
            BusinessId::parse("other").unwrap(),
        );
        let mine = desk.store.create_api_key("bot", &shop, "h1").await.unwrap();
        let theirs = desk
            .store
            .create_api_key("bot", &other, "h2")
            .await
            .unwrap();
        let shops = admin_of(Some("shop"));
        let listed = desk.directory.api_keys(&shops, None).await.unwrap();
        assert_eq!(listed.iter().map(|k| k.id).collect::<Vec<_>>(), [mine.id]);
        assert!(matches!(
            desk.directory.api_keys(&shops, Some("other")).await,
            Err(ServiceError::Forbidden(_))
        ));
        assert!(matches!(
            desk.directory.revoke_api_key(&shops, None, theirs.id).await,
            Err(ServiceError::NotFound(_))
        ));
        desk.directory
            .revoke_api_key(&shops, None, mine.id)
            .await
            .unwrap();
        assert!(desk
            .directory
            .api_keys(&shops, None)
            .await
            .unwrap()
            .is_empty());
        // An unscoped admin sees every tenant's, or the one it names.
        let root = admin_of(None);
        let all = desk.directory.api_keys(&root, None).await.unwrap();
        assert_eq!(all.iter().map(|k| k.id).collect::<Vec<_>>(), [theirs.id]);
    }

    #[tokio::test]
    async fn only_admins_manage_keys() {
        let desk = desk();
        for p in [agent("ada"), customer("ann")] {
            assert!(matches!(
                desk.directory.api_keys(&p, None).await,
                Err(ServiceError::Forbidden(_))
            ));
        }
    }
}
