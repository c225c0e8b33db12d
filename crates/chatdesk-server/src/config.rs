//! Settings: built-in defaults → `chatdesk.toml` (or `--config`) → `CHATDESK_*` environment →
//! command-line flags. No global: the settings value is passed to `launch`.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use crate::limits::Rate;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub listen: String,
    /// `sqlite://path`, `sqlite::memory:` or `postgres://…`.
    pub database_url: String,
    /// Development mode: believes asserted user ids and lets anonymous callers in as
    /// `demo_user`. Never in production.
    pub dev: bool,
    /// HS256 secret for JWTs. When unset, the server generates one and keeps it in the
    /// database, so `chatdesk token` and `chatdesk serve` on one database agree.
    pub jwt_secret: Option<String>,
    /// PEM public key for verifying RS256 or ES256 tokens issued by someone else.
    pub jwt_public_key_file: Option<PathBuf>,
    /// `RS256` or `ES256`: the algorithm of `jwt_public_key_file`.
    pub jwt_public_key_algorithm: Option<String>,
    /// Seconds of clock difference forgiven when checking a token's `exp` and `nbf`.
    pub jwt_leeway_secs: u64,
    /// Lifetime of tokens issued by `POST /v1/auth/login`, in seconds.
    pub login_token_ttl_secs: u64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Longest message content accepted, in characters.
    pub max_message_chars: usize,
    /// How long after sending its sender may edit or delete a message, in seconds.
    pub message_edit_window_secs: i64,
    /// SQLite only: `normal` (fast; the last commits may be lost on power failure) or `full`
    /// (every acknowledged message survives power loss).
    pub sqlite_durability: String,
    /// Most messages the committer writes in one transaction. Larger batches write each
    /// session's index pages and counters once for more of its messages
    /// (docs/benchmarks.md).
    pub commit_batch_max: usize,
    /// Seconds to wait for in-flight work at shutdown.
    pub shutdown_grace_secs: u64,
    /// Log as JSON lines instead of text (`CHATDESK_LOG_JSON=1` or `true`; read at start,
    /// before the rest of the settings).
    #[serde(deserialize_with = "flag")]
    pub log_json: bool,
    /// Secret for seed 002's `user_hash = hex(HMAC-SHA256(identity_secret, user_id))`.
    pub identity_secret: Option<String>,
    /// Believe user ids sent without proof (seed 002's `oss_user_id`, seed 001's `userId`).
    /// Off by default; on in `--dev`.
    pub trust_unverified_user_ids: bool,
    /// Seed 003: sessions idle longer than this are ended by cleanup and by the job.
    pub idle_timeout_secs: u64,
    /// How often the idle-session job runs; 0 turns it off.
    pub idle_sweep_interval_secs: u64,
    /// How often queues that business hours have opened are routed (0: only on changes).
    pub hours_routing_interval_secs: u64,
    /// How often this node says it is alive (and forgets nodes that stopped saying so).
    pub node_heartbeat_secs: u64,
    /// A node silent this long is taken for dead: its agents' connections stop counting.
    pub node_expiry_secs: u64,
    /// Redis to carry events between nodes (`redis://host:6379`), when several nodes share
    /// one PostgreSQL database. None: events stay in this process.
    pub bus_url: Option<String>,
    /// Events queued per real-time client (socket or SSE stream) before it counts as too slow
    /// and is disconnected (it then reconnects and replays).
    pub realtime_queue: usize,
    /// Webhooks: the first retry waits this long, each next one twice as long (at most an hour).
    pub webhook_retry_base_ms: u64,
    /// Webhooks: attempts before a delivery is given up.
    pub webhook_max_attempts: u32,
    /// Webhooks: how long one attempt may take.
    pub webhook_timeout_secs: u64,
    /// Webhooks go only to public addresses, and to these networks (CIDR, e.g.
    /// `10.20.0.0/16` or `127.0.0.1/32`) that the deployment trusts.
    pub webhook_allowed_networks: Vec<String>,
    /// Most webhooks one tenant may have.
    pub max_webhooks_per_tenant: usize,
    /// Origins whose pages may call the API from a browser (`https://shop.example`), or
    /// `["*"]` for any. Empty: no cross-origin access.
    pub cors_allowed_origins: Vec<String>,
    /// SMTP server for email (transcripts, the offline form): `smtp://host:port` (plain;
    /// add `?tls=required` for STARTTLS) or `smtps://user:password@host`. Unset: no email.
    pub smtp_url: Option<String>,
    /// The sender of chatdesk's email.
    pub mail_from: String,
    /// Abuse limits (`[limits]` in the file, `CHATDESK_LIMITS__<NAME>` in the environment).
    pub limits: LimitSettings,
    /// Files sent in conversations (`[attachments]`, `CHATDESK_ATTACHMENTS__<NAME>`).
    pub attachments: AttachmentSettings,
    /// Each seed door can be switched off.
    pub door_storefront: bool,
    pub door_assistant: bool,
    pub door_livechat: bool,
    pub door_activity: bool,
    pub door_support: bool,
    /// Serve `/echo`, a bare Socket.IO relay with no identity and no storage, as the
    /// baseline `chatdesk-bench echo` compares `/chat` against. Off unless benchmarking, and
    /// only in a build with the `echo` feature.
    pub echo_namespace: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://chatdesk.db".into(),
            dev: false,
            jwt_secret: None,
            jwt_public_key_file: None,
            jwt_public_key_algorithm: None,
            jwt_leeway_secs: crate::auth::jwt::DEFAULT_LEEWAY_SECS,
            login_token_ttl_secs: 24 * 3600,
            max_body_bytes: 64 * 1024,
            max_message_chars: chatdesk_core::domain::Content::DEFAULT_MAX_CHARS,
            message_edit_window_secs: 900,
            sqlite_durability: "normal".into(),
            commit_batch_max: 1024,
            shutdown_grace_secs: 10,
            log_json: false,
            identity_secret: None,
            trust_unverified_user_ids: false,
            idle_timeout_secs: 3600,
            idle_sweep_interval_secs: 300,
            hours_routing_interval_secs: 60,
            realtime_queue: 1024,
            bus_url: None,
            node_heartbeat_secs: 5,
            node_expiry_secs: 30,
            webhook_retry_base_ms: 1000,
            webhook_max_attempts: 12,
            webhook_timeout_secs: 10,
            webhook_allowed_networks: Vec::new(),
            max_webhooks_per_tenant: 20,
            cors_allowed_origins: Vec::new(),
            smtp_url: None,
            mail_from: "chatdesk <chatdesk@localhost>".into(),
            limits: LimitSettings::default(),
            attachments: AttachmentSettings::default(),
            door_storefront: true,
            door_assistant: true,
            door_livechat: true,
            door_activity: true,
            door_support: true,
            echo_namespace: false,
        }
    }
}

/// What one client may do, and how fast. A rate is `{burst, every_secs}`: `burst` at once,
/// then one more every `every_secs`; a burst of 0 turns that limit off. docs/security.md
/// says what each protects.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitSettings {
    /// Login attempts per client address.
    pub login_per_ip: Rate,
    /// Failed logins per account (a success clears them).
    pub login_failures_per_account: Rate,
    /// Password hashes computed at once (each holds argon2's ~19 MB); others wait up to 5 s,
    /// then get `429`.
    pub login_hashing_concurrency: usize,
    /// Sessions opened (created, not resumed) per client address, through any door.
    pub session_opens_per_ip: Rate,
    /// Events one Socket.IO connection may send; a connection that exceeds it is cut.
    pub socket_events: Rate,
    /// Typing notices one caller may post to one session over HTTP (`/v1/sessions/{id}/typing`).
    pub typing_per_session: Rate,
    /// Transcripts emailed per session (`POST /v1/sessions/{id}/transcript/email`).
    pub transcript_emails_per_session: Rate,
    /// Files one caller may upload into one session (`POST /v1/sessions/{id}/attachments`).
    pub uploads_per_session: Rate,
    /// Uploads read at once by this node; more wait for `429`. Each may hold up to
    /// `attachments.max_bytes` in memory.
    pub concurrent_uploads: usize,
    /// Seconds an upload's body may take to arrive.
    pub upload_read_secs: u64,
    /// Seconds a Socket.IO connection may stay without proving who it is.
    pub unauthenticated_socket_secs: u64,
    /// Open connections from one client address (WebSockets and event streams included);
    /// 0 turns the limit off (behind a proxy every client has the proxy's address).
    pub max_connections_per_ip: usize,
    /// Seconds a client may take to send a request's head before it is disconnected.
    pub request_head_timeout_secs: u64,
    /// Behind a trusted proxy: the header whose last address is the client's (e.g.
    /// `X-Forwarded-For`). Unset: the peer's address. Never set it without such a proxy: a
    /// client could name any address.
    pub client_ip_header: Option<String>,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            login_per_ip: Rate::new(10, 30.0),
            login_failures_per_account: Rate::new(5, 60.0),
            login_hashing_concurrency: 2,
            session_opens_per_ip: Rate::new(30, 20.0),
            socket_events: Rate::new(100, 0.05),
            typing_per_session: Rate::new(5, 1.0),
            transcript_emails_per_session: Rate::new(3, 600.0),
            uploads_per_session: Rate::new(10, 6.0),
            concurrent_uploads: 8,
            upload_read_secs: 120,
            unauthenticated_socket_secs: 30,
            max_connections_per_ip: 256,
            request_head_timeout_secs: 10,
            client_ip_header: None,
        }
    }
}

/// Where attachments are kept and what is allowed of them. Local disk unless `s3_bucket`
/// is set; then any S3-compatible storage (AWS, MinIO, Ceph, …).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AttachmentSettings {
    /// The directory for files on local disk. Unset: beside the SQLite database
    /// (`<database>.files`), or `chatdesk-files` in the working directory for PostgreSQL.
    /// Several nodes need one shared place: S3, or one shared directory.
    pub dir: Option<PathBuf>,
    pub s3_bucket: Option<String>,
    /// For storage other than AWS (`http://127.0.0.1:9000`).
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<String>,
    /// Allow an `http://` endpoint (a local server).
    #[serde(deserialize_with = "flag")]
    pub s3_allow_http: bool,
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Types accepted, as sniffed from the content: exact or `family/*`.
    pub allowed_types: Vec<String>,
    /// Bytes of files one business may keep.
    pub quota_bytes_per_tenant: u64,
    /// Seconds a download link works.
    pub link_ttl_secs: i64,
    /// Seconds a deleted session's files are kept.
    pub retention_secs: i64,
    /// Seconds between sweeps that remove them (0: never).
    pub purge_interval_secs: u64,
}

impl Default for AttachmentSettings {
    fn default() -> Self {
        let rules = chatdesk_core::domain::FileRules::default();
        Self {
            dir: None,
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: false,
            max_bytes: rules.max_bytes,
            allowed_types: rules.allowed_types,
            quota_bytes_per_tenant: rules.quota_bytes_per_tenant,
            link_ttl_secs: 900,
            retention_secs: rules.retention_secs,
            purge_interval_secs: 3600,
        }
    }
}

impl AttachmentSettings {
    pub fn rules(&self) -> chatdesk_core::domain::FileRules {
        chatdesk_core::domain::FileRules {
            max_bytes: self.max_bytes,
            allowed_types: self.allowed_types.clone(),
            quota_bytes_per_tenant: self.quota_bytes_per_tenant,
            retention_secs: self.retention_secs,
        }
    }
}

/// A switch written as a boolean or as 1/0 (as environment variables often are).
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Number(u64),
        Text(String),
    }
    match Flag::deserialize(d)? {
        Flag::Bool(b) => Ok(b),
        Flag::Number(n) => Ok(n != 0),
        Flag::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" | "" => Ok(false),
            other => Err(serde::de::Error::custom(format!(
                "expected true/false or 1/0, not {other:?}"
            ))),
        },
    }
}

impl Settings {
    /// Load from the layers above. `config_file` defaults to `chatdesk.toml` if it exists.
    pub fn load(config_file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let file = config_file.map_or_else(|| PathBuf::from("chatdesk.toml"), Path::to_path_buf);
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(
                Env::prefixed("CHATDESK_")
                    .ignore(&["test_pg_url", "config"])
                    .split("__"),
            )
            .extract()
            .map_err(Box::new)
    }

    /// Are unproven user ids believed? (`--dev` implies it.) A believed id is a customer:
    /// trusting a front end's user id never grants a role.
    pub fn trusts_user_ids(&self) -> bool {
        self.dev || self.trust_unverified_user_ids
    }

    /// Are the seed documents' bare role claims believed (seed 004's `authenticate {role}`,
    /// seed 002's contact call acting for the front end)? Only in `--dev`.
    pub fn believes_claimed_roles(&self) -> bool {
        self.dev
    }

    /// What requests are believed about themselves ([`crate::auth::resolve`]).
    pub fn trust(&self) -> crate::auth::resolve::Trust {
        crate::auth::resolve::Trust {
            dev: self.dev,
            user_ids: self.trusts_user_ids(),
            roles: self.believes_claimed_roles(),
            identity_secret: self.identity_secret.clone(),
        }
    }

    /// Settings for tests and embedding: defaults plus a database URL, nothing from the
    /// environment.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(
        clippy::result_large_err,
        reason = "figment's Jail API returns figment::Error"
    )]
    fn layers_merge_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "chatdesk.toml",
                "listen = \"0.0.0.0:9000\"\nmax_body_bytes = 1024\n",
            )?;
            jail.set_env("CHATDESK_MAX_BODY_BYTES", "2048");
            jail.set_env("CHATDESK_JWT_SECRET", "s3cret");
            jail.set_env("CHATDESK_LIMITS__LOGIN_PER_IP", "{burst=3, every_secs=1.5}");
            jail.set_env("CHATDESK_LIMITS__MAX_CONNECTIONS_PER_IP", "0");
            jail.set_env("CHATDESK_LOG_JSON", "1");
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(s.listen, "0.0.0.0:9000");
            assert_eq!(s.max_body_bytes, 2048);
            assert_eq!(s.jwt_secret.as_deref(), Some("s3cret"));
            assert_eq!(s.database_url, "sqlite://chatdesk.db");
            assert_eq!(s.limits.login_per_ip, Rate::new(3, 1.5));
            assert_eq!(s.limits.max_connections_per_ip, 0);
            assert!(s.log_json, "CHATDESK_LOG_JSON=1, as the README writes it");
            assert_eq!(s.limits.session_opens_per_ip, Rate::new(30, 20.0));
            Ok(())
        });
    }
}
