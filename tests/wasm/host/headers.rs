//! The test host's imports for header maps and local responses.

use super::*;

/// Adds the imports for header maps and local responses to `l`.
pub(super) fn link(l: &mut Linker<HostState>) -> Result<()> {
    let env = "env";
    l.func_wrap(
        env,
        "proxy_get_header_map_value",
        |mut c: Caller<'_, HostState>,
         map: i32,
         kp: i32,
         kl: i32,
         ret_ptr: i32,
         ret_len: i32|
         -> Result<i32> {
            let key = read_string(&mut c, kp, kl)?;
            let value = {
                let headers = c.data_mut().header_map(map)?;
                find(headers, &key).map(|v| v.as_bytes().to_vec())
            };
            match value {
                Some(v) => {
                    return_bytes(&mut c, &v, ret_ptr, ret_len)?;
                    Ok(OK)
                }
                None => Ok(NOT_FOUND),
            }
        },
    )?;
    l.func_wrap(
        env,
        "proxy_replace_header_map_value",
        |mut c: Caller<'_, HostState>,
         map: i32,
         kp: i32,
         kl: i32,
         vp: i32,
         vl: i32|
         -> Result<i32> {
            let key = read_string(&mut c, kp, kl)?.to_ascii_lowercase();
            let value = read_string(&mut c, vp, vl)?;
            let headers = c.data_mut().header_map(map)?;
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
            headers.push((key, value));
            Ok(OK)
        },
    )?;
    l.func_wrap(
        env,
        "proxy_add_header_map_value",
        |mut c: Caller<'_, HostState>,
         map: i32,
         kp: i32,
         kl: i32,
         vp: i32,
         vl: i32|
         -> Result<i32> {
            let key = read_string(&mut c, kp, kl)?.to_ascii_lowercase();
            let value = read_string(&mut c, vp, vl)?;
            let headers = c.data_mut().header_map(map)?;
            headers.push((key, value));
            Ok(OK)
        },
    )?;
    l.func_wrap(
        env,
        "proxy_remove_header_map_value",
        |mut c: Caller<'_, HostState>, map: i32, kp: i32, kl: i32| -> Result<i32> {
            let key = read_string(&mut c, kp, kl)?;
            let headers = c.data_mut().header_map(map)?;
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
            Ok(OK)
        },
    )?;
    l.func_wrap(
        env,
        "proxy_get_header_map_pairs",
        |mut c: Caller<'_, HostState>, map: i32, ret_ptr: i32, ret_len: i32| -> Result<i32> {
            let data = {
                let headers = c.data_mut().header_map(map)?;
                serialize_map(headers)
            };
            return_bytes(&mut c, &data, ret_ptr, ret_len)?;
            Ok(OK)
        },
    )?;
    l.func_wrap(
        env,
        "proxy_set_header_map_pairs",
        |mut c: Caller<'_, HostState>, map: i32, ptr: i32, len: i32| -> Result<i32> {
            let bytes = read(&mut c, ptr, len)?;
            let pairs = deserialize_map(&bytes)?;
            let headers = c.data_mut().header_map(map)?;
            *headers = pairs;
            Ok(OK)
        },
    )?;

    // Local replies.
    l.func_wrap(
        env,
        "proxy_send_local_response",
        |mut c: Caller<'_, HostState>,
         status: i32,
         _dp: i32,
         _dl: i32,
         bp: i32,
         bl: i32,
         hp: i32,
         hl: i32,
         _grpc: i32|
         -> Result<i32> {
            let body = read(&mut c, bp, bl)?;
            let headers = if hl == 0 {
                Vec::new()
            } else {
                deserialize_map(&read(&mut c, hp, hl)?)?
            };
            let h = c.data_mut().http()?;
            if h.local_response.is_some() {
                return trap("proxy_send_local_response called twice in one exchange");
            }
            h.local_response = Some(LocalResponse {
                status: status as u32,
                headers,
                body,
            });
            Ok(OK)
        },
    )?;

    // Metrics.
    Ok(())
}
