//! Webhooks out: committed events become queued deliveries (in the database, so they survive
//! a restart), and a deliverer sends each one, signed, retrying with backoff until the
//! receiver answers 2xx.
//!
//! Every delivery is a POST of `{"id", "event", "created_at", "data"}` with
//! - `X-Chatdesk-Event`: the event name;
//! - `X-Chatdesk-Delivery`: the delivery id, the same on every retry (receivers de-duplicate);
//! - `X-Chatdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

mod deliver;
mod dispatch;
pub mod egress;

pub use deliver::{sign, Deliverer};
pub use dispatch::spawn_dispatcher;
