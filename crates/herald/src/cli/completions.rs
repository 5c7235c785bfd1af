//! `herald completions bash|zsh|fish`: a completion script for the shell,
//! generated from the same definition the parser uses.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;
use super::failure::Failure;

#[derive(Debug, Args)]
pub(crate) struct Completions {
    /// The shell: bash, zsh, fish (also elvish, powershell).
    shell: Shell,
}

impl Completions {
    pub(crate) fn run(self) -> Result<(), Failure> {
        let mut command = Cli::command();
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut command, "herald", &mut script);
        super::output::print(&String::from_utf8_lossy(&script))
    }
}
