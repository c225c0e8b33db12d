//! chatdesk's HTTP integration tests: one binary, a real server per test, on both stores.

mod harness;

mod abuse;
mod agents;
mod api_keys;
mod attachments;
mod authz;
mod authz_matrix;
mod binary;
mod canned;
mod cli;
mod cluster;
mod console;
mod contacts;
mod crash;
mod doors;
mod errors;
mod handoff;
mod hours;
mod labels;
mod login;
mod mail;
mod messages;
mod notes;
mod ops;
mod ratings;
mod realtime;
mod routing;
mod search;
mod sessions;
mod stats;
mod webhooks;
