//! `herald`: the command line. `serve` and `migrate` run the application
//! from the `herald-server` library; `bench`, `receive`, `listen`,
//! `signature`, `mcp` and the resource commands (`webhooks`, `events`, …)
//! are tools around it that talk to a server only over HTTP, as any client
//! would.

mod bench;
mod cli;
mod listen;
mod receive;
mod signature;

// glibc's malloc spent about a tenth of the delivery path's CPU in
// free/consolidate under load (see docs/PERFORMANCE.md); mimalloc keeps
// per-thread free lists that suit many short-lived request buffers.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    cli::run().await
}
