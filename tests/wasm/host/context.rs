//! The test host's imports for the log, time, the effective context, stream actions and properties.

use super::*;

/// Adds the imports for the log, time, the effective context, stream
/// actions and properties to `l`.
pub(super) fn link(l: &mut Linker<HostState>) -> Result<()> {
    let env = "env";
    l.func_wrap(
        env,
        "proxy_log",
        |mut c: Caller<'_, HostState>, level: i32, ptr: i32, len: i32| -> Result<i32> {
            let msg = read_string(&mut c, ptr, len)?;
            c.data_mut().logs.push((level, msg));
            Ok(OK)
        },
    )?;
    l.func_wrap(env, "proxy_get_log_level", |_: i32| -> Result<i32> {
        trap("proxy_get_log_level called: it traps on Kong, the filter must never call it")
    })?;
    l.func_wrap(env, "proxy_done", || -> Result<i32> {
        trap("proxy_done called: it traps on Kong, the filter must never call it")
    })?;
    l.func_wrap(
        env,
        "proxy_get_current_time_nanoseconds",
        |mut c: Caller<'_, HostState>, ret: i32| -> Result<i32> {
            write(&mut c, ret, &now_nanos().to_le_bytes())?;
            Ok(OK)
        },
    )?;
    l.func_wrap(
        env,
        "proxy_set_effective_context",
        |mut c: Caller<'_, HostState>, id: i32| -> Result<i32> {
            let id = id as u32;
            let s = c.data_mut();
            if s.http.contains_key(&id) {
                s.current = id;
                Ok(OK)
            } else {
                Ok(BAD_ARGUMENT)
            }
        },
    )?;
    l.func_wrap(
        env,
        "proxy_continue_stream",
        |_: Caller<'_, HostState>, stream: i32| -> Result<i32> {
            match stream {
                0 => Ok(OK),
                1 => trap("proxy_continue_stream(HttpResponse) (resume_http_response) called: it traps on Kong"),
                other => trap(&format!("proxy_continue_stream({other}) not supported")),
            }
        },
    )?;
    l.func_wrap(
        env,
        "proxy_close_stream",
        |mut c: Caller<'_, HostState>, _stream: i32| -> Result<i32> {
            c.data_mut().http()?.request_stalled = true;
            Ok(OK)
        },
    )?;
    l.func_wrap(
        env,
        "proxy_get_property",
        |mut c: Caller<'_, HostState>, p: i32, l: i32, rp: i32, rl: i32| -> Result<i32> {
            let path = read(&mut c, p, l)?;
            if c.data().profile == Profile::Envoy && path == b"plugin_vm_id" {
                return_bytes(&mut c, b"aws_masker", rp, rl)?;
                return Ok(OK);
            }
            Ok(NOT_FOUND)
        },
    )?;
    l.func_wrap(
        env,
        "proxy_set_property",
        |_: Caller<'_, HostState>, _p: i32, _l: i32, _v: i32, _vl: i32| -> Result<i32> { Ok(OK) },
    )?;

    // Buffers.
    Ok(())
}
