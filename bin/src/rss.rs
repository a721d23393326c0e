//! Peak memory of this process, read from Linux's /proc.

/// Resets the peak-RSS counter so the next reading covers only what follows; a no-op
/// where the kernel does not support it.
///
/// The allocator first hands the memory it keeps from earlier work back to the system:
/// otherwise a benchmark row after a larger one starts with the larger one's pages still
/// resident, and its peak reports them.
pub fn reset_peak() {
    // SAFETY: `mi_collect` takes no pointers; it only frees what mimalloc, the global
    // allocator, holds unused.
    unsafe { libmimalloc_sys::mi_collect(true) };
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident set size in MiB since start or the last [`reset_peak`], if known.
pub fn peak_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
