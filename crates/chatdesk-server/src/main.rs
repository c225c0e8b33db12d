use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = chatdesk_server::cli::Cli::parse();
    let json = std::env::var("CHATDESK_LOG_JSON").is_ok_and(|v| v == "true" || v == "1");
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Logs go to stderr so that commands like `chatdesk token` print only their result.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    chatdesk_server::cli::run(cli).await
}
