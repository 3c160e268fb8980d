//! report.pdf: the HTML report printed by a headless Chromium, when one is
//! on the machine (`.ci/run` installs Debian's). The page's print CSS puts
//! the internal marking and "Side n af m" in every page's margin (CSS
//! `@page` margin boxes), and each department starts a page. No pure-Rust
//! engine lays out this HTML and its SVG charts as well; without Chromium
//! the HTML is written alone and the command says so once.
//!
//! Chromium takes most of a second to start. [`Printer::start`] launches it
//! when a review begins, so that it starts while the review computes; the
//! page is printed over the DevTools protocol on a pipe
//! (`--remote-debugging-pipe`: NUL-terminated JSON on the browser's fds 3
//! and 4, as Puppeteer does; here both ends of one Unix socket) once report.html is written. Where that route
//! fails, a one-shot `--print-to-pdf` is tried before the PDF is given up.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{json, Value};

/// The Chromium to print with: `BOMON_CHROMIUM` (a path; empty or `none`
/// turns PDF printing off), else the first of chromium, chromium-browser,
/// google-chrome on PATH.
pub fn chromium() -> Option<PathBuf> {
    if let Some(v) = std::env::var_os("BOMON_CHROMIUM") {
        let s = v.to_string_lossy();
        if s.is_empty() || s == "none" {
            return None;
        }
        let p = PathBuf::from(&v);
        return p.exists().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Flags of every headless print: no sandbox (containers), no GPU, no
/// network chatter, no first-run work.
const FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// A fresh, private profile directory per browser, and the TMPDIR to give
/// the browser: `t` inside the profile, so that all Chromium leaves behind
/// (singleton socket, shared memory files) goes with it - unless that path
/// would make Chromium's socket path longer than a Unix socket may be
/// (108 bytes; Chromium aborts at start then), when TMPDIR stays as it is.
fn profile_dir() -> std::io::Result<(PathBuf, Option<PathBuf>)> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("bomon-{:x}-{nanos:x}-{n}", std::process::id()));
    let tmp = dir.join("t");
    std::fs::create_dir_all(&tmp)?;
    // + "/org.chromium.Chromium.XXXXXX/SingletonSocket"
    let socket = tmp.as_os_str().len() + 46;
    Ok((dir, (socket < 108).then_some(tmp)))
}

/// Removes a browser's profile; its helper processes may still be writing
/// for a moment after the browser exits.
fn remove_profile(dir: &Path) {
    for _ in 0..20 {
        if std::fs::remove_dir_all(dir).is_ok() || !dir.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Prints report.html to PDF, or says why it cannot.
pub enum Printer {
    /// No Chromium: the reason, to say once.
    Off(String),
    /// A Chromium, started when the printer was.
    Chromium {
        /// Its path (for the one-shot fallback).
        bin: PathBuf,
        /// The browser starting up and opening a blank page, on a thread.
        browser: Mutex<Option<JoinHandle<Result<Browser, String>>>>,
    },
}

impl Printer {
    /// Finds a Chromium ([`chromium`]) and starts it, so that it is ready
    /// when the report is; without one, a printer that says why.
    pub fn start() -> Printer {
        match chromium() {
            None => Printer::Off(
                "no headless Chromium found (install chromium, or set BOMON_CHROMIUM to its path)"
                    .into(),
            ),
            Some(bin) => Printer::Chromium {
                browser: Mutex::new(Some({
                    let bin = bin.clone();
                    std::thread::spawn(move || {
                        let mut b = Browser::launch(&bin)?;
                        b.open_page(Instant::now() + Duration::from_secs(60))?;
                        Ok(b)
                    })
                })),
                bin,
            },
        }
    }

    /// A printer that prints nothing (`reason` says why).
    pub fn off(reason: &str) -> Printer {
        Printer::Off(reason.into())
    }

    /// Why no PDF will be printed, if so.
    pub fn unavailable(&self) -> Option<&str> {
        match self {
            Printer::Off(why) => Some(why),
            Printer::Chromium { .. } => None,
        }
    }

    /// Prints `html` to `pdf` within `limit`; the error says why not.
    pub fn print(&self, html: &Path, pdf: &Path, limit: Duration) -> Result<(), String> {
        let Printer::Chromium { bin, browser } = self else {
            return Err(self.unavailable().unwrap_or_default().to_string());
        };
        let html = std::fs::canonicalize(html).map_err(|e| format!("{}: {e}", html.display()))?;
        let started = Instant::now();
        let taken = browser.lock().map(|mut b| b.take()).unwrap_or(None);
        if let Some(Ok(Ok(mut b))) = taken.map(JoinHandle::join) {
            let printed = b.print(&html, limit);
            drop(b);
            match printed {
                Ok(bytes) => return write_pdf(pdf, &bytes),
                Err(e) if started.elapsed() >= limit => return Err(e),
                Err(_) => {} // try the one-shot print below
            }
        }
        print_once(bin, &html, pdf, limit.saturating_sub(started.elapsed()))
    }
}

/// Writes a printed PDF, refusing one that is not.
fn write_pdf(pdf: &Path, bytes: &[u8]) -> Result<(), String> {
    if bytes.len() < 1000 || !bytes.starts_with(b"%PDF") {
        return Err("Chromium printed no PDF".into());
    }
    std::fs::write(pdf, bytes).map_err(|e| format!("{}: {e}", pdf.display()))
}

/// A headless Chromium spoken to over the DevTools protocol on a pipe.
pub struct Browser {
    child: Child,
    profile: PathBuf,
    to: OwnedFd,
    from: Receiver<Value>,
    next: u64,
    /// The DevTools session of the page opened to print on.
    session: String,
}

impl Browser {
    /// Starts `bin` with `--remote-debugging-pipe`; does not wait for it.
    fn launch(bin: &Path) -> Result<Browser, String> {
        let err = |e: std::io::Error| format!("{}: {e}", bin.display());
        // One Unix socket pair, close-on-exec: the browser's end becomes
        // both its fd 3 (it reads) and fd 4 (it writes). A socket, not two
        // pipes, so that writing to a browser that has died is an error
        // (send with MSG_NOSIGNAL) and not a SIGPIPE that ends bomon.
        let (profile, tmp) = profile_dir().map_err(err)?;
        let mut fds = [0i32; 2];
        // SAFETY: socketpair writes two fds into the array.
        let made = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        if made != 0 {
            return Err(err(std::io::Error::last_os_error()));
        }
        // SAFETY: the fds are ours; each is wrapped (and so closed) once.
        let (ours, theirs) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let child_end = theirs.as_raw_fd();
        let mut cmd = Command::new(bin);
        cmd.args(FLAGS)
            .arg("--remote-debugging-pipe")
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: between fork and exec only async-signal-safe calls:
        // setpgid (a process group of its own, so that the browser and all
        // its helpers end together), fcntl and dup2 (first to an fd above
        // 10, in case the socket itself is fd 3 or 4).
        unsafe {
            cmd.pre_exec(move || {
                libc::setpgid(0, 0);
                let a = libc::fcntl(child_end, libc::F_DUPFD, 10);
                if a < 0 || libc::dup2(a, 3) < 0 || libc::dup2(a, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        if let Some(t) = &tmp {
            cmd.env("TMPDIR", t);
        }
        let spawned = cmd.spawn();
        drop(theirs);
        let child = spawned.map_err(err)?;
        let from = File::from(ours.try_clone().map_err(err)?);
        // Messages read on a thread of their own, so that every wait has a limit.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(from);
            let mut buf = Vec::new();
            while r.read_until(0, &mut buf).is_ok_and(|n| n > 0) {
                if buf.last() == Some(&0) {
                    buf.pop();
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
                buf.clear();
            }
        });
        Ok(Browser {
            child,
            profile,
            to: ours,
            from: rx,
            next: 0,
            session: String::new(),
        })
    }

    /// Sends a command and waits for its answer (events on the way are
    /// dropped).
    fn call(
        &mut self,
        method: &str,
        params: Value,
        session: Option<&str>,
        deadline: Instant,
    ) -> Result<Value, String> {
        self.next += 1;
        let id = self.next;
        let mut m = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            m["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&m).map_err(|e| e.to_string())?;
        bytes.push(0);
        let mut sent = 0;
        while sent < bytes.len() {
            // SAFETY: sends from a live buffer on a socket we own.
            let n = unsafe {
                libc::send(
                    self.to.as_raw_fd(),
                    bytes[sent..].as_ptr().cast(),
                    bytes.len() - sent,
                    libc::MSG_NOSIGNAL,
                )
            };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(format!("Chromium: {e}"));
            }
            sent += n as usize;
        }
        loop {
            let v = self.recv(deadline)?;
            if v["id"].as_u64() == Some(id) {
                if let Some(e) = v.get("error") {
                    return Err(format!("Chromium: {method}: {e}"));
                }
                return Ok(v["result"].clone());
            }
        }
    }

    fn recv(&self, deadline: Instant) -> Result<Value, String> {
        let left = deadline.saturating_duration_since(Instant::now());
        self.from.recv_timeout(left).map_err(|e| match e {
            RecvTimeoutError::Timeout => "Chromium did not answer in time".to_string(),
            RecvTimeoutError::Disconnected => "Chromium closed its pipe".to_string(),
        })
    }

    /// Opens a blank page to print on (while the review still computes).
    fn open_page(&mut self, deadline: Instant) -> Result<(), String> {
        let target = self.call(
            "Target.createTarget",
            json!({"url": "about:blank"}),
            None,
            deadline,
        )?;
        let attached = self.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
            None,
            deadline,
        )?;
        self.session = attached["sessionId"]
            .as_str()
            .ok_or("Chromium gave no session")?
            .to_string();
        let session = self.session.clone();
        self.call("Page.enable", json!({}), Some(&session), deadline)?;
        Ok(())
    }

    /// Loads `html` in the page, waits for its load event and prints it
    /// with the page's own CSS page size and backgrounds.
    fn print(&mut self, html: &Path, limit: Duration) -> Result<Vec<u8>, String> {
        let deadline = Instant::now() + limit;
        let session = self.session.clone();
        let s = Some(session.as_str());
        let url = format!("file://{}", html.display());
        self.call("Page.navigate", json!({"url": url}), s, deadline)?;
        loop {
            let v = self.recv(deadline)?;
            if v["method"] == "Page.loadEventFired" && v["sessionId"] == session.as_str() {
                break;
            }
        }
        let printed = self.call(
            "Page.printToPDF",
            json!({
                "printBackground": true,
                "preferCSSPageSize": true,
                "displayHeaderFooter": false,
            }),
            s,
            deadline,
        )?;
        base64::engine::general_purpose::STANDARD
            .decode(printed["data"].as_str().ok_or("Chromium printed no PDF")?)
            .map_err(|e| format!("Chromium's PDF: {e}"))
    }
}

/// The browser's whole process group ends at once (a polite
/// `Browser.close` costs a tenth of a second and still leaves helpers
/// running for a while), then its profile goes.
impl Drop for Browser {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            if let Ok(pid) = i32::try_from(self.child.id()) {
                // SAFETY: signals the process group the child leads.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        remove_profile(&self.profile);
    }
}

/// Prints `html` to `pdf` with a Chromium of its own (`--print-to-pdf`),
/// within `limit`; the error says why not.
pub fn print_once(bin: &Path, html: &Path, pdf: &Path, limit: Duration) -> Result<(), String> {
    let (profile, tmp) =
        profile_dir().map_err(|e| format!("{}: {e}", std::env::temp_dir().display()))?;
    let html = std::fs::canonicalize(html).map_err(|e| format!("{}: {e}", html.display()))?;
    let mut cmd = Command::new(bin);
    if let Some(t) = &tmp {
        cmd.env("TMPDIR", t);
    }
    let mut child = cmd
        .args(FLAGS)
        .arg("--no-pdf-header-footer")
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            remove_profile(&profile);
            let _ = std::fs::remove_file(pdf);
            return Err(format!(
                "{} took longer than {} s",
                bin.display(),
                limit.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    remove_profile(&profile);
    let ok = std::fs::metadata(pdf).is_ok_and(|m| m.len() > 1000);
    if status.success() && ok {
        Ok(())
    } else {
        let _ = std::fs::remove_file(pdf);
        Err(format!("{} printed no PDF ({status})", bin.display()))
    }
}
