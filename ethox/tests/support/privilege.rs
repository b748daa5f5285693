//! Shared by the privileged tests of `ethox` (`tests/sys_net`) and of
//! the examples (`examples/tests/common`): whether a test may run (root
//! and its tools, or a failure under `ETHOX_REQUIRE_NET=1`), and running
//! a command that must succeed. Included with `#[path]`, not a test
//! target of its own.
#![allow(dead_code)]

use std::process::{Command, Output};

/// Whether the test can run: root, and the `tools` on the PATH. If not,
/// prints why and returns `false`, unless `ETHOX_REQUIRE_NET=1`, where a
/// skip is a failure.
pub fn can_run(tools: &[&str]) -> bool {
    let require = std::env::var("ETHOX_REQUIRE_NET").is_ok_and(|v| v == "1");
    let missing = if !is_root() {
        Some("root".to_string())
    } else {
        tools
            .iter()
            .find(|tool| !have(tool))
            .map(|tool| format!("`{tool}`"))
    };
    match missing {
        None => true,
        Some(what) if require => panic!("ETHOX_REQUIRE_NET=1 but this test needs {what}"),
        Some(what) => {
            eprintln!("skipped: needs {what}");
            false
        }
    }
}

/// Whether the effective user is root (the second `Uid:` field).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool} >/dev/null")])
        .status()
        .is_ok_and(|status| status.success())
}

/// Runs `program args`, panics with its output unless it succeeds.
pub fn run(program: &str, args: &[&str]) -> Output {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("{program}: {err}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
