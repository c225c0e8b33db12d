//! The `chatdesk` command line. These command and flag names are public interface.

use crate::app;
use crate::auth::{accounts, api_keys};
use crate::backend::Backend;
use crate::config::Settings;
use chatdesk_core::domain::{BusinessId, UserId};
use chatdesk_core::identity::Role;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "chatdesk",
    version,
    about = "Chat sessions over REST, Socket.IO and SSE"
)]
pub struct Cli {
    /// Configuration file (default: ./chatdesk.toml if it exists).
    #[arg(long, global = true, env = "CHATDESK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://path, sqlite::memory: or postgres://…
    #[arg(long, global = true)]
    pub database: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        /// Development mode: believe unproven user ids; anonymous callers are `demo_user`.
        #[arg(long)]
        dev: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage built-in accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print a JWT signed with the configured secret, for trying things.
    Token {
        #[arg(long)]
        sub: String,
        /// customer, agent, admin or service.
        #[arg(long, default_value = "customer")]
        role: String,
        /// Tenant the token is scoped to.
        #[arg(long)]
        business: Option<String>,
        /// Lifetime: 90s, 15m, 1h, 7d.
        #[arg(long, default_value = "1h")]
        ttl: String,
    },
    /// Manage API keys for back ends and bots.
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a built-in account.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        /// customer, agent or admin.
        #[arg(long, default_value = "customer")]
        role: String,
        #[arg(long)]
        business: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key for a tenant; it is printed once and stored only as a hash.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = BusinessId::DEFAULT)]
        business: String,
    },
    /// List keys not revoked: id, tenant, name, created.
    List {
        /// Only this tenant's.
        #[arg(long)]
        business: Option<String>,
    },
    /// Revoke a key by its id (from `list`): requests with it are refused from now on.
    Revoke { id: i64 },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Some(db) = cli.database {
        settings.database_url = db;
    }
    match cli.command {
        Command::Serve { listen, dev } => {
            if let Some(l) = listen {
                settings.listen = l;
            }
            settings.dev |= dev;
            let listener = tokio::net::TcpListener::bind(&settings.listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.listen))?;
            app::launch(settings, listener, app::shutdown_signal()).await
        }
        Command::Migrate => {
            let backend = Backend::open(&settings).await?;
            backend.close().await;
            println!("migrations applied ({})", backend.name());
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    password,
                    role,
                    business,
                    name,
                },
        } => {
            let backend = Backend::open(&settings).await?;
            let account = accounts::add(
                backend.store().as_ref(),
                &email,
                &password,
                &role,
                business.as_deref(),
                name.as_deref(),
            )
            .await;
            backend.close().await;
            let account = account.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created {} account {} for {}",
                account.role.as_str(),
                account.id,
                account.email.as_str()
            );
            Ok(())
        }
        Command::Token {
            sub,
            role,
            business,
            ttl,
        } => {
            let sub = UserId::parse(&sub)?;
            let role = Role::parse(&role)?;
            let business = business.as_deref().map(BusinessId::parse).transpose()?;
            let ttl = crate::auth::jwt::parse_ttl(&ttl).map_err(anyhow::Error::msg)?;
            refuse_a_token_no_server_would_accept(&settings)?;
            let backend = Backend::open(&settings).await?;
            let keys = app::jwt_keys(&settings, backend.store().as_ref()).await;
            backend.close().await;
            println!(
                "{}",
                keys?.issue(
                    sub.as_str(),
                    role,
                    business.as_ref().map(|b| b.as_str()),
                    ttl
                )
            );
            Ok(())
        }
        Command::ApiKey {
            command: ApiKeyCommand::Add { name, business },
        } => {
            let business = BusinessId::parse(&business)?;
            let key = api_keys::generate();
            let backend = Backend::open(&settings).await?;
            let stored = backend
                .store()
                .create_api_key(&name, &business, &api_keys::hash(&key))
                .await;
            backend.close().await;
            stored?;
            println!("{key}");
            Ok(())
        }
        Command::ApiKey {
            command: ApiKeyCommand::List { business },
        } => {
            let business = business.as_deref().map(BusinessId::parse).transpose()?;
            let backend = Backend::open(&settings).await?;
            let keys = backend.store().list_api_keys(business.as_ref()).await;
            backend.close().await;
            for k in keys? {
                println!(
                    "{}\t{}\t{}\t{}",
                    k.id,
                    k.business_id,
                    k.name,
                    k.created_at.to_rfc3339()
                );
            }
            Ok(())
        }
        Command::ApiKey {
            command: ApiKeyCommand::Revoke { id },
        } => {
            let backend = Backend::open(&settings).await?;
            let revoked = backend
                .store()
                .revoke_api_key(None, id, chatdesk_core::clock::now())
                .await;
            backend.close().await;
            anyhow::ensure!(revoked?, "no API key {id} (or it was already revoked)");
            println!("revoked API key {id}");
            Ok(())
        }
    }
}

/// With no `jwt_secret`, a token is signed with the secret the server keeps in its database:
/// where that database does not exist yet (or lives only in memory), a token minted now would
/// be signed with a secret no server uses.
fn refuse_a_token_no_server_would_accept(settings: &Settings) -> anyhow::Result<()> {
    if settings
        .jwt_secret
        .as_deref()
        .is_some_and(|s| !s.is_empty())
    {
        return Ok(());
    }
    let url = settings.database_url.as_str();
    if url.starts_with("postgres") {
        return Ok(());
    }
    if url.contains(":memory:") {
        anyhow::bail!(
            "no jwt_secret is set and the database is in memory: a token signed now would be \
             refused by any server; set CHATDESK_JWT_SECRET (the server must use the same)"
        );
    }
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if !std::path::Path::new(path).exists() {
        anyhow::bail!(
            "no jwt_secret is set and there is no database at {path}: start `chatdesk serve` \
             once there (it creates the database and its secret), pass --database, or set \
             CHATDESK_JWT_SECRET (the server must use the same)"
        );
    }
    Ok(())
}
