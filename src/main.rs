#[tokio::main]
async fn main() {
    outreach::cli::init_logging();
    std::process::exit(outreach::cli::run().await);
}
