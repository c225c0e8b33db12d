//! The store is chosen at run time from the database URL's scheme.

use crate::config::Settings;
use chatdesk_core::store::Store;
use chatdesk_store_postgres::PgStore;
use chatdesk_store_sqlite::{Durability, SqliteStore};
use std::sync::Arc;

#[derive(Clone)]
pub enum Backend {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Backend {
    /// Connect and migrate.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let url = settings.database_url.as_str();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(PgStore::connect(url, None).await?))
        } else if url.starts_with("sqlite:") {
            let durability = settings
                .sqlite_durability
                .parse::<Durability>()
                .map_err(anyhow::Error::msg)?;
            Ok(Self::Sqlite(SqliteStore::connect(url, durability).await?))
        } else {
            anyhow::bail!("database URL must start with sqlite: or postgres://, got {url:?}")
        }
    }

    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(s) => Arc::new(s.clone()),
            Self::Postgres(s) => Arc::new(s.clone()),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(s) => s.close().await,
            Self::Postgres(s) => s.close().await,
        }
    }
}

/// The HS256 secret: configured, or generated once and kept in the database.
pub async fn jwt_secret(settings: &Settings, store: &dyn Store) -> anyhow::Result<String> {
    match &settings.jwt_secret {
        Some(s) if !s.is_empty() => Ok(s.clone()),
        _ => Ok(store
            .server_secret("jwt_hs256", &crate::auth::api_keys::random_secret)
            .await?),
    }
}
