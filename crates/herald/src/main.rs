//! `herald`: the binary. All the work is in the `herald-server` library.

// glibc's malloc spent about a tenth of the delivery path's CPU in
// free/consolidate under load (see docs/PERFORMANCE.md); mimalloc keeps
// per-thread free lists that suit many short-lived request buffers.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    herald_server::cli::run().await
}
