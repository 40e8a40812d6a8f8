#pragma once
// Process-wide malloc settings for ep-run and the benchmarks that measure it.

namespace ep {

/// Keeps freed heap memory in the process instead of handing it back to the kernel after
/// every phase. glibc's defaults trim the heap top whenever 128 KiB are free and grow it again
/// on the next phase: a page fault and a madvise per phase, about 30 µs of a ~200 µs phase on
/// a VM. The cost is up to 256 MiB of freed memory kept for reuse, which a CLI run can afford.
/// Call once, early in main(); a library must not call it behind its user's back. A no-op
/// where the C library is not glibc.
void tune_allocator_for_throughput() noexcept;

}  // namespace ep
