//! The test host's imports for body and configuration buffers.

use super::*;

/// Adds the imports for body and configuration buffers to `l`.
pub(super) fn link(l: &mut Linker<HostState>) -> Result<()> {
    let env = "env";
    l.func_wrap(
        env,
        "proxy_get_buffer_bytes",
        |mut c: Caller<'_, HostState>,
         kind: i32,
         start: i32,
         max: i32,
         ret_ptr: i32,
         ret_len: i32|
         -> Result<i32> {
            let (start, max) = (start as u32 as usize, max as u32 as usize);
            let data = {
                let s = c.data_mut();
                let buf = match kind {
                    BUF_PLUGIN_CONFIGURATION => s.plugin_config.clone(),
                    BUF_VM_CONFIGURATION => Vec::new(),
                    BUF_REQUEST_BODY => {
                        let h = s.http()?;
                        if h.spilled {
                            return Ok(NOT_FOUND);
                        }
                        h.request_buffer.clone()
                    }
                    BUF_RESPONSE_BODY => {
                        let envoy = s.profile == Profile::Envoy;
                        let h = s.http()?;
                        if envoy && h.in_response_trailers && h.response_released {
                            return Ok(NOT_FOUND);
                        }
                        h.response_buffer.clone()
                    }
                    other => {
                        return trap(&format!(
                            "proxy_get_buffer_bytes: buffer type {other} not implemented"
                        ))
                    }
                };
                let body = matches!(kind, BUF_REQUEST_BODY | BUF_RESPONSE_BODY);
                if s.profile == Profile::Kong && body && (start > 0 || max < buf.len()) {
                    // Kong 3.9's engine (ngx_wasm_module 9136e463,
                    // `ngx_proxy_wasm_hfuncs_get_buffer`) ignores the offset
                    // and, on a body held in several buffers, copies past
                    // `max` into the VM's heap: seen trapping Kong's own
                    // engine. A filter must read a body whole there.
                    return trap(&format!(
                        "proxy_get_buffer_bytes on Kong: a part of a body ({start}, {max} of {}), which Kong's engine does not read right",
                        buf.len()
                    ));
                }
                if buf.is_empty() || start >= buf.len() {
                    return Ok(NOT_FOUND);
                }
                let end = start.saturating_add(max).min(buf.len());
                buf[start..end].to_vec()
            };
            return_bytes(&mut c, &data, ret_ptr, ret_len)?;
            Ok(OK)
        },
    )?;
    l.func_wrap(
        env,
        "proxy_set_buffer_bytes",
        |mut c: Caller<'_, HostState>,
         kind: i32,
         start: i32,
         size: i32,
         ptr: i32,
         len: i32|
         -> Result<i32> {
            let data = read(&mut c, ptr, len)?;
            let (start, size) = (start as u32 as usize, size as u32 as usize);
            let s = c.data_mut();
            let profile = s.profile;
            let h = s.http()?;
            if kind == BUF_RESPONSE_BODY {
                if profile == Profile::Envoy && h.in_response_trailers && h.response_released {
                    return Ok(NOT_FOUND);
                }
                h.max_response_write = h.max_response_write.max(data.len());
            }
            let buf = match kind {
                BUF_REQUEST_BODY => &mut h.request_buffer,
                BUF_RESPONSE_BODY => &mut h.response_buffer,
                other => {
                    return trap(&format!(
                        "proxy_set_buffer_bytes: buffer type {other} not supported"
                    ))
                }
            };
            Ok(set_buffer(profile, buf, start, size, &data))
        },
    )?;

    // Header maps.
    Ok(())
}

/// Replaces part of a body buffer as the profile's host does.
fn set_buffer(profile: Profile, buf: &mut Vec<u8>, start: usize, size: usize, data: &[u8]) -> i32 {
    match profile {
        Profile::Envoy => {
            if start == 0 {
                let drained = size.min(buf.len());
                buf.drain(..drained);
                buf.splice(0..0, data.iter().copied());
                OK
            } else if start >= buf.len() {
                buf.extend_from_slice(data);
                OK
            } else {
                BAD_ARGUMENT
            }
        }
        Profile::Kong => {
            if start == 0 && size == 0 {
                buf.splice(0..0, data.iter().copied());
            } else {
                buf.truncate(start);
                buf.extend_from_slice(&data[..size.min(data.len())]);
            }
            OK
        }
    }
}
