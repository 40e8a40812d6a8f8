#pragma once
// What the emulator remembers across requests: the request log, the counters, the fault
// rules and the `times` counts. Thread-safe (one mutex; every operation is short).

#include "ep/emulator/emulator.hpp"
#include "ep/emulator/faults.hpp"

#include <deque>
#include <mutex>
#include <set>
#include <optional>
#include <string>
#include <vector>

namespace ep::emulator::detail {

struct fault_choice
{
    std::optional<fault_spec> fault;  ///< the fault to apply, if any
    std::string error;                ///< an invalid header/model spec (answer 400)
};

class shared_state
{
public:
    explicit shared_state(std::size_t max_logged) : max_logged_(max_logged) {}

    /// Picks the fault for one protocol request (precedence in faults.hpp) and consumes one
    /// of its `times`.
    fault_choice choose_fault(const std::string& header_spec, const std::string& model, const std::string& protocol,
                              const std::string& persona);

    void add_rule(fault_rule rule);
    void clear_rules();
    std::size_t rule_count() const;
    nlohmann::json rules_json() const;

    /// Appends to the log (assigning `seq`) and, for protocol requests, counts it.
    void record(request_record record);
    /// Counts an accepted connection.
    void connection_accepted();
    std::vector<request_record> requests() const;
    emulator_stats stats() const;
    void reset();

    /// Prompt caching: whether a prompt prefix with this hash was seen before (a cache
    /// read) or not (a cache write, remembered from now on).
    bool remember_prefix(std::uint64_t hash);

private:
    struct rule_state
    {
        fault_rule rule;
        std::optional<int> remaining;
    };

    mutable std::mutex mutex_;
    std::size_t max_logged_;
    std::int64_t next_seq_ = 1;
    std::deque<request_record> log_;
    emulator_stats stats_;
    std::vector<rule_state> rules_;
    std::map<std::string, int> spec_uses_;
    std::set<std::uint64_t> cached_prefixes_;
};

}  // namespace ep::emulator::detail
