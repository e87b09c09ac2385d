//! The stored format has one home: no crate of the workspace but `waygate-core` spells a
//! stored name in its code. Others name them through `waygate_core::stored` (`Sentinel`,
//! `RouteKey`, the audit-path constants), so a change of format is a change in one module.

use std::path::{Path, PathBuf};

/// Pieces of stored names that only `waygate-core/src/stored/` may write out.
const STORED_NAMES: [&str; 11] = [
    "__waygate:",
    ":svc_global:",
    ":svc_rl:",
    ":rl_off:",
    ":revoked:",
    "bypass_revoked__",
    "\"__global__\"",
    "\"__global_rl__\"",
    "\"__auth__\"",
    "\"__bypass__\"",
    "waygate:ratelimit:",
];

/// The source folders of every other crate (their tests, and unit tests at the end of a
/// file, may spell the wire format: that is what they check).
const OTHER_SOURCES: [&str; 5] = [
    "waygate/src",
    "waygate-actix/src",
    "waygate-cli/src",
    "waygate-macros/src",
    "examples",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // An example's tests check the wire format, as the crates' tests do.
            if path.file_name().is_some_and(|n| n != "tests") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_crate_but_the_core_spells_a_stored_name() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    for dir in OTHER_SOURCES {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "the workspace was not found: {files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in text.lines().enumerate() {
            // Unit tests check the wire format, as integration tests do.
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            if line.trim_start().starts_with("//") {
                continue;
            }
            for name in STORED_NAMES {
                if line.contains(name) {
                    found.push(format!(
                        "{}:{}: {}",
                        file.display(),
                        number + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "stored names spelled outside waygate-core::stored (use Sentinel, RouteKey or the \
         stored constants):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_core_spells_them_in_stored_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let stored = src.join("stored");
    let mut found = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&stored)) {
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.trim_start();
            // Unit tests check the wire format, as integration tests do.
            if code.starts_with("#[cfg(test)]") {
                break;
            }
            if code.starts_with("//") {
                continue;
            }
            if STORED_NAMES.iter().any(|name| code.contains(name)) {
                found.push(format!("{}:{}: {}", file.display(), number + 1, code));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
