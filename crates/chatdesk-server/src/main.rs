use clap::Parser;
use tracing_subscriber::EnvFilter;

/// glibc's malloc was a fifth of the server's CPU under load (a page of 50 messages, a new
/// session: many small short-lived allocations across two worker threads, with
/// `malloc_consolidate` and chunk unlinking on every free of a large buffer); mimalloc's
/// per-thread free lists take most of that away.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = chatdesk_server::cli::Cli::parse();
    let json = std::env::var("CHATDESK_LOG_JSON").is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    });
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Logs go to stderr so that commands like `chatdesk token` print only their result.
    // Colour only for a person at a terminal, not in a file or a pipe.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    chatdesk_server::cli::run(cli).await
}
