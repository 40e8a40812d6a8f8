#include "state.hpp"

namespace ep::emulator::detail {

namespace {

constexpr std::string_view model_marker = "emu-fault:";

}  // namespace

fault_choice shared_state::choose_fault(const std::string& header_spec, const std::string& model,
                                        const std::string& protocol, const std::string& persona)
{
    fault_choice out;
    std::string text;
    if (!header_spec.empty())
        text = header_spec;
    else if (auto pos = model.find(model_marker); pos != std::string::npos)
        text = model.substr(pos + model_marker.size());

    std::lock_guard lock(mutex_);
    if (!text.empty())
    {
        std::string error;
        auto spec = parse_fault_spec(text, &error);
        if (!spec)
        {
            out.error = "invalid emulator fault spec '" + text + "': " + error;
            return out;
        }
        if (spec->times)
        {
            // Counted per spec text, so "429,times=2" fails twice, whatever the model.
            int& used = spec_uses_[text];
            if (used >= *spec->times)
                return out;
            ++used;
        }
        out.fault = spec;
        return out;
    }
    for (auto& r : rules_)
    {
        if ((r.rule.protocol && *r.rule.protocol != protocol) || (r.rule.model && *r.rule.model != model) ||
            (r.rule.persona && *r.rule.persona != persona))
            continue;
        if (r.remaining)
        {
            if (*r.remaining <= 0)
                continue;
            --*r.remaining;
        }
        out.fault = r.rule.fault;
        return out;
    }
    return out;
}

void shared_state::add_rule(fault_rule rule)
{
    std::lock_guard lock(mutex_);
    auto remaining = rule.fault.times;
    rules_.push_back({std::move(rule), remaining});
}

void shared_state::clear_rules()
{
    std::lock_guard lock(mutex_);
    rules_.clear();
}

std::size_t shared_state::rule_count() const
{
    std::lock_guard lock(mutex_);
    return rules_.size();
}

nlohmann::json shared_state::rules_json() const
{
    std::lock_guard lock(mutex_);
    auto out = nlohmann::json::array();
    for (const auto& r : rules_)
    {
        nlohmann::json j = {{"fault", r.rule.fault.to_string()}};
        if (r.rule.protocol)
            j["protocol"] = *r.rule.protocol;
        if (r.rule.model)
            j["model"] = *r.rule.model;
        if (r.rule.persona)
            j["persona"] = *r.rule.persona;
        if (r.remaining)
            j["remaining"] = *r.remaining;
        out.push_back(std::move(j));
    }
    return out;
}

void shared_state::record(request_record record)
{
    std::lock_guard lock(mutex_);
    record.seq = next_seq_++;
    const auto& p = record.protocol;
    if (p == "openai" || p == "anthropic" || p == "gemini")
    {
        ++stats_.requests;
        ++stats_.by_protocol[p];
        ++stats_.by_model[record.model];
        ++stats_.by_persona[record.persona];
        ++stats_.by_status[std::to_string(record.status)];
        if (!record.fault.empty())
        {
            auto spec = parse_fault_spec(record.fault);
            ++stats_.by_fault[std::string(to_string(spec ? spec->kind : fault_kind::none))];
        }
    }
    log_.push_back(std::move(record));
    while (log_.size() > max_logged_)
        log_.pop_front();
}

void shared_state::connection_accepted()
{
    std::lock_guard lock(mutex_);
    ++stats_.connections;
}

std::vector<request_record> shared_state::requests() const
{
    std::lock_guard lock(mutex_);
    return {log_.begin(), log_.end()};
}

emulator_stats shared_state::stats() const
{
    std::lock_guard lock(mutex_);
    return stats_;
}

void shared_state::reset()
{
    std::lock_guard lock(mutex_);
    log_.clear();
    stats_ = {};
    rules_.clear();
    spec_uses_.clear();
    cached_prefixes_.clear();
}

bool shared_state::remember_prefix(std::uint64_t hash)
{
    std::lock_guard lock(mutex_);
    return !cached_prefixes_.insert(hash).second;
}

}  // namespace ep::emulator::detail
