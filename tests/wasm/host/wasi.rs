//! The test host's imports for WASI preview 1, as far as the module needs it.

use super::*;

/// Adds the WASI preview 1 imports the module needs to `l`.
pub(super) fn link(l: &mut Linker<HostState>) -> Result<()> {
    let wasi = "wasi_snapshot_preview1";
    l.func_wrap(
        wasi,
        "fd_write",
        |mut c: Caller<'_, HostState>, fd: i32, iovs: i32, n: i32, ret: i32| -> Result<i32> {
            let mut total = 0u32;
            for i in 0..n {
                let iov = read(&mut c, iovs + 8 * i, 8)?;
                let ptr = i32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]);
                let len = i32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]);
                let bytes = read(&mut c, ptr, len)?;
                total += bytes.len() as u32;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                c.data_mut().stdio.push_str(&format!("[fd {fd}] {text}"));
            }
            write_u32(&mut c, ret, total)?;
            Ok(0)
        },
    )?;
    l.func_wrap(
        wasi,
        "random_get",
        |mut c: Caller<'_, HostState>, ptr: i32, len: i32| -> Result<i32> {
            let mut bytes = Vec::with_capacity(len as u32 as usize);
            while bytes.len() < len as u32 as usize {
                let s = c.data_mut();
                // xorshift64*, seeded randomly per VM.
                s.seed ^= s.seed >> 12;
                s.seed ^= s.seed << 25;
                s.seed ^= s.seed >> 27;
                let v = s.seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            bytes.truncate(len as u32 as usize);
            write(&mut c, ptr, &bytes)?;
            Ok(0)
        },
    )?;
    l.func_wrap(
        wasi,
        "clock_time_get",
        |mut c: Caller<'_, HostState>, _id: i32, _precision: i64, ret: i32| -> Result<i32> {
            write(&mut c, ret, &now_nanos().to_le_bytes())?;
            Ok(0)
        },
    )?;
    for (sizes, get) in [
        ("environ_sizes_get", "environ_get"),
        ("args_sizes_get", "args_get"),
    ] {
        l.func_wrap(
            wasi,
            sizes,
            |mut c: Caller<'_, HostState>, count: i32, size: i32| -> Result<i32> {
                write_u32(&mut c, count, 0)?;
                write_u32(&mut c, size, 0)?;
                Ok(0)
            },
        )?;
        l.func_wrap(wasi, get, |_: i32, _: i32| -> Result<i32> { Ok(0) })?;
    }
    l.func_wrap(wasi, "proc_exit", |code: i32| -> Result<()> {
        trap(&format!("proc_exit({code}) called"))
    })?;
    l.func_wrap(wasi, "fd_close", |_: i32| -> Result<i32> { Ok(0) })?;
    // EBADF: the module has no files.
    l.func_wrap(
        wasi,
        "fd_seek",
        |_: i32, _: i64, _: i32, _: i32| -> Result<i32> { Ok(8) },
    )?;
    l.func_wrap(wasi, "fd_fdstat_get", |_: i32, _: i32| -> Result<i32> {
        Ok(8)
    })?;
    Ok(())
}
