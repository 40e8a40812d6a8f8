#include "ep/emulator/emulator.hpp"

#include <ctime>

namespace ep::emulator {

nlohmann::json request_record::to_json() const
{
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
    nlohmann::json j = {{"seq", seq},
                        {"time_ms", ms},
                        {"method", method},
                        {"protocol", protocol},
                        {"path", path},
                        {"model", model},
                        {"persona", persona},
                        {"stream", stream},
                        {"fault", fault},
                        {"status", status},
                        {"headers", headers}};
    // The body as JSON when it is JSON (easier to assert on), else as text.
    auto parsed = nlohmann::json::parse(body, nullptr, false);
    j["body"] = parsed.is_discarded() ? nlohmann::json(body) : parsed;
    return j;
}

nlohmann::json emulator_stats::to_json() const
{
    return {{"requests", requests},     {"connections", connections}, {"by_protocol", by_protocol}, {"by_model", by_model},
            {"by_persona", by_persona}, {"by_fault", by_fault},       {"by_status", by_status}};
}

}  // namespace ep::emulator
