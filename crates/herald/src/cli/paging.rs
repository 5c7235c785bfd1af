//! `--limit` and `--cursor`, shared by every list.

use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct PageArgs {
    /// Items per page (1–250, default 50).
    #[arg(long)]
    pub(crate) limit: Option<u32>,
    /// Continue after a previous page (its `next_cursor`).
    #[arg(long)]
    pub(crate) cursor: Option<String>,
}
