//! `herald`: the binary. All the work is in the `herald-server` library.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    herald_server::cli::run().await
}
