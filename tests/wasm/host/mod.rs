//! A proxy-wasm ABI 0.2.1 host on wasmtime, enough to drive the filter's
//! `.wasm` through whole HTTP exchanges without a gateway.
//!
//! It emulates the two buffer behaviours the filter must cope with (see
//! DESIGN.md, "Hosts and their quirks"):
//! - [`Profile::Envoy`]: `set_buffer(0, len, data)` drains `len` bytes from
//!   the front and prepends `data` (so a length covering the buffer replaces
//!   it); the request body arrives in as many calls as the test chooses;
//!   `Pause` on a body callback buffers (the next call sees the whole
//!   buffered body); after a response body callback that returned
//!   `Continue`, the response trailers callback finds no body buffer
//!   (`NotFound`), as in Envoy 1.40.
//! - [`Profile::Kong`]: `set_buffer` cuts the new data to the given length,
//!   a length 0 at start 0 prepends; `get_buffer` of a part of a body traps
//!   (Kong's engine ignores the offset and overruns a partial read); a
//!   `Pause` on a response body callback starts the host's own buffering:
//!   the filter is called once more, with the whole body, at its end, and
//!   may not pause again (ngx_wasm_module 9136e463); the request body
//!   arrives in one call;
//!   in "spilled" mode the host announces the body size but
//!   `get_buffer` answers `NotFound`.
//!
//! Both profiles deliver request and response trailers when a test asks
//! (HTTP/2 bodies that end with trailers instead of end of stream). Envoy
//! knows the `plugin_vm_id` property; Kong's engine does not, and traps on
//! shared data unless the VM was given a default `shm_kv *` zone
//! ([`Vm::kong_with_zone`]), as ngx_wasm_module does ("could not resolve
//! namespace").
//!
//! Any imported host function the test host does not implement traps with
//! its name, and so do the ones that trap on Kong (`get_log_level`, `done`,
//! `resume_http_response`); a trap fails the test with its message.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};
use wasmtime::{
    format_err, Caller, Config, Engine, Extern, Instance, Linker, Memory, Module, Result, Store,
};

/// proxy-wasm statuses.
mod buffers;
mod context;
mod headers;
mod metrics;
mod shared_data;
mod wasi;

const OK: i32 = 0;
const NOT_FOUND: i32 = 1;
const BAD_ARGUMENT: i32 = 2;
const CAS_MISMATCH: i32 = 8;

/// Buffer types.
const BUF_REQUEST_BODY: i32 = 0;
const BUF_RESPONSE_BODY: i32 = 1;
const BUF_VM_CONFIGURATION: i32 = 6;
const BUF_PLUGIN_CONFIGURATION: i32 = 7;

/// Map types.
const MAP_REQUEST_HEADERS: i32 = 0;
const MAP_RESPONSE_HEADERS: i32 = 2;

/// Fuel per VM: a guard against an endless loop in the filter.
const FUEL: u64 = 200_000_000_000;

/// Which gateway's buffer semantics the host emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Envoy.
    Envoy,
    /// Kong's ngx_wasm_module.
    Kong,
}

/// proxy-wasm `Action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Continue,
    Pause,
}

/// A reply the filter sent instead of forwarding.
#[derive(Debug, Clone)]
pub struct LocalResponse {
    pub status: u32,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl LocalResponse {
    /// The body as JSON (panics when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "local response body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// One HTTP exchange as the host sees it.
#[derive(Debug, Default)]
pub struct Http {
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    /// Request body bytes the filter currently sees (buffered).
    request_buffer: Vec<u8>,
    /// Response body bytes the filter currently sees (buffered).
    response_buffer: Vec<u8>,
    /// What reached the upstream.
    pub upstream_body: Vec<u8>,
    /// What reached the client.
    pub downstream_body: Vec<u8>,
    /// A local reply, if the filter sent one; the exchange then stops.
    pub local_response: Option<LocalResponse>,
    /// The filter paused at end of stream and never resumed.
    pub request_stalled: bool,
    pub response_stalled: bool,
    /// Kong: the request body went to a temporary file.
    spilled: bool,
    pub request_headers_action: Option<Action>,
    pub response_headers_action: Option<Action>,
    /// How many response body callbacks returned `Pause`.
    pub response_pauses: usize,
    /// Kong: a response body callback returned `Pause`, so the host buffers
    /// the rest of the body and calls the filter once more, at its end.
    response_buffering: bool,
    /// Envoy: the last response body callback returned `Continue`, so the
    /// response body buffer is gone until more body comes; in the trailers
    /// callback, reading or writing it answers `NotFound` (Envoy 1.40 keeps
    /// the encoding buffer only while the filter buffers).
    response_released: bool,
    /// The response trailers callback is running.
    in_response_trailers: bool,
    /// The largest response body the filter wrote in one `set_buffer`.
    pub max_response_write: usize,
}

impl Http {
    fn headers(&mut self, map: i32) -> Option<&mut Vec<(String, String)>> {
        match map {
            MAP_REQUEST_HEADERS => Some(&mut self.request_headers),
            MAP_RESPONSE_HEADERS => Some(&mut self.response_headers),
            _ => None,
        }
    }

    /// A header of the forwarded request.
    pub fn request_header(&self, name: &str) -> Option<&str> {
        find(&self.request_headers, name)
    }

    /// A header of the forwarded response.
    pub fn response_header(&self, name: &str) -> Option<&str> {
        find(&self.response_headers, name)
    }
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A metric the filter defined.
#[derive(Debug, Clone)]
pub struct Metric {
    pub name: String,
    pub kind: i32,
    pub value: u64,
}

/// Shared data, shared between VMs (workers) of one "gateway".
pub type SharedData = Arc<Mutex<BTreeMap<String, (Vec<u8>, u32)>>>;

/// The host state of one VM.
pub struct HostState {
    profile: Profile,
    plugin_config: Vec<u8>,
    /// (level, message) of every `proxy_log` call.
    pub logs: Vec<(i32, String)>,
    /// What the module wrote to stdout/stderr.
    pub stdio: String,
    pub metrics: Vec<Metric>,
    shared: SharedData,
    http: BTreeMap<u32, Http>,
    current: u32,
    seed: u64,
    /// Kong: the `shm_kv *` zone exists (kong.conf `nginx_wasm_shm_kv`).
    kong_zone: bool,
}

impl HostState {
    /// Kong's engine traps on shared data without a zone for the key.
    fn check_shared_data(&self) -> Result<()> {
        if self.profile == Profile::Kong && !self.kong_zone {
            return trap("host trap (bad usage): failed getting value from shm (could not resolve namespace)");
        }
        Ok(())
    }
}

impl HostState {
    fn http(&mut self) -> Result<&mut Http> {
        let id = self.current;
        self.http
            .get_mut(&id)
            .ok_or_else(|| format_err!("host call for HTTP data outside an HTTP context ({id})"))
    }

    /// A header map of the current exchange (a trap for a map type the
    /// host does not implement).
    fn header_map(&mut self, map: i32) -> Result<&mut Vec<(String, String)>> {
        match self.http()?.headers(map) {
            Some(headers) => Ok(headers),
            None => trap(&format!("header map type {map} not implemented")),
        }
    }

    /// A metric the module defined (`id` as `define_metric` answered it).
    fn metric(&mut self, id: i32) -> Option<&mut Metric> {
        self.metrics.get_mut((id as u32 as usize).wrapping_sub(1))
    }
}

fn engine_and_module() -> &'static (Engine, Module) {
    static CELL: OnceLock<(Engine, Module)> = OnceLock::new();
    CELL.get_or_init(|| {
        let path = std::env::var_os("AWS_MASKER_WASM")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("target/wasm32-wasip1/release/aws_masker.wasm")
            });
        assert!(
            path.is_file(),
            "the filter's .wasm is missing at {}: run `make build` first (or set AWS_MASKER_WASM)",
            path.display()
        );
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config).unwrap_or_else(|e| panic!("wasmtime engine: {e:?}"));
        let module = Module::from_file(&engine, &path)
            .unwrap_or_else(|e| panic!("compiling {}: {e:?}", path.display()));
        (engine, module)
    })
}

fn memory(caller: &mut Caller<'_, HostState>) -> Result<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        _ => Err(format_err!("module exports no memory")),
    }
}

fn read(caller: &mut Caller<'_, HostState>, ptr: i32, len: i32) -> Result<Vec<u8>> {
    let mem = memory(caller)?;
    let (start, len) = (ptr as u32 as usize, len as u32 as usize);
    mem.data(&caller)
        .get(start..start.saturating_add(len))
        .map(<[u8]>::to_vec)
        .ok_or_else(|| format_err!("guest pointer out of bounds: {start}+{len}"))
}

fn read_string(caller: &mut Caller<'_, HostState>, ptr: i32, len: i32) -> Result<String> {
    let bytes = read(caller, ptr, len)?;
    String::from_utf8(bytes).map_err(|e| format_err!("guest string is not UTF-8: {e}"))
}

fn write(caller: &mut Caller<'_, HostState>, ptr: i32, bytes: &[u8]) -> Result<()> {
    let mem = memory(caller)?;
    let start = ptr as u32 as usize;
    mem.data_mut(caller)
        .get_mut(start..start + bytes.len())
        .ok_or_else(|| format_err!("guest pointer out of bounds: {start}+{}", bytes.len()))?
        .copy_from_slice(bytes);
    Ok(())
}

fn write_u32(caller: &mut Caller<'_, HostState>, ptr: i32, v: u32) -> Result<()> {
    write(caller, ptr, &v.to_le_bytes())
}

/// Copies `data` into memory the guest allocates, and stores its pointer
/// and length at `ret_ptr` / `ret_len`.
fn return_bytes(
    caller: &mut Caller<'_, HostState>,
    data: &[u8],
    ret_ptr: i32,
    ret_len: i32,
) -> Result<()> {
    let ptr = if data.is_empty() {
        0
    } else {
        let alloc = caller
            .get_export("proxy_on_memory_allocate")
            .and_then(Extern::into_func)
            .ok_or_else(|| format_err!("module exports no proxy_on_memory_allocate"))?
            .typed::<i32, i32>(&caller)?;
        let ptr = alloc.call(&mut *caller, data.len() as i32)?;
        write(caller, ptr, data)?;
        ptr
    };
    write_u32(caller, ret_ptr, ptr as u32)?;
    write_u32(caller, ret_len, data.len() as u32)
}

fn serialize_map(map: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(map.len() as u32).to_le_bytes());
    for (k, v) in map {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in map {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

fn deserialize_map(bytes: &[u8]) -> Result<Vec<(String, String)>> {
    let u32_at = |i: usize| -> Result<usize> {
        let b = bytes
            .get(i..i + 4)
            .ok_or_else(|| format_err!("truncated header map"))?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let n = u32_at(0)?;
    let mut sizes = Vec::with_capacity(n);
    for i in 0..n {
        sizes.push((u32_at(4 + 8 * i)?, u32_at(8 + 8 * i)?));
    }
    let mut pos = 4 + 8 * n;
    let mut out = Vec::with_capacity(n);
    for (kl, vl) in sizes {
        let mut take = |len: usize| -> Result<String> {
            let s = bytes
                .get(pos..pos + len)
                .ok_or_else(|| format_err!("truncated header map"))?;
            pos += len + 1;
            String::from_utf8(s.to_vec()).map_err(|e| format_err!("header not UTF-8: {e}"))
        };
        let k = take(kl)?;
        let v = take(vl)?;
        out.push((k, v));
    }
    Ok(out)
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn trap<T>(what: &str) -> Result<T> {
    Err(format_err!("{what}"))
}

fn linker(engine: &Engine) -> Result<Linker<HostState>> {
    let mut l: Linker<HostState> = Linker::new(engine);
    context::link(&mut l)?;
    buffers::link(&mut l)?;
    headers::link(&mut l)?;
    metrics::link(&mut l)?;
    shared_data::link(&mut l)?;
    wasi::link(&mut l)?;
    Ok(l)
}

/// One VM (one gateway worker) running the filter.
pub struct Vm {
    store: Store<HostState>,
    instance: Instance,
    root: u32,
    next_id: u32,
    pub configured: bool,
}

impl Vm {
    /// A VM with its own shared data.
    pub fn new(profile: Profile, config: &str) -> Vm {
        Vm::with_shared(profile, config, SharedData::default())
    }

    /// A VM configured with `config`; panics when `on_configure` fails.
    pub fn with_shared(profile: Profile, config: &str, shared: SharedData) -> Vm {
        let vm = Vm::try_new(profile, config, shared);
        assert!(
            vm.configured,
            "on_configure rejected {config:?}; logs:\n{}",
            vm.log_text()
        );
        vm
    }

    /// A Kong VM whose host has the default `shm_kv *` zone.
    pub fn kong_with_zone(config: &str, shared: SharedData) -> Vm {
        let vm = Vm::build(Profile::Kong, config, shared, true);
        assert!(vm.configured, "on_configure rejected {config:?}");
        vm
    }

    /// A VM whose `on_configure` may fail (see [`Vm::configured`]).
    pub fn try_new(profile: Profile, config: &str, shared: SharedData) -> Vm {
        Vm::build(profile, config, shared, false)
    }

    fn build(profile: Profile, config: &str, shared: SharedData, kong_zone: bool) -> Vm {
        let (engine, module) = engine_and_module();
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
            | 1;
        let state = HostState {
            profile,
            plugin_config: config.as_bytes().to_vec(),
            logs: Vec::new(),
            stdio: String::new(),
            metrics: Vec::new(),
            shared,
            http: BTreeMap::new(),
            current: 0,
            seed,
            kong_zone,
        };
        let mut store = Store::new(engine, state);
        store
            .set_fuel(FUEL)
            .unwrap_or_else(|e| panic!("set_fuel: {e:?}"));
        let mut l = linker(engine).unwrap_or_else(|e| panic!("linker: {e:?}"));
        for import in module.imports() {
            let (m, n) = (import.module().to_string(), import.name().to_string());
            if l.get(&mut store, &m, &n).is_ok() {
                continue;
            }
            let wasmtime::ExternType::Func(ty) = import.ty() else {
                panic!("module imports a non-function {m}::{n}");
            };
            let what = format!("host function {m}::{n} is not implemented by the test host");
            l.func_new(&m, &n, ty, move |_, _, _| Err(format_err!("{what}")))
                .unwrap_or_else(|e| panic!("{e:?}"));
        }
        let instance = l
            .instantiate(&mut store, module)
            .unwrap_or_else(|e| panic!("instantiating the filter: {e:?}"));
        let mut vm = Vm {
            store,
            instance,
            root: 1,
            next_id: 2,
            configured: false,
        };
        assert!(
            vm.has_export("proxy_abi_version_0_2_1"),
            "module does not export proxy_abi_version_0_2_1"
        );
        for start in ["_initialize", "_start"] {
            if vm.has_export(start) {
                vm.call::<(), ()>(start, ());
            }
        }
        vm.call::<(i32, i32), ()>("proxy_on_context_create", (vm.root as i32, 0));
        let started = vm.call::<(i32, i32), i32>("proxy_on_vm_start", (vm.root as i32, 0));
        assert_eq!(
            started,
            1,
            "proxy_on_vm_start failed; logs:\n{}",
            vm.log_text()
        );
        let len = config.len() as i32;
        vm.configured =
            vm.call::<(i32, i32), i32>("proxy_on_configure", (vm.root as i32, len)) == 1;
        vm
    }

    /// The size of the VM's linear memory, in bytes. Wasm memory grows and
    /// never shrinks, so after an exchange this is the peak the exchange
    /// needed (plus what the VM held before).
    pub fn memory_bytes(&mut self) -> usize {
        match self.instance.get_export(&mut self.store, "memory") {
            Some(Extern::Memory(m)) => m.data_size(&self.store),
            _ => panic!("module exports no memory"),
        }
    }

    fn has_export(&mut self, name: &str) -> bool {
        self.instance.get_export(&mut self.store, name).is_some()
    }

    fn call<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(&mut self, name: &str, p: P) -> R {
        let f = self
            .instance
            .get_typed_func::<P, R>(&mut self.store, name)
            .unwrap_or_else(|e| panic!("export {name}: {e:?}"));
        match f.call(&mut self.store, p) {
            Ok(r) => r,
            Err(e) => panic!(
                "wasm trap in {name}: {e:?}\nlogs:\n{}\nstdio:\n{}",
                self.log_text(),
                self.store.data().stdio
            ),
        }
    }

    fn action(&self, name: &str, v: i32) -> Action {
        match v {
            0 => Action::Continue,
            1 => Action::Pause,
            other => panic!("{name} returned unknown action {other}"),
        }
    }

    /// Every log line, one per line, prefixed with its level.
    pub fn log_text(&self) -> String {
        self.store
            .data()
            .logs
            .iter()
            .map(|(l, m)| format!("[{l}] {m}\n"))
            .collect()
    }

    /// Log lines at `level` (2 info, 3 warn, 4 error).
    pub fn logs_at(&self, level: i32) -> Vec<String> {
        self.store
            .data()
            .logs
            .iter()
            .filter(|(l, _)| *l == level)
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// The value of a metric by name; `None` when it was never defined.
    pub fn metric(&self, name: &str) -> Option<u64> {
        self.store
            .data()
            .metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value)
    }

    /// Every defined metric.
    pub fn metrics(&self) -> &[Metric] {
        &self.store.data().metrics
    }

    /// The exchange with context `id`.
    pub fn http(&self, id: u32) -> &Http {
        self.store
            .data()
            .http
            .get(&id)
            .unwrap_or_else(|| panic!("no exchange {id}"))
    }

    fn http_mut(&mut self, id: u32) -> &mut Http {
        self.store
            .data_mut()
            .http
            .get_mut(&id)
            .unwrap_or_else(|| panic!("no exchange {id}"))
    }

    fn stopped(&self, id: u32) -> bool {
        self.http(id).local_response.is_some()
    }

    /// Starts an exchange; returns its context id.
    pub fn new_exchange(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        self.store.data_mut().http.insert(id, Http::default());
        self.call::<(i32, i32), ()>("proxy_on_context_create", (id as i32, self.root as i32));
        id
    }

    /// Kong: the request body of `id` spills to a file.
    pub fn set_spilled(&mut self, id: u32) {
        self.http_mut(id).spilled = true;
    }

    fn enter(&mut self, id: u32) {
        self.store.data_mut().current = id;
    }

    /// Delivers the request headers.
    pub fn request_headers(&mut self, id: u32, headers: &[(&str, &str)], end_of_stream: bool) {
        let a = self.deliver_headers(id, Side::Request, headers, end_of_stream);
        self.http_mut(id).request_headers_action = Some(a);
    }

    /// Stores `headers` as one side's header map and calls that side's
    /// headers callback; returns its action.
    fn deliver_headers(
        &mut self,
        id: u32,
        side: Side,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> Action {
        let map: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        let h = self.http_mut(id);
        let callback = match side {
            Side::Request => {
                h.request_headers = map;
                "proxy_on_request_headers"
            }
            Side::Response => {
                h.response_headers = map;
                "proxy_on_response_headers"
            }
        };
        self.enter(id);
        let n = headers.len() as i32;
        let a = self.call::<(i32, i32, i32), i32>(callback, (id as i32, n, end_of_stream as i32));
        self.action(callback, a)
    }

    /// Delivers the request body: chunk by chunk (Envoy) or whole in one
    /// call (Kong). The last chunk ends the stream.
    pub fn request_body(&mut self, id: u32, chunks: &[&[u8]]) {
        self.deliver_request_body(id, chunks, true);
    }

    /// Delivers the request body in `chunks`, none ending the stream, then
    /// request trailers that end it (an HTTP/2 request with trailers).
    pub fn request_body_then_trailers(&mut self, id: u32, chunks: &[&[u8]]) {
        self.deliver_request_body(id, chunks, false);
        if self.stopped(id) {
            return;
        }
        self.enter(id);
        let a = self.call::<(i32, i32), i32>("proxy_on_request_trailers", (id as i32, 1));
        let a = self.action("proxy_on_request_trailers", a);
        if !self.stopped(id) {
            self.forward_request(id, a, true);
        }
    }

    /// Calls the request body callback per chunk (Envoy) or once with all
    /// of it (Kong); the last call ends the stream when `ends_stream`.
    fn deliver_request_body(&mut self, id: u32, chunks: &[&[u8]], ends_stream: bool) {
        let calls: Vec<Vec<u8>> = match self.store.data().profile {
            Profile::Kong => vec![chunks.concat()],
            Profile::Envoy if chunks.is_empty() => vec![Vec::new()],
            Profile::Envoy => chunks.iter().map(|c| c.to_vec()).collect(),
        };
        let last = calls.len() - 1;
        for (i, chunk) in calls.into_iter().enumerate() {
            if self.stopped(id) {
                return;
            }
            let eos = ends_stream && i == last;
            let h = self.http_mut(id);
            h.request_buffer.extend_from_slice(&chunk);
            let size = h.request_buffer.len() as i32;
            self.enter(id);
            let a = self.call::<(i32, i32, i32), i32>(
                "proxy_on_request_body",
                (id as i32, size, eos as i32),
            );
            let a = self.action("proxy_on_request_body", a);
            if self.stopped(id) {
                return;
            }
            self.forward_request(id, a, eos);
        }
    }

    /// After a request callback: `Continue` releases the buffered body
    /// upstream; `Pause` at the end of the request stalls it.
    fn forward_request(&mut self, id: u32, action: Action, end: bool) {
        let h = self.http_mut(id);
        match action {
            Action::Continue => {
                let buf = std::mem::take(&mut h.request_buffer);
                h.upstream_body.extend_from_slice(&buf);
            }
            Action::Pause if end => h.request_stalled = true,
            Action::Pause => {}
        }
    }

    /// Delivers response body `chunks`, none ending the stream, then
    /// response trailers that end it.
    pub fn response_body_then_trailers(&mut self, id: u32, chunks: &[&[u8]]) {
        for chunk in chunks {
            self.response_chunk(id, chunk, false);
        }
        if self.stopped(id) {
            return;
        }
        self.enter(id);
        self.http_mut(id).in_response_trailers = true;
        let a = self.call::<(i32, i32), i32>("proxy_on_response_trailers", (id as i32, 1));
        let a = self.action("proxy_on_response_trailers", a);
        let h = self.http_mut(id);
        h.in_response_trailers = false;
        match a {
            Action::Continue => {
                let buf = std::mem::take(&mut h.response_buffer);
                h.downstream_body.extend_from_slice(&buf);
            }
            Action::Pause => h.response_stalled = true,
        }
    }

    /// Delivers the response headers.
    pub fn response_headers(&mut self, id: u32, headers: &[(&str, &str)], end_of_stream: bool) {
        if self.stopped(id) {
            return;
        }
        let a = self.deliver_headers(id, Side::Response, headers, end_of_stream);
        self.http_mut(id).response_headers_action = Some(a);
    }

    /// Delivers the response body in `chunks`; the last ends the stream.
    pub fn response_body(&mut self, id: u32, chunks: &[&[u8]]) {
        let calls: Vec<&[u8]> = if chunks.is_empty() {
            vec![&[]]
        } else {
            chunks.to_vec()
        };
        let last = calls.len() - 1;
        for (i, chunk) in calls.into_iter().enumerate() {
            self.response_chunk(id, chunk, i == last);
        }
    }

    /// Delivers one response body chunk.
    pub fn response_chunk(&mut self, id: u32, chunk: &[u8], end_of_stream: bool) {
        if self.stopped(id) {
            return;
        }
        let kong = self.store.data().profile == Profile::Kong;
        let h = self.http_mut(id);
        h.response_buffer.extend_from_slice(chunk);
        // Kong (ngx_wasm_module 9136e463, ngx_http_proxy_wasm.c): a `Pause`
        // starts buffering; the filter is called once more, with the whole
        // body, at its end, and may not pause again.
        let buffering = kong && h.response_buffering;
        if buffering && !end_of_stream {
            return;
        }
        let size = h.response_buffer.len() as i32;
        self.enter(id);
        let a = self.call::<(i32, i32, i32), i32>(
            "proxy_on_response_body",
            (id as i32, size, end_of_stream as i32),
        );
        let a = self.action("proxy_on_response_body", a);
        assert!(
            !(buffering && a == Action::Pause),
            "Kong refuses a second Pause of the response body (\"response body buffering already requested\")"
        );
        let h = self.http_mut(id);
        h.response_buffering = kong && a == Action::Pause;
        h.response_released = a == Action::Continue;
        match a {
            Action::Continue => {
                let buf = std::mem::take(&mut h.response_buffer);
                h.downstream_body.extend_from_slice(&buf);
            }
            Action::Pause if end_of_stream => h.response_stalled = true,
            Action::Pause => h.response_pauses += 1,
        }
    }

    /// Ends the exchange as a host does: done, log, delete.
    pub fn finish(&mut self, id: u32) {
        self.enter(id);
        let _ = self.call::<i32, i32>("proxy_on_done", id as i32);
        self.call::<i32, ()>("proxy_on_log", id as i32);
        self.call::<i32, ()>("proxy_on_delete", id as i32);
    }
}

/// Which half of an exchange a header map belongs to.
#[derive(Clone, Copy)]
enum Side {
    Request,
    Response,
}
