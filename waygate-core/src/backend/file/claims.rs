//! One-off jobs claimed in claim files beside the state file: exactly one process sharing
//! the file wins each job.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// The claim file's name for `id`: its FNV-1a hash, the same in every process and release
/// (unlike std's hasher), so processes built apart still meet on one file.
pub(super) fn claim_name(id: &str) -> String {
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// Creates `file` exclusively, holding the time its claim lapses; `false` when another
/// claim holds it and has not lapsed. A lapsed claim is removed and claimed afresh.
pub(super) fn claim_file(file: &Path, ttl: Duration) -> io::Result<bool> {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir)?;
    }
    for _ in 0..2 {
        match OpenOptions::new().write(true).create_new(true).open(file) {
            Ok(mut claimed) => {
                write!(claimed, "{}", (now + ttl).as_millis())?;
                return Ok(true);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let lapses = fs::read_to_string(file)
                    .ok()
                    .and_then(|text| text.trim().parse::<u128>().ok());
                // A claim being written (no content yet) still holds.
                if lapses.is_none_or(|at| at > now.as_millis()) {
                    return Ok(false);
                }
                match fs::remove_file(file) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}
