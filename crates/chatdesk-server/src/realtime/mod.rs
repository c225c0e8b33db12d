//! Real time: the hub that routes committed events, the per-client feed with gap-free
//! catch-up, and the two ways out: Socket.IO (`/chat`) and Server-Sent Events.

pub mod deliver;
#[cfg(feature = "echo")]
pub mod echo;
pub mod feed;
pub mod hub;
pub mod inbound;
pub mod presence;
pub mod renderings;
pub mod socketio;
pub mod sse;
pub mod upgrade_head;
