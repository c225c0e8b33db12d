//! The abuse limits every door shares: who is asking (the client's address) and how often it
//! may log in and open sessions. Each limit is a setting (`[limits]`, docs/security.md).

use crate::config::LimitSettings;
use crate::error::{ApiError, ApiResult};
use crate::limits::Limiter;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use chatdesk_core::domain::{Party, SessionId};
use chatdesk_core::ServiceResult;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a login waits for a free password-hashing slot before it is told to come back.
const HASHING_WAIT: Duration = Duration::from_secs(5);
/// What a client told that every upload slot is taken is asked to wait.
const UPLOAD_SLOT_WAIT: Duration = Duration::from_secs(2);

pub struct Guards {
    login_per_ip: Limiter<IpAddr>,
    login_failures: Limiter<String>,
    hashing: Semaphore,
    session_opens_per_ip: Limiter<IpAddr>,
    typing_per_session: Limiter<(Party, SessionId)>,
    transcript_emails: Limiter<SessionId>,
    uploads_per_session: Limiter<(Party, SessionId)>,
    /// Uploads being read at once; each may hold up to the largest file in memory.
    uploads: Arc<Semaphore>,
    client_ip_header: Option<String>,
}

impl Guards {
    pub fn new(limits: &LimitSettings) -> Self {
        Self {
            login_per_ip: Limiter::new(limits.login_per_ip),
            login_failures: Limiter::new(limits.login_failures_per_account),
            hashing: Semaphore::new(limits.login_hashing_concurrency.max(1)),
            session_opens_per_ip: Limiter::new(limits.session_opens_per_ip),
            typing_per_session: Limiter::new(limits.typing_per_session),
            transcript_emails: Limiter::new(limits.transcript_emails_per_session),
            uploads_per_session: Limiter::new(limits.uploads_per_session),
            uploads: Arc::new(Semaphore::new(limits.concurrent_uploads.max(1))),
            client_ip_header: limits
                .client_ip_header
                .as_ref()
                .map(|h| h.to_ascii_lowercase()),
        }
    }

    /// The client's address: the peer, or behind a trusted proxy the last address the proxy
    /// appended to the configured header.
    pub fn client_ip(&self, parts: &Parts) -> IpAddr {
        let from_proxy = self.client_ip_header.as_ref().and_then(|h| {
            let value = parts.headers.get(h.as_str())?.to_str().ok()?;
            value.rsplit(',').next()?.trim().parse().ok()
        });
        from_proxy.unwrap_or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
        })
    }

    /// Run a password check under the login limits: attempts per address, failures per
    /// account (cleared by a success), and a bound on hashes computed at once (each holds
    /// argon2's memory).
    pub async fn login<T>(
        &self,
        ip: IpAddr,
        email: &str,
        check: impl std::future::Future<Output = ApiResult<Option<T>>>,
    ) -> ApiResult<Option<T>> {
        self.login_per_ip
            .take(&ip)
            .map_err(|wait| ApiError::rate_limited("logins from this address", wait))?;
        let account = account_key(email);
        self.login_failures
            .peek(&account)
            .map_err(|wait| ApiError::rate_limited("failed logins for this account", wait))?;
        // The semaphore is never closed: a wait that ends without a slot is the timeout.
        let _slot = tokio::time::timeout(HASHING_WAIT, self.hashing.acquire())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| ApiError::rate_limited("logins in progress", HASHING_WAIT))?;
        let found = check.await?;
        match &found {
            Some(_) => self.login_failures.clear(&account),
            None => {
                let _ = self.login_failures.take(&account);
            }
        }
        Ok(found)
    }

    /// Open (or resume) a session for this address: refused once its allowance of new
    /// sessions is spent; only a session that is new counts against it.
    pub async fn open_session<T>(
        &self,
        ip: IpAddr,
        open: impl std::future::Future<Output = ServiceResult<(T, bool)>>,
    ) -> ApiResult<(T, bool)> {
        self.session_opens_per_ip
            .peek(&ip)
            .map_err(|wait| ApiError::rate_limited("sessions opened from this address", wait))?;
        let (opened, is_new) = open.await?;
        if is_new {
            let _ = self.session_opens_per_ip.take(&ip);
        }
        Ok((opened, is_new))
    }

    /// One more transcript emailed for `session`, or `429` until the bucket refills.
    pub fn transcript_email(&self, session: SessionId) -> ApiResult<()> {
        self.transcript_emails
            .take(&session)
            .map_err(|wait| ApiError::rate_limited("transcripts emailed for this session", wait))
    }

    /// Room to read one more upload from `party` into `session`: within its rate and one of
    /// the node's upload slots (held until the returned permit drops), or `429`.
    pub fn upload(&self, party: &Party, session: SessionId) -> ApiResult<OwnedSemaphorePermit> {
        let slot = self
            .uploads
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::rate_limited("uploads in progress", UPLOAD_SLOT_WAIT))?;
        self.uploads_per_session
            .take(&(party.clone(), session))
            .map_err(|wait| ApiError::rate_limited("uploads into this session", wait))?;
        Ok(slot)
    }

    /// One more typing notice from `party` in `session`, or `429` until the bucket refills.
    pub fn typing(&self, party: &Party, session: SessionId) -> ApiResult<()> {
        self.typing_per_session
            .take(&(party.clone(), session))
            .map_err(|wait| ApiError::rate_limited("typing notices in this session", wait))
    }
}

/// Emails compare without case or surrounding space; a long one is cut, so a key's size is
/// bounded whatever was sent.
fn account_key(email: &str) -> String {
    email
        .trim()
        .chars()
        .take(254)
        .collect::<String>()
        .to_lowercase()
}

/// The client's address, for a handler.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<crate::state::AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(state.guards.client_ip(parts)))
    }
}
