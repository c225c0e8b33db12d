//! The chatdesk server: configuration, identity, the HTTP API over the core, and the
//! `launch` entry point used by `main` and by the tests.

pub mod app;
pub mod auth;
pub mod backend;
pub mod cli;
pub mod config;
pub mod error;
pub mod files;
#[cfg(test)]
mod fuzz;
pub mod guards;
pub mod http;
pub mod limits;
pub mod mail;
pub mod metrics;
pub mod realtime;
pub mod rfc3339;
pub mod serve;
pub mod state;
pub mod webhooks;
pub mod wire;

pub use app::launch;
pub use config::Settings;
