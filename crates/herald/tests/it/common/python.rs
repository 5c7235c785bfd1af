//! The Python interpreter of the test support programs
//! (`tests/support/*.py`): the virtual environment `scripts/test` builds
//! from `tests/support/requirements.txt`, never whatever `python3` the
//! machine happens to have, so every run has the same pinned packages.

use std::path::PathBuf;

/// Names the interpreter; `scripts/test` sets it.
const PYTHON_VAR: &str = "HERALD_TEST_PYTHON";

/// The interpreter to run support programs with: `HERALD_TEST_PYTHON`,
/// else the environment an earlier `scripts/test` left in the target
/// directory (so a plain `cargo test` works after one run). Fails, saying
/// to run `scripts/test`, when there is neither.
pub(crate) fn interpreter() -> PathBuf {
    if let Some(python) = std::env::var_os(PYTHON_VAR).filter(|p| !p.is_empty()) {
        let python = PathBuf::from(python);
        assert!(
            python.is_file(),
            "{PYTHON_VAR}={} does not exist: run scripts/test, which creates the \
             Python test environment",
            python.display()
        );
        return python;
    }
    let default = default_environment();
    assert!(
        default.is_file(),
        "\nThe Python test environment is missing (no {PYTHON_VAR}, no {}).\n\
         Run scripts/test once: it creates it from tests/support/requirements.txt.\n",
        default.display()
    );
    default
}

/// `target/test-venv/bin/python`, where `scripts/test` puts it: beside
/// the directory cargo gives integration tests for scratch files.
fn default_environment() -> PathBuf {
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    scratch
        .parent()
        .unwrap_or(&scratch)
        .join("test-venv")
        .join("bin")
        .join("python")
}
