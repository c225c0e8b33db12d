//! chatdesk's core: domain types, use cases, and the ports (`Store`, `Bus`) the outside world
//! plugs into. Nothing here knows about HTTP, SQL or sockets.

pub mod accounts;
pub mod analytics;
pub mod authz;
pub mod bus;
pub mod clock;
pub mod committer;
pub mod domain;
pub mod error;
pub mod files;
pub mod identity;
pub mod page;
pub mod query;
pub mod routing;
pub mod rows;
pub mod service;
pub mod store;

pub use error::{ServiceError, ServiceResult};
