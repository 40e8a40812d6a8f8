#include <ep/persistence/records.hpp>

#include <array>
#include <utility>

namespace ep::persistence {

namespace {

constexpr std::array<std::pair<run_status, std::string_view>, 6> run_names{{
    {run_status::pending, "pending"},
    {run_status::running, "running"},
    {run_status::waiting, "waiting"},
    {run_status::completed, "completed"},
    {run_status::failed, "failed"},
    {run_status::interrupted, "interrupted"},
}};
constexpr std::array<std::pair<phase_status, std::string_view>, 6> phase_names{{
    {phase_status::running, "running"},
    {phase_status::waiting, "waiting"},
    {phase_status::completed, "completed"},
    {phase_status::failed, "failed"},
    {phase_status::skipped, "skipped"},
    {phase_status::cancelled, "cancelled"},
}};
constexpr std::array<std::pair<attempt_outcome, std::string_view>, 3> outcome_names{{
    {attempt_outcome::ok, "ok"},
    {attempt_outcome::failed, "failed"},
    {attempt_outcome::cancelled, "cancelled"},
}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E value) noexcept
{
    for (const auto& [v, name] : table)
        if (v == value)
            return name;
    return "unknown";
}

template <class E, std::size_t N>
std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, N>& table,
                          std::string_view text) noexcept
{
    for (const auto& [v, name] : table)
        if (name == text)
            return v;
    return std::nullopt;
}

}  // namespace

timestamp now_ms() noexcept
{
    return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string_view to_string(run_status s) noexcept
{
    return name_of(run_names, s);
}
std::string_view to_string(phase_status s) noexcept
{
    return name_of(phase_names, s);
}
std::string_view to_string(attempt_outcome o) noexcept
{
    return name_of(outcome_names, o);
}

std::optional<run_status> parse_run_status(std::string_view text) noexcept
{
    return value_of(run_names, text);
}
std::optional<phase_status> parse_phase_status(std::string_view text) noexcept
{
    return value_of(phase_names, text);
}
std::optional<attempt_outcome> parse_attempt_outcome(std::string_view text) noexcept
{
    return value_of(outcome_names, text);
}

bool is_finished(run_status s) noexcept
{
    return s == run_status::completed || s == run_status::failed || s == run_status::interrupted;
}

}  // namespace ep::persistence
