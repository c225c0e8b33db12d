//! Who is calling. A `Principal` is only ever built by the server from proof (a verified JWT,
//! an API key, a visitor UUID); nothing in a request body becomes one.

use crate::domain::{BusinessId, Invalid, Party, UserId, VisitorId};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Agent,
    Admin,
    /// A back end or bot (API key or service JWT): acts for users of its tenant.
    Service,
}

impl Role {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "customer" | "user" => Ok(Self::Customer),
            "agent" => Ok(Self::Agent),
            "admin" => Ok(Self::Admin),
            "service" => Ok(Self::Service),
            _ => Err(Invalid::new(
                "role",
                "invalid_role",
                "role must be one of customer, agent, admin, service",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Agent => "agent",
            Self::Admin => "admin",
            Self::Service => "service",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub party: Party,
    pub role: Role,
    /// The tenant the credential is scoped to, if it names one.
    pub business_id: Option<BusinessId>,
}

impl Principal {
    pub fn visitor(id: VisitorId) -> Self {
        Self {
            party: Party::Visitor(id),
            role: Role::Customer,
            business_id: None,
        }
    }

    pub fn user(id: UserId, role: Role, business_id: Option<BusinessId>) -> Self {
        Self {
            party: Party::User(id),
            role,
            business_id,
        }
    }

    /// The tenant this caller works in when a request does not name one.
    pub fn home_tenant(&self) -> BusinessId {
        self.business_id
            .clone()
            .unwrap_or_else(BusinessId::default_tenant)
    }

    /// Agents, admins and services: people and systems that handle other people's sessions.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Agent | Role::Admin | Role::Service)
    }
}
