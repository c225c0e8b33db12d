//! Start and stop the server: `launch` takes settings, a bound listener and a shutdown signal,
//! so tests bind port 0 and stop cleanly, and `main` binds the configured address.

use crate::auth::jwt::JwtKeys;
use crate::auth::Authenticator;
use crate::backend::{self, Backend};
use crate::config::Settings;
use crate::http;
use crate::metrics::Metrics;
use crate::realtime::hub::Hub;
use crate::realtime::socketio::{self, Realtime};
use crate::state::AppState;
use crate::webhooks;
use chatdesk_bus_redis::{RedisBus, RedisBusConfig};
use chatdesk_core::bus::{Bus, InProcessBus, Received};
use chatdesk_core::committer::{Committer, CommitterConfig};
use chatdesk_core::files::Links;
use chatdesk_core::service::{FileSetup, Limits, Search, Stats, UseCases, Webhooks};
use chatdesk_core::store::remembered::Remembered;
use socketioxide::SocketIo;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The JWT keys from settings (and the database, for a generated secret).
pub async fn jwt_keys(
    settings: &Settings,
    store: &dyn chatdesk_core::store::Store,
) -> anyhow::Result<JwtKeys> {
    let keys = JwtKeys::new(&backend::jwt_secret(settings, store).await?)
        .with_leeway(settings.jwt_leeway_secs);
    match (
        &settings.jwt_public_key_file,
        &settings.jwt_public_key_algorithm,
    ) {
        (Some(file), Some(alg)) => keys.with_public_key(alg, &std::fs::read(file)?),
        (Some(_), None) => {
            anyhow::bail!("jwt_public_key_file needs jwt_public_key_algorithm (RS256 or ES256)")
        }
        _ => Ok(keys),
    }
}

/// Serve until `shutdown` resolves, then drain: in-flight requests finish, the committer
/// writes what is queued, and the database is closed.
pub async fn launch(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if settings.dev {
        warn_dev_mode();
    }
    if settings.bus_url.is_some() && !settings.database_url.starts_with("postgres") {
        anyhow::bail!(
            "bus_url is for several nodes on one PostgreSQL database; a SQLite file belongs to one node"
        );
    }
    let backend = Backend::open(&settings).await?;
    // What is read often and changes seldom is remembered around the store; what other
    // nodes change is forgotten as the bus tells of it (`forget_what_others_change`).
    let remembered = Arc::new(Remembered::new(backend.store()));
    let store: Arc<dyn chatdesk_core::store::Store> = remembered.clone();
    let metrics = Arc::new(Metrics::new());
    // The hub must never fall a whole bus behind (it would drop every subscriber to make
    // them replay). One commit publishes up to a batch of events at once, and on a loaded
    // machine the hub task can wait its turn for a while: at 4,096 events the fanout bench
    // saw it fall behind. A slot is a few dozen bytes, so the bus holds 65,536 events (64
    // batches of the default 1,024, or more if batches are larger).
    let bus_capacity = settings.commit_batch_max.saturating_mul(64).max(65_536);
    let (bus, bus_tasks): (Arc<dyn Bus>, _) = match &settings.bus_url {
        None => (Arc::new(InProcessBus::new(bus_capacity)), None),
        Some(url) => {
            let config = RedisBusConfig {
                outgoing: bus_capacity,
                fanout: bus_capacity,
            };
            let (bus, tasks) = RedisBus::connect(url, config)
                .await
                .map_err(|e| anyhow::anyhow!("bus_url {url}: {e}"))?;
            tracing::info!(node = %bus.node(), "events cross nodes through Redis");
            (bus, Some(tasks))
        }
    };
    let (committer, committer_task) = Committer::spawn(
        store.clone(),
        bus.clone(),
        metrics.clone(),
        CommitterConfig {
            max_batch: settings.commit_batch_max,
            // On the shared runtime for both stores: SQLite's writer is already a thread of
            // its own, and one more thread of the committer's made the tail at full load
            // longer (docs/benchmarks.md).
            ..CommitterConfig::default()
        },
    );
    let limits = Limits {
        max_content_chars: settings.max_message_chars,
        max_webhooks_per_tenant: settings.max_webhooks_per_tenant,
        edit_window_secs: settings.message_edit_window_secs,
        ..Limits::default()
    };
    let keys = jwt_keys(&settings, store.as_ref()).await?;
    let links = Links::new(
        store
            .server_secret("attachment_links", &crate::auth::api_keys::random_secret)
            .await?
            .as_bytes(),
        settings.attachments.link_ttl_secs,
    );
    let hub = Hub::new(settings.realtime_queue, links.clone());
    let hub_task = hub.clone().run(bus.as_ref());
    // One node writes alone: what it remembers it changes itself.
    let cache_task = settings
        .bus_url
        .is_some()
        .then(|| forget_what_others_change(bus.as_ref(), remembered));
    let draining = committer.clone();
    let files = FileSetup {
        files: crate::files::open(&settings)?,
        rules: settings.attachments.rules(),
        links,
    };
    let uses = UseCases::new(store.clone(), bus.clone(), committer, limits, files);
    let state = AppState {
        sessions: uses.sessions,
        activity: uses.activity,
        messages: uses.messages,
        routing: uses.routing,
        directory: uses.directory,
        contacts: uses.contacts,
        notes: uses.notes,
        ratings: uses.ratings,
        canned: uses.canned,
        handoffs: uses.handoffs,
        labels: uses.labels,
        hours: uses.hours,
        attachments: uses.attachments,
        webhooks: Arc::new(Webhooks::new(store.clone(), limits)),
        stats: Arc::new(Stats::new(store.clone(), limits)),
        search: Arc::new(Search::new(store.clone(), limits)),
        auth: Arc::new(Authenticator::new(keys, store.clone(), settings.trust())),
        store,
        metrics,
        hub: hub.clone(),
        login_ttl: Duration::from_secs(settings.login_token_ttl_secs),
        guards: Arc::new(crate::guards::Guards::new(&settings.limits)),
        egress: webhooks::egress::EgressPolicy::new(&settings.webhook_allowed_networks)
            .map_err(|e| anyhow::anyhow!("webhook_allowed_networks: {e}"))?,
        settings: Arc::new(settings.clone()),
        mailer: settings
            .smtp_url
            .as_deref()
            .map(|url| crate::mail::Mailer::new(url, &settings.mail_from).map(Arc::new))
            .transpose()?,
    };
    let sweeper = spawn_idle_sweeper(&state);
    let purger = spawn_file_purger(&state);
    let hours_router = spawn_hours_router(&state);
    let heartbeat = spawn_heartbeat(&state);
    let wake = Arc::new(tokio::sync::Notify::new());
    let dispatcher = webhooks::spawn_dispatcher(
        bus.as_ref(),
        state.webhooks.clone(),
        wake.clone(),
        hub.links.clone(),
    );
    let deliverer = webhooks::Deliverer::new(
        state.webhooks.clone(),
        Duration::from_secs(settings.webhook_timeout_secs),
        Duration::from_millis(settings.webhook_retry_base_ms),
        settings.webhook_max_attempts,
        wake,
        state.egress.clone(),
    )
    .spawn();
    let realtime = Realtime {
        messages: state.messages.clone(),
        contacts: state.contacts.clone(),
        directory: state.directory.clone(),
        auth: state.auth.clone(),
        hub: hub.clone(),
        events: settings.limits.socket_events,
        unauthenticated_for: Duration::from_secs(settings.limits.unauthenticated_socket_secs),
    };
    // Small WebSocket read buffers keep an idle connection cheap (a frame larger than the
    // buffer grows it for that frame); a client that cannot take its packets fast enough
    // fills its bounded buffer and is disconnected.
    let (io_layer, io) = SocketIo::builder()
        .with_state(realtime)
        .ws_read_buffer_size(1024)
        .max_buffer_size(256)
        .max_payload(settings.max_body_bytes as u64)
        .build_layer();
    socketio::register(&io);
    if settings.echo_namespace {
        #[cfg(feature = "echo")]
        crate::realtime::echo::register(&io);
        #[cfg(not(feature = "echo"))]
        anyhow::bail!("echo_namespace needs a server built with the `echo` feature (the bench's)");
    }
    let cors = http::cors(&settings.cors_allowed_origins)?;
    let router = http::router(state)
        .layer(io_layer)
        .layer(tower::util::MapRequestLayer::new(
            crate::realtime::upgrade_head::own_socket_io_head,
        ));
    // Outermost, so that Socket.IO's polling requests get the same answer as the API's.
    let router = match cors {
        Some(layer) => router.layer(layer),
        None => router,
    };
    tracing::info!(addr = %listener.local_addr()?, backend = backend.name(), "chatdesk listening");
    let grace = Duration::from_secs(settings.shutdown_grace_secs);
    let stop_realtime = {
        let hub = hub.clone();
        async move {
            shutdown.await;
            // What clients sent before the stop is committed and acknowledged first; then
            // they reconnect (to another node) and replay from their last seq.
            let quiet = Duration::from_millis(100);
            if tokio::time::timeout(grace, draining.settled(quiet))
                .await
                .is_err()
            {
                tracing::warn!("messages were still arriving when the grace period ended");
            }
            drop(draining);
            // Long-lived streams would hold a graceful shutdown open forever: end every feed
            // (SSE streams finish; clients reconnect and replay) and close the sockets.
            hub.close_all();
            io.close().await;
        }
    };
    let limits = crate::serve::ConnectionLimits {
        per_ip: settings.limits.max_connections_per_ip,
        header_timeout: Duration::from_secs(settings.limits.request_head_timeout_secs.max(1)),
    };
    crate::serve::serve(listener, router, limits, stop_realtime, grace).await;
    hub_task.abort();
    if let Some(task) = cache_task {
        task.abort();
    }
    // Background tasks hold handles to the service (and so to the committer): stop them
    // first. Interrupted webhook attempts are handed back, due at the next start.
    let jobs = [sweeper, purger, hours_router].into_iter().flatten();
    for task in jobs.chain([heartbeat, dispatcher]) {
        task.abort();
        let _ = task.await;
    }
    deliverer.stop().await;

    // Every handle to the committer was in the router, now dropped: the committer finishes
    // what is queued and stops.
    if tokio::time::timeout(grace, committer_task).await.is_err() {
        tracing::warn!("the committer did not drain within the grace period");
    }
    if let Some(tasks) = bus_tasks {
        tasks.publisher.abort();
        tasks.receiver.abort();
    }
    backend.close().await;
    tracing::info!("chatdesk stopped");
    Ok(())
}

/// Run `job` every `secs` seconds (never when `secs` is 0), the first time at once.
fn every<F, Fut>(secs: u64, mut job: F) -> Option<tokio::task::JoinHandle<()>>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    if secs == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            job().await;
        }
    }))
}

/// The scheduled half of seed 003's cleanup: end sessions idle past the timeout, everywhere.
fn spawn_idle_sweeper(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let (activity, idle) = (
        state.activity.clone(),
        Duration::from_secs(state.settings.idle_timeout_secs),
    );
    every(state.settings.idle_sweep_interval_secs, move || {
        let activity = activity.clone();
        async move {
            match activity.close_idle_everywhere(idle).await {
                Ok(closed) if !closed.is_empty() => {
                    tracing::info!(count = closed.len(), "closed idle sessions")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "idle-session sweep failed"),
            }
        }
    })
}

/// Remove the files of sessions deleted longer ago than their retention, now and then.
fn spawn_file_purger(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let attachments = state.attachments.clone();
    every(state.settings.attachments.purge_interval_secs, move || {
        let attachments = attachments.clone();
        async move {
            match attachments.purge_deleted().await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "removed deleted sessions' files"),
                Err(e) => tracing::warn!(error = %e, "removing deleted sessions' files failed"),
            }
        }
    })
}

/// Route the queues business hours have opened since the last change that routed them.
fn spawn_hours_router(state: &AppState) -> Option<tokio::task::JoinHandle<()>> {
    let hours = state.hours.clone();
    every(state.settings.hours_routing_interval_secs, move || {
        let hours = hours.clone();
        async move {
            match hours.route_open_queues().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(assigned = n, "routed queues business hours opened"),
                Err(e) => tracing::warn!(error = %e, "routing opened queues failed"),
            }
        }
    })
}

/// Keep the remembered store coherent with what every node writes: the bus tells of it.
fn forget_what_others_change(
    bus: &dyn Bus,
    remembered: Arc<Remembered>,
) -> tokio::task::JoinHandle<()> {
    let mut events = bus.subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Received::Event(event) => remembered.heard(&event),
                Received::Missed(_) => remembered.forget_all(),
                Received::Closed => break,
            }
        }
    })
}

/// This node's sign of life, and the end of counting connections of nodes that died.
fn spawn_heartbeat(state: &AppState) -> tokio::task::JoinHandle<()> {
    let expiry = Duration::from_secs(state.settings.node_expiry_secs.max(1));
    let directory = state.directory.clone();
    let job = every(state.settings.node_heartbeat_secs.max(1), move || {
        let directory = directory.clone();
        async move {
            match directory.heartbeat(expiry).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(nodes = n, "stopped counting silent nodes' connections"),
                Err(e) => tracing::warn!(error = %e, "node heartbeat failed"),
            }
        }
    });
    job.expect("the heartbeat runs at least every second")
}

fn warn_dev_mode() {
    let banner = "\
!!! chatdesk is running in --dev mode. NOT FOR PRODUCTION. !!!
!!!  - user ids asserted without proof are believed          !!!
!!!  - requests without any identity act as `demo_user`      !!!";
    eprintln!("{banner}");
    tracing::warn!("dev mode: unverified identities are believed");
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received: draining");
}
