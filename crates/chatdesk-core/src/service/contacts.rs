//! A session's contact person, and linking an anonymous visitor to an account at login.

use super::kernel::Kernel;
use crate::bus::Event;
use crate::clock;
use crate::domain::{Contact, ContactText, Email, Invalid, Phone, SessionId, VisitorId};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;
use crate::store::{LinkOutcome, NewContact};
use std::sync::Arc;

/// Contact fields as a client sent them.
#[derive(Debug, Clone, Default)]
pub struct SetContact {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub position: Option<String>,
    pub company_name: Option<String>,
}

fn text(field: &'static str, raw: &str) -> Result<ContactText, Invalid> {
    ContactText::parse(raw).map_err(|e| Invalid {
        field,
        code: "invalid_contact",
        message: e.message.replace("contact", field),
    })
}

fn blank_is_none(raw: Option<String>) -> Option<String> {
    raw.filter(|s| !s.trim().is_empty())
}

/// A contact from what a client sent, every field checked.
pub(super) fn new_contact(req: SetContact) -> ServiceResult<NewContact> {
    Ok(NewContact {
        id: uuid::Uuid::now_v7(),
        name: text("contact_name", &req.name)?,
        email: Email::parse(&req.email).map_err(|e| Invalid {
            field: "contact_email",
            ..e
        })?,
        phone: blank_is_none(req.phone)
            .as_deref()
            .map(Phone::parse)
            .transpose()?,
        position: blank_is_none(req.position)
            .as_deref()
            .map(|s| text("position", s))
            .transpose()?,
        company_name: blank_is_none(req.company_name)
            .as_deref()
            .map(|s| text("company_name", s))
            .transpose()?,
    })
}

/// A session's contact person, and visitors linked to accounts.
#[derive(Clone)]
pub struct Contacts {
    k: Arc<Kernel>,
}

impl Contacts {
    pub(super) fn new(k: Arc<Kernel>) -> Self {
        Self { k }
    }

    pub async fn set_contact(
        &self,
        p: &Principal,
        id: SessionId,
        req: SetContact,
    ) -> ServiceResult<Contact> {
        let new = new_contact(req)?;
        self.k.visible(p, id).await?;
        Ok(self.k.store.upsert_contact(id, new, clock::now()).await?)
    }

    /// The contacts of sessions the caller has already been shown.
    pub async fn contacts(
        &self,
        sessions: &[SessionId],
    ) -> ServiceResult<Vec<(SessionId, Contact)>> {
        Ok(self.k.store.contacts(sessions).await?)
    }

    /// May a connection that proved it is `from` go on as `to`? Only a visitor that was linked
    /// to `to`'s account, becoming that account after login.
    pub async fn may_become(&self, from: &Principal, to: &Principal) -> ServiceResult<bool> {
        match (from.party.visitor_id(), to.party.user_id()) {
            (Some(visitor), Some(user)) => Ok(self
                .k
                .store
                .visitor_link(visitor)
                .await?
                .is_some_and(|linked| linked == *user)),
            _ => Ok(false),
        }
    }

    /// Move a visitor's sessions to an account, in one transaction. The caller must have
    /// proved both identities (the visitor id is a bearer secret; the account by token,
    /// identity hash, or a deployment that trusts user ids). Idempotent; a visitor linked to
    /// another account is refused. Only the visitor itself, signed in as a customer, links
    /// its visitor id to its account: staff and back ends cannot take a visitor's sessions
    /// into theirs.
    pub async fn link_visitor(&self, p: &Principal, visitor: VisitorId) -> ServiceResult<u64> {
        let user = match (p.role, p.party.user_id()) {
            (crate::identity::Role::Customer, Some(user)) => user,
            _ => {
                return Err(ServiceError::Forbidden(
                    "only the visitor itself, signed in as a customer, links its visitor id",
                ))
            }
        };
        let outcome = self
            .k
            .store
            .link_visitor(visitor, user, clock::now())
            .await?;
        match outcome {
            LinkOutcome::Linked { sessions_moved } => {
                if sessions_moved > 0 {
                    self.k.bus.publish(Event::VisitorLinked {
                        visitor,
                        user: user.clone(),
                    });
                }
                Ok(sessions_moved)
            }
            LinkOutcome::LinkedToOther(_) => Err(ServiceError::conflict(
                "visitor_already_linked",
                "this visitor is already linked to another account",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn contact(name: &str) -> SetContact {
        SetContact {
            name: name.into(),
            email: "ann@example.com".into(),
            phone: Some(" ".into()),
            position: None,
            company_name: None,
        }
    }

    #[tokio::test]
    async fn a_visitor_linked_at_login_brings_its_sessions_and_contact() {
        let desk = desk();
        let visitor = VisitorId::from_uuid(uuid::Uuid::new_v4());
        let guest = Principal::visitor(visitor);
        let in_the_shop = super::super::OpenSession {
            business_id: Some("shop".into()),
            ..Default::default()
        };
        let (s, _) = desk
            .sessions
            .open_session(&guest, in_the_shop)
            .await
            .unwrap();
        desk.contacts
            .set_contact(&guest, s.id, contact("Ann"))
            .await
            .unwrap();
        let ann = customer("ann");
        assert!(
            desk.sessions.get_session(&ann, s.id).await.is_err(),
            "not hers yet"
        );
        assert_eq!(desk.contacts.link_visitor(&ann, visitor).await.unwrap(), 1);
        let (now, shown) = desk
            .sessions
            .get_session_with_contact(&ann, s.id)
            .await
            .unwrap();
        assert_eq!(now.owner, ann.party);
        assert_eq!(shown.unwrap().name.to_string(), "Ann");
        assert!(desk.contacts.may_become(&guest, &ann).await.unwrap());
        assert!(matches!(
            desk.contacts.link_visitor(&customer("bob"), visitor).await,
            Err(ServiceError::Conflict { .. })
        ));
        assert!(matches!(
            desk.contacts.link_visitor(&agent("ada"), visitor).await,
            Err(ServiceError::Forbidden(_))
        ));
    }

    #[tokio::test]
    async fn a_bad_contact_field_is_named() {
        let desk = desk();
        let ann = customer("ann");
        let s = desk.open(&ann).await;
        let bad = SetContact {
            email: "not an email".into(),
            ..contact("Ann")
        };
        match desk.contacts.set_contact(&ann, s.id, bad).await {
            Err(ServiceError::Invalid(i)) => assert_eq!(i.field, "contact_email"),
            other => panic!("{other:?}"),
        }
    }
}
