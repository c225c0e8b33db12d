//! Webhooks out: each change a webhook subscribes to leaves an outbox entry in its own
//! transaction; the dispatcher turns entries into queued deliveries (in the database, so
//! neither a crash nor a restart loses one), and a deliverer sends each one, signed,
//! retrying with backoff until the receiver answers 2xx. The data is the session or message
//! as it is when the entry is dispatched, moments after the change.
//!
//! Every delivery is a POST of `{"id", "event", "created_at", "data"}` with
//! - `X-Chatdesk-Event`: the event name;
//! - `X-Chatdesk-Delivery`: the delivery id, the same on every retry (receivers de-duplicate);
//! - `X-Chatdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

mod deliver;
mod dispatch;
pub mod egress;

pub use deliver::{sign, Deliverer, DelivererTask};
pub use dispatch::spawn_dispatcher;
