//! Labels: admins (and services) keep a tenant's labels; staff put them on sessions; lists,
//! search and reports filter by one (`ListSessions::label_id`).

use super::kernel::Kernel;
use super::managed_tenant;
use crate::authz;
use crate::bus::Event;
use crate::clock;
use crate::domain::{Invalid, Label, LabelName, SessionId};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;
use crate::store::StoreError;
use std::sync::Arc;

/// Most labels one session carries.
pub const MAX_LABELS_PER_SESSION: usize = 20;

#[derive(Clone)]
pub struct Labels {
    k: Arc<Kernel>,
}

pub(super) fn label_id(raw: &str) -> ServiceResult<uuid::Uuid> {
    uuid::Uuid::parse_str(raw.trim())
        .map_err(|_| Invalid::new("label_id", "invalid_label", "a label id is a UUID").into())
}

impl Labels {
    pub(super) fn new(k: Arc<Kernel>) -> Self {
        Self { k }
    }

    pub async fn create(
        &self,
        p: &Principal,
        business: Option<&str>,
        name: &str,
    ) -> ServiceResult<Label> {
        let tenant = managed_tenant(p, business)?;
        let label = Label {
            id: uuid::Uuid::now_v7(),
            business_id: tenant,
            name: LabelName::parse(name)?,
            created_at: clock::now(),
        };
        self.k
            .store
            .create_label(&label)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    ServiceError::conflict("label_exists", "a label with that name exists")
                }
                other => other.into(),
            })
    }

    /// The caller's tenant's labels (staff).
    pub async fn list(&self, p: &Principal) -> ServiceResult<Vec<Label>> {
        if !p.is_staff() {
            return Err(ServiceError::Forbidden("labels are for staff"));
        }
        Ok(self.k.store.list_labels(&p.home_tenant()).await?)
    }

    pub async fn delete(&self, p: &Principal, id: &str) -> ServiceResult<()> {
        let tenant = managed_tenant(p, None)?;
        if self.k.store.delete_label(&tenant, label_id(id)?).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("label"))
        }
    }

    /// Staff set a session's labels (labels of its tenant, at most
    /// [`MAX_LABELS_PER_SESSION`]); it answers with them.
    pub async fn set(
        &self,
        p: &Principal,
        id: SessionId,
        labels: &[String],
    ) -> ServiceResult<Vec<Label>> {
        let session = self.k.visible(p, id).await?;
        if !authz::can_manage(p, &session) {
            return Err(ServiceError::Forbidden("staff label sessions"));
        }
        if labels.len() > MAX_LABELS_PER_SESSION {
            return Err(Invalid::new(
                "label_ids",
                "invalid_label",
                format!("at most {MAX_LABELS_PER_SESSION} labels"),
            )
            .into());
        }
        let known = self.k.store.list_labels(&session.business_id).await?;
        let mut chosen: Vec<uuid::Uuid> = Vec::new();
        for raw in labels {
            let wanted = label_id(raw)?;
            if !known.iter().any(|l| l.id == wanted) {
                return Err(Invalid::new(
                    "label_ids",
                    "invalid_label",
                    "no such label in this business",
                )
                .into());
            }
            if !chosen.contains(&wanted) {
                chosen.push(wanted);
            }
        }
        self.k.store.set_session_labels(session.id, &chosen).await?;
        // Watchers refresh the session; its labels are read with `labels_of`.
        self.k.bus.publish(Event::SessionUpdated(session.clone()));
        self.of(p, id).await
    }

    /// A session's labels, for staff who may see it.
    pub async fn of(&self, p: &Principal, id: SessionId) -> ServiceResult<Vec<Label>> {
        let session = self.k.visible(p, id).await?;
        if !p.is_staff() {
            return Err(ServiceError::Forbidden("labels are for staff"));
        }
        Ok(self
            .k
            .store
            .labels_of(&[session.id])
            .await?
            .into_iter()
            .map(|(_, l)| l)
            .collect())
    }
}
