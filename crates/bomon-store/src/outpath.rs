//! Where bomon writes its outputs, and how, so that no output ever destroys
//! anything: not a store, not a user's own files, not a previous output.
//!
//! - An output path (`--out`, a directory or a file) inside a store, or a
//!   store inside it, is refused.
//! - A directory output ([`stage_dir`]) is written whole in a staging
//!   directory beside the target and swapped in with one atomic rename
//!   (`renameat2(RENAME_EXCHANGE)`): a reader, a crash or a `kill -9` sees
//!   the complete previous output or the complete new one, never a mix.
//!   A bomon output is recognised by its marker file [`MARKER`], which lists
//!   the files bomon wrote. A non-empty directory that is not one is refused
//!   unless `--force`; then only bomon's own file names are written into it,
//!   one by one, and nothing else is touched or removed.
//! - A file output ([`AtomicFile`]) is written to a temporary file in the
//!   same directory (created exclusively, owner-only, never through a
//!   symlink) and renamed over the target when complete.

use std::ffi::CString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// The marker file of a bomon output directory: a JSON object whose `files`
/// lists every file bomon wrote there (relative paths).
pub const MARKER: &str = ".bomon-output.json";

fn usage(msg: String) -> Error {
    Error::Usage(msg)
}

/// `path` made absolute and free of `.`/`..` and symlinks in the part that
/// exists (the rest is appended as given).
fn resolve(path: &Path) -> Result<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io(path, e))?
            .join(path)
    };
    let mut existing = abs.clone();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(c) => {
                let mut out = c;
                for r in rest.iter().rev() {
                    match Path::new(r).components().next() {
                        Some(Component::ParentDir) => {
                            out.pop();
                        }
                        Some(Component::CurDir) | None => {}
                        _ => out.push(r),
                    }
                }
                return Ok(out);
            }
            Err(_) => {
                let Some(name) = existing.file_name().map(|n| n.to_os_string()) else {
                    return Ok(abs);
                };
                rest.push(name);
                if !existing.pop() {
                    return Ok(abs);
                }
            }
        }
    }
}

/// Whether `dir` is the root of a bomon store.
pub fn is_store(dir: &Path) -> bool {
    let m = dir.join("manifest.json");
    if let Ok(mut f) = File::open(&m) {
        let mut head = vec![0u8; 4096];
        let n = io::Read::read(&mut f, &mut head).unwrap_or(0);
        if String::from_utf8_lossy(&head[..n]).contains("\"bomon-store\"") {
            return true;
        }
    }
    dir.join("lock").is_file() && dir.join("data").is_dir()
}

/// Refuses an output path that lies inside a store (or is one), or that
/// contains `store`, the store this command reads.
pub fn check_outside_stores(out: &Path, store: Option<&Path>) -> Result<()> {
    let target = resolve(out)?;
    let mut dir = Some(target.as_path());
    while let Some(d) = dir {
        if is_store(d) {
            return Err(usage(format!(
                "--out {}: that is inside the bomon store {}; bomon never writes its outputs into a store (they would replace or hide its files) - choose a path outside it",
                out.display(),
                d.display()
            )));
        }
        dir = d.parent();
    }
    if let Some(s) = store {
        let s = resolve(s)?;
        if s.starts_with(&target) {
            return Err(usage(format!(
                "--out {}: the store {} lies inside it; writing the output there could replace the store - choose a directory that does not contain the store",
                out.display(),
                s.display()
            )));
        }
    }
    Ok(())
}

/// The files bomon wrote in `dir`: its marker's list, or - for an output of
/// a bomon from before the marker - the `files` of its manifest.json (a
/// listed directory such as `charts` covers what is under it).
fn marker_files(dir: &Path) -> Option<Vec<String>> {
    let list = |text: &str, legacy: bool| -> Option<Vec<String>> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        if legacy && (v.get("engine_version").is_none() || v.get("document").is_none()) {
            return None;
        }
        v.get("files")?
            .as_array()?
            .iter()
            .map(|f| f.as_str().map(str::to_string))
            .collect()
    };
    match fs::read_to_string(dir.join(MARKER)) {
        Ok(text) => list(&text, false),
        Err(_) => list(&fs::read_to_string(dir.join("manifest.json")).ok()?, true),
    }
}

fn listed(list: &[String], path: &str) -> bool {
    list.iter().any(|l| {
        l == path
            || path
                .strip_prefix(l.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Relative paths of every file under `dir` (directories not listed).
fn walk(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let e = e.map_err(|e| Error::io(&d, e))?;
            let p = e.path();
            let ft = e.file_type().map_err(|e| Error::io(&p, e))?;
            if ft.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap_or(&p);
                out.push(rel.to_string_lossy().to_string());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// How a staged output directory will be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The whole directory is swapped in (target absent, empty, or a bomon output).
    Swap,
    /// `--force` into a directory with other files: bomon's files are moved
    /// in one by one; nothing else is touched.
    Merge,
}

/// An output directory being written: write everything into [`Staged::path`],
/// then [`Staged::publish`]. Dropped unpublished, it removes what it wrote.
#[derive(Debug)]
pub struct Staged {
    target: PathBuf,
    staging: PathBuf,
    mode: Mode,
    published: bool,
}

fn sibling(target: &Path, tag: &str) -> PathBuf {
    let name = target
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().to_string());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    target.with_file_name(format!(
        ".{name}.bomon-{tag}-{}-{nanos}",
        std::process::id()
    ))
}

/// Removes staging directories of `target` left by processes that died.
fn clean_stale(target: &Path) {
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let prefix = format!(".{}.bomon-", name.to_string_lossy());
    let Ok(rd) = fs::read_dir(if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    }) else {
        return;
    };
    for e in rd.flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        let Some(rest) = n.strip_prefix(&prefix) else {
            continue;
        };
        let pid: Option<i32> = rest.split('-').nth(1).and_then(|p| p.parse().ok());
        if let Some(pid) = pid {
            // SAFETY: kill with signal 0 only checks whether the process exists.
            let alive = unsafe { libc::kill(pid, 0) } == 0
                || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
            if !alive {
                // A previous output moved aside by the two-rename fallback of
                // a run that died before moving the new one in: put it back.
                if rest.starts_with("old-") && !target.exists() && marker_files(&e.path()).is_some()
                {
                    let _ = fs::rename(e.path(), target);
                } else {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
    }
}

/// Prepares to write the output directory `out` of a command that reads
/// `store`. Refuses an `out` inside a store or containing `store`, an `out`
/// that is a file, and a non-empty `out` that is not a previous bomon output
/// (unless `force`).
pub fn stage_dir(out: &Path, store: Option<&Path>, force: bool) -> Result<Staged> {
    check_outside_stores(out, store)?;
    clean_stale(out);
    let meta = fs::symlink_metadata(out);
    let mode = match meta {
        Err(_) => Mode::Swap,
        Ok(m) if m.file_type().is_symlink() => {
            return Err(usage(format!(
                "--out {}: is a symbolic link; give the directory itself",
                out.display()
            )))
        }
        Ok(m) if !m.is_dir() => {
            return Err(usage(format!(
                "--out {}: is a file, expected a directory",
                out.display()
            )))
        }
        Ok(_) => {
            let present = walk(out)?;
            let ours = marker_files(out);
            let foreign: Vec<&String> = match &ours {
                Some(list) => present
                    .iter()
                    .filter(|p| p.as_str() != MARKER && !listed(list, p))
                    .collect(),
                None => present.iter().collect(),
            };
            let empty_dirs_only = present.is_empty();
            if foreign.is_empty() && (ours.is_some() || empty_dirs_only) {
                Mode::Swap
            } else if force {
                Mode::Merge
            } else {
                let shown: Vec<&str> = foreign.iter().take(5).map(|s| s.as_str()).collect();
                return Err(usage(format!(
                    "--out {}: the directory holds files bomon did not write ({}{}); bomon replaces only its own outputs - choose a new or empty directory, or add --force to write bomon's files into it without touching the others",
                    out.display(),
                    shown.join(", "),
                    if foreign.len() > 5 {
                        format!(" and {} more", foreign.len() - 5)
                    } else {
                        String::new()
                    }
                )));
            }
        }
    };
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let staging = sibling(out, "new");
    fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
    Ok(Staged {
        target: out.to_path_buf(),
        staging,
        mode,
        published: false,
    })
}

fn cpath(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| usage(format!("{}: path contains a NUL byte", p.display())))
}

/// `renameat2(from, to, flags)`; `Err(None)` when the kernel or file system
/// does not support the flag.
fn rename2(from: &Path, to: &Path, flags: libc::c_uint) -> std::result::Result<(), io::Error> {
    let (a, b) = (
        cpath(from).map_err(|_| io::ErrorKind::InvalidInput)?,
        cpath(to).map_err(|_| io::ErrorKind::InvalidInput)?,
    );
    // SAFETY: two valid NUL-terminated paths; renameat2 reads them only.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            flags,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn fsync_dir(p: &Path) {
    let p = if p.as_os_str().is_empty() {
        Path::new(".")
    } else {
        p
    };
    if let Ok(d) = File::open(p) {
        let _ = d.sync_all();
    }
}

fn fsync_tree(dir: &Path) -> Result<()> {
    for rel in walk(dir)? {
        let p = dir.join(&rel);
        File::open(&p)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(&p, e))?;
        if let Some(parent) = p.parent() {
            fsync_dir(parent);
        }
    }
    fsync_dir(dir);
    Ok(())
}

/// What [`Staged::publish`] did.
#[derive(Debug, Clone)]
pub struct Published {
    /// Files of the new output, relative to it.
    pub files: Vec<String>,
    /// Where the previous output was kept, when asked to keep it.
    pub previous: Option<PathBuf>,
}

impl Staged {
    /// The directory to write the output into.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The output directory as given.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Makes the staged output the output: writes the marker, makes every
    /// file durable and swaps the directory in with one rename. The previous
    /// output is removed, or kept as `<out>.previous` when `keep_previous`.
    pub fn publish(mut self, keep_previous: bool) -> Result<Published> {
        let files = walk(&self.staging)?;
        let marker = serde_json::json!({
            "document": bomon_vocab::marking::INTERNAL_BOTH,
            "written_by": format!("bomon {}", env!("CARGO_PKG_VERSION")),
            "files": files,
        });
        fs::write(
            self.staging.join(MARKER),
            serde_json::to_string_pretty(&marker).expect("json"),
        )
        .map_err(|e| Error::io(&self.staging, e))?;
        fsync_tree(&self.staging)?;
        let parent = self
            .target
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let previous = match self.mode {
            Mode::Merge => {
                self.merge(&files)?;
                None
            }
            Mode::Swap => self.swap(keep_previous)?,
        };
        fsync_dir(&parent);
        self.published = true;
        Ok(Published { files, previous })
    }

    fn swap(&mut self, keep_previous: bool) -> Result<Option<PathBuf>> {
        const NOREPLACE: libc::c_uint = 1;
        const EXCHANGE: libc::c_uint = 2;
        let t = self.target.clone();
        let s = self.staging.clone();
        match rename2(&s, &t, NOREPLACE) {
            Ok(()) => return Ok(None),
            Err(e)
                if e.raw_os_error() == Some(libc::EEXIST)
                    || e.raw_os_error() == Some(libc::ENOTEMPTY) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) => {
                return self.swap_fallback(keep_previous)
            }
            Err(e) => return Err(Error::io(&t, e)),
        }
        match rename2(&s, &t, EXCHANGE) {
            Ok(()) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) => {
                return self.swap_fallback(keep_previous)
            }
            Err(e) => return Err(Error::io(&t, e)),
        }
        // The staging path now holds the previous output.
        self.finish_previous(&s, keep_previous)
    }

    /// Without renameat2: the previous output is moved aside, then the new
    /// one into place (a crash between the two leaves the previous output
    /// whole beside the target).
    fn swap_fallback(&mut self, keep_previous: bool) -> Result<Option<PathBuf>> {
        let old = sibling(&self.target, "old");
        fs::rename(&self.target, &old).map_err(|e| Error::io(&self.target, e))?;
        fs::rename(&self.staging, &self.target).map_err(|e| Error::io(&self.target, e))?;
        self.finish_previous(&old, keep_previous)
    }

    fn finish_previous(&self, old: &Path, keep: bool) -> Result<Option<PathBuf>> {
        if keep {
            let name = self
                .target
                .file_name()
                .map_or("out".into(), |n| n.to_string_lossy().to_string());
            let kept = self.target.with_file_name(format!("{name}.previous"));
            if marker_files(&kept).is_some() {
                fs::remove_dir_all(&kept).map_err(|e| Error::io(&kept, e))?;
            }
            if kept.exists() {
                return Err(usage(format!(
                    "{} exists and is not a bomon output; the previous output stays in {}",
                    kept.display(),
                    old.display()
                )));
            }
            fs::rename(old, &kept).map_err(|e| Error::io(&kept, e))?;
            Ok(Some(kept))
        } else {
            fs::remove_dir_all(old).map_err(|e| Error::io(old, e))?;
            Ok(None)
        }
    }

    fn merge(&self, files: &[String]) -> Result<()> {
        for rel in files {
            let from = self.staging.join(rel);
            let to = self.target.join(rel);
            if let Some(d) = to.parent() {
                if is_store(d) {
                    return Err(usage(format!(
                        "{}: inside a bomon store; not written",
                        to.display()
                    )));
                }
                fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
            }
            if fs::symlink_metadata(&to).is_ok_and(|m| m.is_dir()) {
                return Err(usage(format!(
                    "{}: is a directory where bomon writes a file; not replaced",
                    to.display()
                )));
            }
            fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
        }
        let _ = fs::remove_dir_all(&self.staging);
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// A file output being written: complete it with [`AtomicFile::commit`];
/// dropped before, it leaves the target as it was.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    tmp: PathBuf,
    file: Option<io::BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `out` for a command that reads `store` (refused inside
    /// a store, or where `out` is a directory).
    pub fn create(out: &Path, store: Option<&Path>) -> Result<AtomicFile> {
        check_outside_stores(out, store)?;
        if fs::symlink_metadata(out).is_ok_and(|m| m.is_dir()) {
            return Err(usage(format!(
                "--out {}: is a directory, expected a file name",
                out.display()
            )));
        }
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(usage(format!(
                    "--out {}: the directory {} does not exist",
                    out.display(),
                    parent.display()
                )));
            }
        }
        let tmp = sibling(out, "tmp");
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(|e| Error::io(&tmp, e))?;
        Ok(AtomicFile {
            target: out.to_path_buf(),
            tmp,
            file: Some(io::BufWriter::new(file)),
        })
    }

    /// Writes `bytes` to `out` atomically.
    pub fn write_all_to(out: &Path, store: Option<&Path>, bytes: &[u8]) -> Result<()> {
        let mut f = AtomicFile::create(out, store)?;
        f.write_all(bytes).map_err(|e| Error::io(out, e))?;
        f.commit()
    }

    /// The temporary file's path (for writers that want a path).
    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    /// Flushes, syncs and renames the file over the target (a symlink at the
    /// target is replaced, not followed).
    pub fn commit(mut self) -> Result<()> {
        let w = self.file.take().expect("not yet committed");
        let f = w
            .into_inner()
            .map_err(|e| Error::io(&self.tmp, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io(&self.tmp, e))?;
        drop(f);
        fs::rename(&self.tmp, &self.target).map_err(|e| Error::io(&self.target, e))?;
        if let Some(p) = self.target.parent() {
            fsync_dir(p);
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("open").write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("open").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            self.file = None;
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The UTF-8 byte-order mark every CSV file bomon writes starts with, so
/// that Danish Excel opens it as UTF-8 ("Håndværkerparken", not
/// "HÃ¥ndvÃ¦rkerparken"). Separator (comma) and decimal mark (point) stay
/// those of machines; polars, pandas (`encoding="utf-8-sig"`) and the csv
/// crate read it. CSV on standard output has none.
pub const CSV_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CSV cell that a spreadsheet will not run as a formula: text starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
/// apostrophe (OWASP's advice for CSV injection); numbers such as `-3.5` or
/// `-3,5` stay as they are.
pub fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = matches!(s.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'));
    if !risky {
        return s.into();
    }
    let t = s.trim();
    let number = t.parse::<f64>().is_ok() || t.replace(',', ".").parse::<f64>().is_ok();
    if number && !t.is_empty() {
        s.into()
    } else {
        format!("'{s}").into()
    }
}

/// Text for a terminal: control characters (escape sequences, NUL, ...)
/// are shown as visible escapes instead of being sent raw.
pub fn terminal_text(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c.is_control()) {
        return s.into();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two-rename fallback can die between its renames: the previous
    /// output then sits beside the target, and the next run puts it back.
    #[test]
    fn a_previous_output_moved_aside_by_a_dead_run_is_restored() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let aside = dir.path().join(".out.bomon-old-2147483000-1");
        fs::create_dir(&aside).unwrap();
        fs::write(aside.join("flags.csv"), "x").unwrap();
        fs::write(aside.join(MARKER), r#"{"files": ["flags.csv"]}"#).unwrap();
        let staged = stage_dir(&out, None, false).unwrap();
        assert!(
            out.join("flags.csv").is_file(),
            "restored before the new run"
        );
        assert!(!aside.exists());
        fs::write(staged.path().join("flags.csv"), "y").unwrap();
        staged.publish(false).unwrap();
        assert_eq!(fs::read_to_string(out.join("flags.csv")).unwrap(), "y");
    }

    #[test]
    fn csv_cells_are_neutralised_but_numbers_stay() {
        for (a, b) in [
            ("=1+1", "'=1+1"),
            ("@x", "'@x"),
            ("+x", "'+x"),
            ("-x", "'-x"),
            ("-3.5", "-3.5"),
            ("-3,5", "-3,5"),
            ("\tx", "'\tx"),
            ("ok", "ok"),
        ] {
            assert_eq!(csv_cell(a), b);
        }
    }
}
