//! `herald`: the command line. `serve` and `migrate` run the application
//! from the `herald-server` library; `bench` and `receive` are tools around
//! it; the resource commands (`webhooks`, `events`, …) drive a server
//! through `herald-client`, over HTTP, as any client would.

mod bench;
mod cli;
mod receive;

// glibc's malloc spent about a tenth of the delivery path's CPU in
// free/consolidate under load (see docs/PERFORMANCE.md); mimalloc keeps
// per-thread free lists that suit many short-lived request buffers.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    cli::run().await
}
