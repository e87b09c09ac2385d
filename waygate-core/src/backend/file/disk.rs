//! The file on disk: what identifies a version without reading it, looking for changes, and
//! atomic replacement (temp file, fsync, rename, directory sync).

use super::document::{digest, parse, Document};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// Makes temp file names unique between the instances of one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// What identifies one version of the file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    pub(super) len: u64,
    pub(super) modified: Option<SystemTime>,
    /// Device, inode and change time: an atomic replace gives a new inode, and the change
    /// time moves on every write even when the modification time is set back.
    #[cfg(unix)]
    pub(super) node: (u64, u64, i64, i64),
}

impl Stamp {
    pub(super) fn of(meta: &fs::Metadata) -> Self {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            node: (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// A version of the file this instance read or wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Seen {
    pub(super) stamp: Stamp,
    pub(super) hash: u64,
}

/// What the file holds compared with the version last seen.
#[derive(Debug)]
pub(super) enum Observed {
    /// Same metadata (or still missing).
    Unchanged,
    /// The file no longer exists.
    Missing,
    /// New metadata, same bytes.
    Same(Seen),
    /// Other bytes.
    Content {
        seen: Seen,
        parsed: Result<Document, String>,
    },
}

/// Looks at the file; reads and parses it only when its metadata changed since `seen`.
pub(super) fn observe(path: &Path, seen: Option<Seen>) -> io::Result<Observed> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(match seen {
                None => Observed::Unchanged,
                Some(_) => Observed::Missing,
            });
        }
        Err(e) => return Err(e),
    };
    // Metadata before content: a writer racing this read leaves newer metadata than the
    // bytes read, which only causes one more read later, never a missed change.
    let meta = file.metadata()?;
    let stamp = Stamp::of(&meta);
    if seen.is_some_and(|s| s.stamp == stamp) {
        return Ok(Observed::Unchanged);
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let hash = digest(&bytes);
    let now = Seen { stamp, hash };
    if seen.is_some_and(|s| s.hash == hash) {
        return Ok(Observed::Same(now));
    }
    Ok(Observed::Content {
        seen: now,
        parsed: parse(&bytes),
    })
}

/// Atomically replaces the file at `path` with `bytes`, returning the new file's metadata.
pub(super) fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<Stamp> {
    // Write through a symlink to its target rather than replacing the link.
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")
    })?;
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let temp = dir.join(temp_name);
    let result = write_and_rename(&temp, &target, bytes);
    if result.is_err() {
        // Best effort: the temp file is useless now.
        let _ = fs::remove_file(&temp);
    }
    let stamp = result?;
    sync_dir(&dir);
    Ok(stamp)
}

fn write_and_rename(temp: &Path, target: &Path, bytes: &[u8]) -> io::Result<Stamp> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(temp)?;
    if let Ok(meta) = fs::metadata(target) {
        // Keep the file's permissions across the replace.
        file.set_permissions(meta.permissions())?;
    }
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(temp, target)?;
    // Read through our own handle, after the rename (which may set the change time): the
    // metadata is our file's even if another writer replaces the target right away.
    Ok(Stamp::of(&file.metadata()?))
}

/// Makes the rename durable. The new content is already in place, so a failure is only
/// logged.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Err(error) = File::open(dir).and_then(|d| d.sync_all()) {
        tracing::warn!(%error, dir = %dir.display(), "waygate: cannot fsync the state file's directory");
    }
    #[cfg(not(unix))]
    let _ = dir;
}
