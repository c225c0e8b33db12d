//! Canned responses: admins (and services) keep a tenant's ready answers, optionally for one
//! department; agents list and search them, and may ask for one rendered for a conversation
//! (its placeholders filled in); expanding one is otherwise the client's choice.

use super::kernel::Kernel;
use super::managed_tenant;
use crate::clock;
use crate::domain::{
    canned_text, render_canned, BusinessId, CannedResponse, Invalid, SessionId, ShortCode,
};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;
use crate::store::StoreError;
use std::collections::HashMap;
use std::sync::Arc;

/// A new canned response as a client sent it.
#[derive(Debug, Clone, Default)]
pub struct NewCanned {
    pub business_id: Option<String>,
    pub department_id: Option<String>,
    pub code: String,
    pub text: String,
}

#[derive(Clone)]
pub struct Canned {
    k: Arc<Kernel>,
}

fn taken(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict(_) => ServiceError::conflict(
            "canned_code_taken",
            "a canned response with that code exists here",
        ),
        other => other.into(),
    }
}

fn canned_id(raw: &str) -> ServiceResult<uuid::Uuid> {
    uuid::Uuid::parse_str(raw.trim())
        .map_err(|_| Invalid::new("id", "invalid_id", "id must be a UUID").into())
}

impl Canned {
    pub(super) fn new(k: Arc<Kernel>) -> Self {
        Self { k }
    }

    pub async fn create(&self, p: &Principal, new: NewCanned) -> ServiceResult<CannedResponse> {
        let tenant = managed_tenant(p, new.business_id.as_deref())?;
        let code = ShortCode::parse(&new.code)?;
        let text = canned_text(&new.text)?;
        let department_id = match new.department_id.as_deref() {
            Some(raw) => Some(self.k.existing_department(&tenant, raw).await?.to_string()),
            None => None,
        };
        let now = clock::now();
        let canned = CannedResponse {
            id: uuid::Uuid::now_v7(),
            business_id: tenant,
            department_id,
            code,
            text,
            created_at: now,
            updated_at: now,
        };
        self.k.store.create_canned(&canned).await.map_err(taken)
    }

    /// The caller's tenant's canned responses: with `query`, those whose code starts with it
    /// or whose text holds it (any case); with `department`, those for it or for everyone.
    pub async fn list(
        &self,
        p: &Principal,
        query: Option<&str>,
        department: Option<&str>,
    ) -> ServiceResult<Vec<CannedResponse>> {
        let tenant = staff_tenant(p)?;
        let query = query
            .map(|q| q.trim().to_lowercase())
            .filter(|q| !q.is_empty());
        Ok(self
            .k
            .store
            .list_canned(&tenant)
            .await?
            .into_iter()
            .filter(|c| match (&c.department_id, department) {
                (Some(own), Some(asked)) => own == asked.trim(),
                _ => true,
            })
            .filter(|c| {
                query.as_deref().is_none_or(|q| {
                    c.code.as_str().starts_with(q) || c.text.to_lowercase().contains(q)
                })
            })
            .collect())
    }

    pub async fn update(
        &self,
        p: &Principal,
        id: &str,
        code: Option<&str>,
        text: Option<&str>,
    ) -> ServiceResult<CannedResponse> {
        let tenant = managed_tenant(p, None)?;
        let id = canned_id(id)?;
        let code = code.map(ShortCode::parse).transpose()?;
        let text = text.map(canned_text).transpose()?;
        self.k
            .store
            .update_canned(&tenant, id, code.as_ref(), text.as_deref(), clock::now())
            .await
            .map_err(taken)?
            .ok_or(ServiceError::NotFound("canned response"))
    }

    pub async fn delete(&self, p: &Principal, id: &str) -> ServiceResult<()> {
        let tenant = managed_tenant(p, None)?;
        let id = canned_id(id)?;
        if self.k.store.delete_canned(&tenant, id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("canned response"))
        }
    }

    /// The canned response's text for this conversation: its contact's and agent's names,
    /// its number and topic filled in.
    pub async fn render(
        &self,
        p: &Principal,
        id: &str,
        session: SessionId,
    ) -> ServiceResult<String> {
        staff_tenant(p)?;
        let id = canned_id(id)?;
        let session = self.k.visible(p, session).await?;
        let canned = self
            .k
            .store
            .list_canned(&session.business_id)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(ServiceError::NotFound("canned response"))?;
        let mut values: HashMap<&str, String> = HashMap::new();
        if let Some((_, contact)) = self.k.store.contacts(&[session.id]).await?.pop() {
            values.insert("contact.name", contact.name.as_str().to_owned());
            values.insert("contact.email", contact.email.as_str().to_owned());
            if let Some(company) = contact.company_name {
                values.insert("contact.company", company.as_str().to_owned());
            }
        }
        let agent = p.party.user_id().or(session.agent_id.as_ref());
        if let Some(agent) = agent {
            let name = match self.k.staff_account(agent).await? {
                Some(a) => a.name.unwrap_or_else(|| a.email.as_str().to_owned()),
                None => agent.to_string(),
            };
            values.insert("agent.name", name);
        }
        values.insert("session.number", session.number.to_string());
        if let Some(topic) = &session.topic {
            values.insert("session.topic", topic.as_str().to_owned());
        }
        Ok(render_canned(&canned.text, &values))
    }
}

/// Staff work in their home tenant; others have no canned responses.
fn staff_tenant(p: &Principal) -> ServiceResult<BusinessId> {
    if !p.is_staff() {
        return Err(ServiceError::Forbidden("canned responses are for staff"));
    }
    Ok(p.home_tenant())
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[tokio::test]
    async fn admins_keep_them_agents_find_and_render_them() {
        let desk = desk();
        let boss = admin("boss");
        let new = |code: &str, text: &str| NewCanned {
            code: code.into(),
            text: text.into(),
            ..NewCanned::default()
        };
        let hi = desk
            .canned
            .create(
                &boss,
                new("hi", "Hello {{contact.name}}, {{agent.name}} here."),
            )
            .await
            .unwrap();
        desk.canned
            .create(&boss, new("refund", "Your refund is on its way."))
            .await
            .unwrap();
        assert!(desk.canned.create(&boss, new("HI", "again")).await.is_err());
        assert!(desk
            .canned
            .create(&agent("ada"), new("x", "y"))
            .await
            .is_err());
        let found = desk
            .canned
            .list(&agent("ada"), Some("REF"), None)
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        let ann = customer("ann");
        assert!(desk.canned.list(&ann, None, None).await.is_err());
        let s = desk.open(&ann).await;
        let text = desk
            .canned
            .render(&agent("ada"), &hi.id.to_string(), s.id)
            .await
            .unwrap();
        assert_eq!(text, "Hello , ada here.");
    }
}
