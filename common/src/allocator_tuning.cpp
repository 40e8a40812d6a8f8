#include <ep/allocator_tuning.hpp>

#include <cstdlib>  // defines __GLIBC__ where the C library is glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ep {

void tune_allocator_for_throughput() noexcept
{
#if defined(__GLIBC__)
    constexpr int trim_threshold = 256 << 20;  // give memory back only past 256 MiB free
    constexpr int top_pad = 16 << 20;          // grow the heap in 16 MiB steps
    mallopt(M_TRIM_THRESHOLD, trim_threshold);
    mallopt(M_TOP_PAD, top_pad);
#endif
}

}  // namespace ep
