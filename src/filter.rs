//! proxy-wasm glue (wasm32 only): [`Host`] over the raw ABI calls, the
//! root context (configuration, counters) and one HTTP context per
//! exchange, each callback handed to [`crate::exchange`]'s state machine,
//! which decides everything and is tested natively.
//!
//! Host calls go through the thin wrappers in [`host`], which treat every
//! unexpected status as "not available" instead of panicking as the SDK's
//! own wrappers do: a panic traps the VM and fails every later request.
//! `get_log_level`, `done` and `resume_http_response` are never called
//! (they trap on Kong).

use crate::exchange::host::{BodyBuffer, Counter, HeaderMap, Host, Level};
use crate::exchange::{configure, Exchange, Gateway, Verdict};
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};
use std::rc::Rc;

proxy_wasm::main! {{
    // Installs the SDK's panic hook, so a panic (a bug) is at least logged.
    proxy_wasm::set_log_level(LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root::default()) });
}}

/// Raw proxy-wasm ABI 0.2.1 host calls, never panicking.
mod host {
    use std::ptr::{null, null_mut};

    const OK: u32 = 0;

    pub const BUFFER_REQUEST_BODY: u32 = 0;
    pub const BUFFER_RESPONSE_BODY: u32 = 1;
    pub const BUFFER_PLUGIN_CONFIGURATION: u32 = 7;

    pub const MAP_REQUEST_HEADERS: u32 = 0;
    pub const MAP_RESPONSE_HEADERS: u32 = 2;

    const METRIC_COUNTER: u32 = 0;

    pub const LOG_INFO: u32 = 2;
    pub const LOG_WARN: u32 = 3;
    pub const LOG_ERROR: u32 = 4;

    #[allow(clashing_extern_declarations)]
    #[link(wasm_import_module = "env")]
    extern "C" {
        fn proxy_log(level: u32, message_data: *const u8, message_size: usize) -> u32;
        fn proxy_get_buffer_bytes(
            buffer_type: u32,
            start: usize,
            max_size: usize,
            return_buffer_data: *mut *mut u8,
            return_buffer_size: *mut usize,
        ) -> u32;
        fn proxy_set_buffer_bytes(
            buffer_type: u32,
            start: usize,
            size: usize,
            buffer_data: *const u8,
            buffer_size: usize,
        ) -> u32;
        fn proxy_get_header_map_value(
            map_type: u32,
            key_data: *const u8,
            key_size: usize,
            return_value_data: *mut *mut u8,
            return_value_size: *mut usize,
        ) -> u32;
        fn proxy_replace_header_map_value(
            map_type: u32,
            key_data: *const u8,
            key_size: usize,
            value_data: *const u8,
            value_size: usize,
        ) -> u32;
        fn proxy_remove_header_map_value(
            map_type: u32,
            key_data: *const u8,
            key_size: usize,
        ) -> u32;
        fn proxy_get_shared_data(
            key_data: *const u8,
            key_size: usize,
            return_value_data: *mut *mut u8,
            return_value_size: *mut usize,
            return_cas: *mut u32,
        ) -> u32;
        fn proxy_set_shared_data(
            key_data: *const u8,
            key_size: usize,
            value_data: *const u8,
            value_size: usize,
            cas: u32,
        ) -> u32;
        fn proxy_send_local_response(
            status_code: u32,
            status_code_details_data: *const u8,
            status_code_details_size: usize,
            body_data: *const u8,
            body_size: usize,
            headers_data: *const u8,
            headers_size: usize,
            grpc_status: i32,
        ) -> u32;
        fn proxy_define_metric(
            metric_type: u32,
            name_data: *const u8,
            name_size: usize,
            return_id: *mut u32,
        ) -> u32;
        fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
        fn proxy_get_property(
            path_data: *const u8,
            path_size: usize,
            return_value_data: *mut *mut u8,
            return_value_size: *mut usize,
        ) -> u32;
    }

    /// Takes ownership of memory the host allocated through
    /// `proxy_on_memory_allocate` (a boxed slice of exactly `len` bytes).
    fn owned(data: *mut u8, len: usize) -> Vec<u8> {
        if data.is_null() {
            return Vec::new();
        }
        // SAFETY: the host filled `len` bytes it allocated with the SDK's
        // `proxy_on_memory_allocate`, whose allocation has capacity `len`.
        unsafe { Vec::from_raw_parts(data, len, len) }
    }

    pub fn log(level: u32, message: &str) {
        // SAFETY: pointer and length of a live &str.
        let _ = unsafe { proxy_log(level, message.as_ptr(), message.len()) };
    }

    /// `None`: the host has no such buffer or could not deliver it.
    pub fn get_buffer(buffer_type: u32, start: usize, max_size: usize) -> Option<Vec<u8>> {
        let mut data: *mut u8 = null_mut();
        let mut len: usize = 0;
        // SAFETY: out-pointers to live locals.
        let status =
            unsafe { proxy_get_buffer_bytes(buffer_type, start, max_size, &mut data, &mut len) };
        let bytes = owned(data, len);
        (status == OK && !data.is_null()).then_some(bytes)
    }

    pub fn set_buffer(buffer_type: u32, start: usize, size: usize, value: &[u8]) -> bool {
        // SAFETY: pointer and length of a live slice.
        let status = unsafe {
            proxy_set_buffer_bytes(buffer_type, start, size, value.as_ptr(), value.len())
        };
        status == OK
    }

    /// A header value (lossy UTF-8), `None` when absent.
    pub fn get_header(map_type: u32, name: &str) -> Option<String> {
        let mut data: *mut u8 = null_mut();
        let mut len: usize = 0;
        // SAFETY: key is a live &str; out-pointers to live locals.
        let status = unsafe {
            proxy_get_header_map_value(map_type, name.as_ptr(), name.len(), &mut data, &mut len)
        };
        let bytes = owned(data, len);
        (status == OK).then(|| String::from_utf8_lossy(&bytes).into_owned())
    }

    pub fn set_header(map_type: u32, name: &str, value: &str) {
        // SAFETY: live &strs.
        let _ = unsafe {
            proxy_replace_header_map_value(
                map_type,
                name.as_ptr(),
                name.len(),
                value.as_ptr(),
                value.len(),
            )
        };
    }

    pub fn remove_header(map_type: u32, name: &str) {
        // SAFETY: live &str.
        let _ = unsafe { proxy_remove_header_map_value(map_type, name.as_ptr(), name.len()) };
    }

    /// The value and CAS of a shared-data key; `(None, 0)` when absent or
    /// when the host has no shared data.
    pub fn get_shared_data(key: &str) -> (Option<Vec<u8>>, u32) {
        let mut data: *mut u8 = null_mut();
        let mut len: usize = 0;
        let mut cas: u32 = 0;
        // SAFETY: key is a live &str; out-pointers to live locals.
        let status = unsafe {
            proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut len, &mut cas)
        };
        let bytes = owned(data, len);
        if status == OK && !data.is_null() {
            (Some(bytes), cas)
        } else {
            (None, if status == OK { cas } else { 0 })
        }
    }

    pub fn set_shared_data(key: &str, value: &[u8], cas: u32) -> bool {
        // SAFETY: live slices.
        let status = unsafe {
            proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), cas)
        };
        status == OK
    }

    /// Sends a local reply; the exchange goes no further upstream.
    pub fn send_response(status: u32, headers: &[(&str, &str)], body: &[u8]) -> bool {
        let mut map = Vec::new();
        map.extend_from_slice(&(headers.len() as u32).to_le_bytes());
        for (k, v) in headers {
            map.extend_from_slice(&(k.len() as u32).to_le_bytes());
            map.extend_from_slice(&(v.len() as u32).to_le_bytes());
        }
        for (k, v) in headers {
            map.extend_from_slice(k.as_bytes());
            map.push(0);
            map.extend_from_slice(v.as_bytes());
            map.push(0);
        }
        // SAFETY: pointers and lengths of live buffers.
        let status = unsafe {
            proxy_send_local_response(
                status,
                null(),
                0,
                body.as_ptr(),
                body.len(),
                map.as_ptr(),
                map.len(),
                -1,
            )
        };
        status == OK
    }

    /// A host property by its path (elements joined by NUL); `None` when
    /// the host does not know it.
    pub fn get_property(path: &str) -> Option<Vec<u8>> {
        let mut data: *mut u8 = null_mut();
        let mut len: usize = 0;
        // SAFETY: path is a live &str; out-pointers to live locals.
        let status = unsafe { proxy_get_property(path.as_ptr(), path.len(), &mut data, &mut len) };
        let bytes = owned(data, len);
        (status == OK && !data.is_null()).then_some(bytes)
    }

    pub fn define_counter(name: &str) -> Option<u32> {
        let mut id: u32 = 0;
        // SAFETY: live &str; out-pointer to a live local.
        let status =
            unsafe { proxy_define_metric(METRIC_COUNTER, name.as_ptr(), name.len(), &mut id) };
        (status == OK).then_some(id)
    }

    pub fn increment(id: u32, by: u64) {
        let by = i64::try_from(by).unwrap_or(i64::MAX);
        // SAFETY: plain values.
        let _ = unsafe { proxy_increment_metric(id, by) };
    }

    /// Fills `buf` with random bytes (WASI `random_get`).
    pub fn random(buf: &mut [u8]) -> bool {
        getrandom::getrandom(buf).is_ok()
    }
}

/// The counters' ids on the host, defined once per VM.
#[derive(Debug, Default)]
struct Metrics {
    ids: Vec<(Counter, u32)>,
}

impl Metrics {
    fn define() -> Metrics {
        Metrics {
            ids: Counter::all()
                .into_iter()
                .filter_map(|c| Some((c, host::define_counter(&c.name())?)))
                .collect(),
        }
    }
}

/// [`Host`] over the raw ABI calls of the running VM.
struct AbiHost {
    metrics: Rc<Metrics>,
}

fn buffer_type(buffer: BodyBuffer) -> u32 {
    match buffer {
        BodyBuffer::Request => host::BUFFER_REQUEST_BODY,
        BodyBuffer::Response => host::BUFFER_RESPONSE_BODY,
    }
}

fn map_type(map: HeaderMap) -> u32 {
    match map {
        HeaderMap::Request => host::MAP_REQUEST_HEADERS,
        HeaderMap::Response => host::MAP_RESPONSE_HEADERS,
    }
}

impl Host for AbiHost {
    fn body(&self, buffer: BodyBuffer, start: usize, len: usize) -> Option<Vec<u8>> {
        host::get_buffer(buffer_type(buffer), start, len)
    }

    fn set_body(&mut self, buffer: BodyBuffer, start: usize, size: usize, data: &[u8]) -> bool {
        host::set_buffer(buffer_type(buffer), start, size, data)
    }

    fn header(&self, map: HeaderMap, name: &str) -> Option<String> {
        host::get_header(map_type(map), name)
    }

    fn set_header(&mut self, map: HeaderMap, name: &str, value: &str) {
        host::set_header(map_type(map), name, value);
    }

    fn remove_header(&mut self, map: HeaderMap, name: &str) {
        host::remove_header(map_type(map), name);
    }

    fn send_response(&mut self, status: u32, headers: &[(&str, &str)], body: &[u8]) -> bool {
        host::send_response(status, headers, body)
    }

    fn log(&mut self, level: Level, message: &str) {
        let level = match level {
            Level::Info => host::LOG_INFO,
            Level::Warn => host::LOG_WARN,
            Level::Error => host::LOG_ERROR,
        };
        host::log(level, message);
    }

    fn count(&mut self, counter: Counter, by: u64) {
        if by == 0 {
            return;
        }
        if let Some((_, id)) = self.metrics.ids.iter().find(|(c, _)| *c == counter) {
            host::increment(*id, by);
        }
    }

    fn shared_data(&self, key: &str) -> (Option<Vec<u8>>, u32) {
        host::get_shared_data(key)
    }

    fn set_shared_data(&mut self, key: &str, value: &[u8], cas: u32) -> bool {
        host::set_shared_data(key, value, cas)
    }

    fn property(&self, path: &str) -> Option<Vec<u8>> {
        host::get_property(path)
    }

    fn random(&mut self, buf: &mut [u8]) -> bool {
        host::random(buf)
    }
}

#[derive(Default)]
struct Root {
    gateway: Option<Rc<Gateway>>,
    metrics: Option<Rc<Metrics>>,
}

impl Root {
    fn host(&mut self) -> AbiHost {
        let metrics = match &self.metrics {
            Some(m) => Rc::clone(m),
            None => {
                let m = Rc::new(Metrics::define());
                self.metrics = Some(Rc::clone(&m));
                m
            }
        };
        AbiHost { metrics }
    }
}

impl Context for Root {}

impl RootContext for Root {
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        let _ = self.host();
        true
    }

    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let mut host = self.host();
        let raw =
            host::get_buffer(host::BUFFER_PLUGIN_CONFIGURATION, 0, usize::MAX).unwrap_or_default();
        self.gateway = configure(&mut host, &raw).map(Rc::new);
        self.gateway.is_some()
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        let metrics = self.metrics.clone().unwrap_or_default();
        Some(Box::new(Http(Exchange::new(
            AbiHost { metrics },
            context_id,
            self.gateway.clone(),
        ))))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// One HTTP context: the SDK's callbacks, handed to the exchange.
struct Http(Exchange<AbiHost>);

fn action(verdict: Verdict) -> Action {
    match verdict {
        Verdict::Continue => Action::Continue,
        Verdict::Pause => Action::Pause,
    }
}

impl Context for Http {}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        action(self.0.on_request_headers(end_of_stream))
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        action(self.0.on_request_body(body_size, end_of_stream))
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        action(self.0.on_request_trailers())
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        action(self.0.on_response_headers())
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        action(self.0.on_response_body(body_size, end_of_stream))
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> Action {
        action(self.0.on_response_trailers())
    }
}
