//! The test host's imports for shared data.

use super::*;

/// Adds the imports for shared data to `l`.
pub(super) fn link(l: &mut Linker<HostState>) -> Result<()> {
    let env = "env";
    l.func_wrap(
        env,
        "proxy_get_shared_data",
        |mut c: Caller<'_, HostState>,
         kp: i32,
         kl: i32,
         ret_ptr: i32,
         ret_len: i32,
         ret_cas: i32|
         -> Result<i32> {
            c.data().check_shared_data()?;
            let key = read_string(&mut c, kp, kl)?;
            let entry = c
                .data()
                .shared
                .lock()
                .map_err(|_| format_err!("shared data lock poisoned"))?
                .get(&key)
                .cloned();
            match entry {
                Some((value, cas)) => {
                    return_bytes(&mut c, &value, ret_ptr, ret_len)?;
                    write_u32(&mut c, ret_cas, cas)?;
                    Ok(OK)
                }
                None => Ok(NOT_FOUND),
            }
        },
    )?;
    l.func_wrap(
        env,
        "proxy_set_shared_data",
        |mut c: Caller<'_, HostState>,
         kp: i32,
         kl: i32,
         vp: i32,
         vl: i32,
         cas: i32|
         -> Result<i32> {
            c.data().check_shared_data()?;
            let key = read_string(&mut c, kp, kl)?;
            let value = read(&mut c, vp, vl)?;
            let shared = c.data().shared.clone();
            let mut map = shared
                .lock()
                .map_err(|_| format_err!("shared data lock poisoned"))?;
            let current = map.get(&key).map_or(0, |(_, c)| *c);
            if cas != 0 && cas as u32 != current {
                return Ok(CAS_MISMATCH);
            }
            map.insert(key, (value, current + 1));
            Ok(OK)
        },
    )?;

    Ok(())
}
