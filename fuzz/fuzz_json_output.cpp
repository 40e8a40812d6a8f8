// The JSON phase output check and its repair prompt on arbitrary model answers, against a
// fixed schema. Checked: no crash and no exception; an answer is either accepted with a value
// or refused with an error, and a refusal always yields a repair prompt quoting it.
#include <ep/engine/run/json_output.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace {

const nlohmann::json& schema()
{
    static const nlohmann::json s = nlohmann::json::parse(R"({
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 40},
            "items": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "kind": {"enum": ["a", "b"]}
        },
        "required": ["title"],
        "additionalProperties": false
    })");
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view answer(reinterpret_cast<const char*>(data), size);
    // The first byte chooses between the schema and none (plain JSON mode).
    const bool with_schema = size > 0 && (data[0] & 1);
    const std::optional<nlohmann::json> s = with_schema ? std::optional<nlohmann::json>(schema()) : std::nullopt;
    const auto check = ep::engine::check_json_output(answer, s);
    if (check.value.has_value() == !check.error.empty())
        std::abort();  // accepted with a value xor refused with a reason
    if (!check.value)
    {
        const auto prompt = ep::engine::json_repair_prompt(check, s);
        if (prompt.empty())
            std::abort();
    }
    return 0;
}
