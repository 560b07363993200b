//! Starting and stopping real Envoy processes for the tests.
//!
//! Envoy runs under a small `sh` watchdog whose stdin is a pipe from this
//! test process: when the pipe closes (the guard is dropped, the test
//! binary exits, panics or is killed) the watchdog kills Envoy. That also
//! covers the shared instance held in a `OnceLock`, which is never dropped.

use std::fs;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::client;

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn from_env(var: &str, default: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => root().join(default),
    }
}

/// The Envoy binary: `AWS_MASKER_ENVOY`, default `.venv/bin/envoy`.
/// Missing fails the test (never skips).
pub fn envoy_bin() -> PathBuf {
    let path = from_env("AWS_MASKER_ENVOY", ".venv/bin/envoy");
    assert!(
        path.is_file(),
        "Envoy not found at {}: run `make envoy` (or `make test`), or set AWS_MASKER_ENVOY",
        path.display()
    );
    path
}

/// The built filter: `AWS_MASKER_WASM`, default the release build.
/// Missing fails the test (never skips).
pub fn wasm_path() -> PathBuf {
    let path = from_env(
        "AWS_MASKER_WASM",
        "target/wasm32-wasip1/release/aws_masker.wasm",
    );
    assert!(
        path.is_file(),
        "filter not found at {}: run `make build` (or `make test`), or set AWS_MASKER_WASM",
        path.display()
    );
    path
}

/// The Python that renders the Envoy template: the venv's (next to Envoy)
/// when there is one, else `python3`.
pub fn python() -> PathBuf {
    let venv = envoy_bin().with_file_name("python3");
    if venv.is_file() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// Renders envoy/envoy.template.yaml with scripts/render_envoy.py and the
/// given settings (only these: the caller's environment is not consulted).
pub fn render(settings: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(python());
    cmd.arg(root().join("scripts/render_envoy.py"));
    for var in [
        "LISTEN",
        "ADMIN",
        "UPSTREAM",
        "CONFIG",
        "SECRET",
        "WASM",
        "FILTER",
        "CA_BUNDLE",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in settings {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run scripts/render_envoy.py");
    assert!(
        out.status.success(),
        "render_envoy.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("rendered config is UTF-8")
}

/// A directory for one Envoy's files, under Cargo's test tmp dir.
fn scratch_dir(label: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "gateway-{}-{}-{label}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// How to start one Envoy.
pub struct EnvoySpec<'a> {
    /// Short name for the scratch directory.
    pub label: &'a str,
    /// The filter configuration (JSON text).
    pub config: &'a str,
    /// Upstream URL, e.g. `http://127.0.0.1:1234`.
    pub upstream: String,
    /// Whether the filter is in the chain (false: passthrough Envoy).
    pub filter: bool,
    /// Worker threads.
    pub concurrency: usize,
}

/// A running Envoy; stopped when dropped.
pub struct Envoy {
    /// The listener's address.
    pub listen: SocketAddr,
    /// The admin interface's address.
    pub admin: SocketAddr,
    /// Envoy's combined stdout/stderr.
    pub log: PathBuf,
    pid_file: PathBuf,
    child: Child,
    lifeline: Option<ChildStdin>,
}

/// The watchdog: runs Envoy, kills it when stdin reaches end of file, exits
/// with Envoy's status.
const WATCHDOG: &str = r#"
exec 3<&0
"$@" </dev/null 3<&- &
p=$!
echo "$p" > "$PIDFILE"
{ read x <&3; kill "$p" 2>/dev/null; } &
w=$!
exec 3<&-
wait "$p"; s=$?
kill "$w" 2>/dev/null
exit "$s"
"#;

/// Starts Envoy without waiting for it to be ready.
fn spawn(spec: &EnvoySpec<'_>) -> (Envoy, PathBuf) {
    let envoy = envoy_bin();
    let wasm = wasm_path();
    let dir = scratch_dir(spec.label);
    let config_path = dir.join("filter.json");
    fs::write(&config_path, spec.config).expect("write filter config");
    let yaml = render(&[
        ("LISTEN", "127.0.0.1:0"),
        ("ADMIN", "127.0.0.1:0"),
        ("UPSTREAM", &spec.upstream),
        ("CONFIG", config_path.to_str().expect("utf-8 path")),
        ("WASM", wasm.to_str().expect("utf-8 path")),
        ("FILTER", if spec.filter { "on" } else { "off" }),
    ]);
    let yaml_path = dir.join("envoy.yaml");
    fs::write(&yaml_path, yaml).expect("write envoy.yaml");
    let log = dir.join("envoy.log");
    let admin_file = dir.join("admin.address");
    let pid_file = dir.join("envoy.pid");
    let log_file = fs::File::create(&log).expect("create envoy log");
    let child = Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg("sh")
        .arg(&envoy)
        .arg("-c")
        .arg(&yaml_path)
        .arg("--disable-hot-restart")
        .arg("--concurrency")
        .arg(spec.concurrency.to_string())
        .arg("--admin-address-path")
        .arg(&admin_file)
        .args(["--log-level", "warn", "--component-log-level", "wasm:info"])
        .env("PIDFILE", &pid_file)
        .stdin(Stdio::piped())
        .stdout(log_file.try_clone().expect("clone log handle"))
        .stderr(log_file)
        .spawn()
        .expect("spawn envoy watchdog");
    let mut envoy = Envoy {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        admin: SocketAddr::from(([127, 0, 0, 1], 0)),
        log,
        pid_file,
        child,
        lifeline: None,
    };
    envoy.lifeline = envoy.child.stdin.take();
    (envoy, admin_file)
}

/// Starts Envoy and waits until its listener is up. `Err` carries Envoy's
/// log when it exits (or does not come up) instead.
pub fn start(spec: &EnvoySpec<'_>) -> Result<Envoy, String> {
    let (mut envoy, admin_file) = spawn(spec);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = envoy.child.try_wait() {
            return Err(format!("Envoy exited ({status}):\n{}", envoy.log_text()));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "Envoy did not come up within 60 s:\n{}",
                envoy.log_text()
            ));
        }
        if let Some(addr) = fs::read_to_string(&admin_file)
            .ok()
            .and_then(|s| s.trim().parse::<SocketAddr>().ok())
        {
            envoy.admin = addr;
            if let Some(listen) = listener_address(addr) {
                envoy.listen = listen;
                return Ok(envoy);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The listener's bound address, once Envoy is live and has bound it.
fn listener_address(admin: SocketAddr) -> Option<SocketAddr> {
    let ready = client::get(admin, "/ready").ok()?;
    if ready.status != 200 {
        return None;
    }
    let listeners = client::get(admin, "/listeners?format=json").ok()?.json();
    let sock = listeners.pointer("/listener_statuses/0/local_address/socket_address")?;
    let port = u16::try_from(sock["port_value"].as_u64()?).ok()?;
    (port != 0).then(|| SocketAddr::from(([127, 0, 0, 1], port)))
}

impl Envoy {
    /// Envoy's log so far.
    pub fn log_text(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// Waits up to `timeout` for Envoy to exit by itself; its exit status.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Envoy's process id (not the watchdog's).
    pub fn pid(&self) -> u32 {
        let pid = fs::read_to_string(&self.pid_file).expect("envoy pid file");
        pid.trim().parse().expect("envoy pid")
    }

    /// Whether Envoy's process is still running (the watchdog reaps it
    /// when it exits; a zombie's /proc state says so until then).
    pub fn is_running(&self) -> bool {
        fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .ok()
            .and_then(|stat| {
                let state = stat
                    .rsplit_once(')')?
                    .1
                    .split_whitespace()
                    .next()?
                    .to_string();
                Some(state != "Z" && state != "X")
            })
            .unwrap_or(false)
    }

    /// Envoy's resident set size (`VmRSS` in /proc/<pid>/status), in bytes.
    pub fn rss_bytes(&self) -> u64 {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read Envoy's /proc status");
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc status");
        kib * 1024
    }

    /// CPU time Envoy's threads have used so far (Linux schedstat, in
    /// nanoseconds, summed over every thread). Benchmarks divide its
    /// growth by the requests served: CPU per request does not depend on
    /// how busy the rest of the machine is, as wall-clock latency does.
    pub fn cpu_time(&self) -> Duration {
        let pid = fs::read_to_string(&self.pid_file).expect("envoy pid file");
        let tasks = PathBuf::from(format!("/proc/{}/task", pid.trim()));
        let nanos: u64 = fs::read_dir(&tasks)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", tasks.display()))
            .flatten()
            .filter_map(|task| fs::read_to_string(task.path().join("schedstat")).ok())
            .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
            .sum();
        Duration::from_nanos(nanos)
    }

    /// The filter's counters from the admin interface, names without
    /// Envoy's `wasmcustom.` prefix, e.g. `aws_masker.requests_masked`.
    pub fn filter_stats(&self) -> std::collections::BTreeMap<String, u64> {
        let resp = client::get(self.admin, "/stats?filter=aws_masker").expect("admin /stats");
        resp.text()
            .lines()
            .filter_map(|line| {
                let (name, value) = line.split_once(": ")?;
                let name = name.strip_prefix("wasmcustom.").unwrap_or(name);
                if !name.starts_with("aws_masker.") {
                    return None;
                }
                Some((name.to_string(), value.trim().parse().ok()?))
            })
            .collect()
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        // Closing the lifeline makes the watchdog kill Envoy.
        drop(self.lifeline.take());
        if self.wait_exit(Duration::from_secs(10)).is_none() {
            if let Ok(pid) = fs::read_to_string(&self.pid_file) {
                let _ = Command::new("kill").arg("-9").arg(pid.trim()).status();
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
