//! What every handler can reach. Cheap to clone.

use crate::auth::Authenticator;
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::realtime::hub::Hub;
use chatdesk_core::service::{
    Activity, Attachments, Canned, Contacts, Directory, Handoffs, Hours, Labels, Messages, Notes,
    Ratings, Routing, Search, Sessions, Stats, Webhooks,
};
use chatdesk_core::store::Store;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct AppState {
    pub sessions: Sessions,
    pub activity: Activity,
    pub messages: Messages,
    pub routing: Routing,
    pub directory: Directory,
    pub contacts: Contacts,
    pub notes: Notes,
    pub ratings: Ratings,
    pub canned: Canned,
    pub handoffs: Handoffs,
    pub labels: Labels,
    pub hours: Hours,
    pub attachments: Attachments,
    pub webhooks: Arc<Webhooks>,
    pub stats: Arc<Stats>,
    pub search: Arc<Search>,
    pub store: Arc<dyn Store>,
    pub auth: Arc<Authenticator>,
    pub metrics: Arc<Metrics>,
    pub hub: Arc<Hub>,
    pub login_ttl: Duration,
    pub guards: Arc<crate::guards::Guards>,
    /// Where webhooks may be delivered.
    pub egress: crate::webhooks::egress::EgressPolicy,
    pub settings: Arc<Settings>,
    /// Email, when `smtp_url` is set.
    pub mailer: Option<Arc<crate::mail::Mailer>>,
}
