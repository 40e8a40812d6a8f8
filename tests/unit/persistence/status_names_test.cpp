// Status and outcome names: what the store writes as text and reads back. (The behaviour of
// the store itself is the backend conformance suite's, in conformance/.)

#include <ep/persistence/records.hpp>

#include <gtest/gtest.h>

namespace ep::persistence::test {
namespace {

TEST(records, status_names_round_trip)
{
    for (auto st : {run_status::pending, run_status::running, run_status::waiting, run_status::completed,
                    run_status::failed, run_status::interrupted})
        EXPECT_EQ(parse_run_status(to_string(st)), st);
    for (auto st : {phase_status::running, phase_status::waiting, phase_status::completed,
                    phase_status::failed, phase_status::skipped, phase_status::cancelled})
        EXPECT_EQ(parse_phase_status(to_string(st)), st);
    EXPECT_EQ(to_string(run_status::waiting), "waiting");
    EXPECT_EQ(to_string(phase_status::waiting), "waiting");
    for (auto o : {attempt_outcome::ok, attempt_outcome::failed, attempt_outcome::cancelled})
        EXPECT_EQ(parse_attempt_outcome(to_string(o)), o);
    EXPECT_FALSE(parse_run_status("bogus"));
    EXPECT_TRUE(is_finished(run_status::interrupted));
    EXPECT_FALSE(is_finished(run_status::running));
    EXPECT_FALSE(is_finished(run_status::waiting));  // a waiting run continues once decided
}

}  // namespace
}  // namespace ep::persistence::test
