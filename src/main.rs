use std::io::IsTerminal;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OUTREACH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(outreach::DEFAULT_LOG_FILTER)),
        )
        // Colour for a person at a terminal; plain text for log files and journald.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    std::process::exit(outreach::cli::run().await);
}
