#pragma once
// GoogleTest checks built on decode_harness: identical results for every split.

#include "decode_harness.hpp"

#include <gtest/gtest.h>

namespace ep::providers::sansio::testing {

/// Decodes whole, split at every single offset, split at every pair of offsets a prime
/// stride apart, and byte by byte; every run must give exactly the whole run's result.
inline decode_result expect_split_invariant(const decoder_factory& make, std::string_view bytes)
{
    auto whole = run_whole(make, bytes);
    for (std::size_t i = 1; i < bytes.size(); ++i)
    {
        auto split = run_decoder(make, bytes, {i});
        EXPECT_EQ(split.events, whole.events) << "split at offset " << i;
        EXPECT_EQ(split.ec, whole.ec) << "split at offset " << i;
        if (split.events != whole.events || split.ec != whole.ec)
            break;  // one report is enough
    }
    for (std::size_t i = 1; i + 7 < bytes.size(); i += 13)
    {
        auto split = run_decoder(make, bytes, {i, i + 7});
        EXPECT_EQ(split.events, whole.events) << "split at offsets " << i << "," << i + 7;
        if (split.events != whole.events)
            break;
    }
    auto bytewise = run_bytewise(make, bytes);
    EXPECT_EQ(bytewise.events, whole.events) << "byte by byte";
    EXPECT_EQ(bytewise.ec, whole.ec) << "byte by byte";
    return whole;
}

/// Every prefix shorter than `complete_at` must end in stream_truncated (fed whole).
inline void expect_prefixes_truncated(const decoder_factory& make, std::string_view bytes, std::size_t complete_at)
{
    for (std::size_t len = 0; len < complete_at; ++len)
    {
        auto r = run_whole(make, bytes.substr(0, len));
        EXPECT_EQ(r.ec, make_error_code(provider_errc::stream_truncated)) << "prefix of " << len << " bytes";
        if (r.ec != make_error_code(provider_errc::stream_truncated))
            break;
        bool has_finish = !r.events.empty() && r.events.back().starts_with("finish:");
        EXPECT_FALSE(has_finish) << "a truncated stream must not finish; prefix " << len;
        if (has_finish)
            break;
    }
}

}  // namespace ep::providers::sansio::testing
