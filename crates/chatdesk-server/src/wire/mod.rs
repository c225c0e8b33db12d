//! The shapes chatdesk puts on the wire, in one place: `/v1` views and webhook bodies
//! (snake_case), real-time payloads (camelCase) and ids as the seed documents show them. The
//! HTTP doors, Socket.IO, SSE and the webhook dispatcher depend on this module, not on each
//! other.

pub mod ids;
pub mod payload;
pub mod transcript;
pub mod views;
pub mod webhook;
