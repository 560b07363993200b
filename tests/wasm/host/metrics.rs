//! The test host's imports for metrics.

use super::*;

/// Adds the imports for metrics to `l`.
pub(super) fn link(l: &mut Linker<HostState>) -> Result<()> {
    let env = "env";
    l.func_wrap(
        env,
        "proxy_define_metric",
        |mut c: Caller<'_, HostState>, kind: i32, np: i32, nl: i32, ret: i32| -> Result<i32> {
            let name = read_string(&mut c, np, nl)?;
            let metrics = &mut c.data_mut().metrics;
            let id = match metrics.iter().position(|m| m.name == name) {
                Some(i) => i,
                None => {
                    metrics.push(Metric {
                        name,
                        kind,
                        value: 0,
                    });
                    metrics.len() - 1
                }
            };
            write_u32(&mut c, ret, id as u32 + 1)?;
            Ok(OK)
        },
    )?;
    l.func_wrap(
        env,
        "proxy_increment_metric",
        |mut c: Caller<'_, HostState>, id: i32, by: i64| -> Result<i32> {
            let Some(m) = c.data_mut().metric(id) else {
                return Ok(NOT_FOUND);
            };
            m.value = m.value.saturating_add_signed(by);
            Ok(OK)
        },
    )?;
    l.func_wrap(
        env,
        "proxy_record_metric",
        |mut c: Caller<'_, HostState>, id: i32, value: i64| -> Result<i32> {
            let Some(m) = c.data_mut().metric(id) else {
                return Ok(NOT_FOUND);
            };
            m.value = value as u64;
            Ok(OK)
        },
    )?;
    l.func_wrap(
        env,
        "proxy_get_metric",
        |mut c: Caller<'_, HostState>, id: i32, ret: i32| -> Result<i32> {
            let Some(v) = c
                .data()
                .metrics
                .get((id as u32 as usize).wrapping_sub(1))
                .map(|m| m.value)
            else {
                return Ok(NOT_FOUND);
            };
            write(&mut c, ret, &v.to_le_bytes())?;
            Ok(OK)
        },
    )?;

    // Shared data.
    Ok(())
}
