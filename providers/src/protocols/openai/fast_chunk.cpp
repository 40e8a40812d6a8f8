#include "protocols/openai/fast_chunk.hpp"

#include "protocols/common/json_scan.hpp"

namespace ep::providers::sansio {

namespace {

// Keys the full parse reads. Seeing one twice gives up: nlohmann keeps the last value, and
// mirroring that is not worth it for a shape no server sends.
enum key_bit : unsigned
{
    top_choices = 1u << 0,
    top_error = 1u << 1,
    top_usage = 1u << 2,
    top_object = 1u << 3,
    choice_index = 1u << 4,
    choice_delta = 1u << 5,
    choice_finish = 1u << 6,
    delta_content = 1u << 7,
    delta_refusal = 1u << 8,
    delta_tool_calls = 1u << 9,
};

class chunk_scan
{
public:
    chunk_scan(std::string_view data, openai_fast_chunk& out) : s_(data), out_(out) {}

    bool run()
    {
        return s_.object([this](std::string_view key) { return top_member(key); }) && s_.at_end();
    }

private:
    bool first(key_bit bit) noexcept
    {
        if (seen_ & bit)
            return false;
        seen_ |= bit;
        return true;
    }

    bool top_member(std::string_view key)
    {
        if (key == "choices")
            return first(top_choices) && s_.array([this] { return ++choices_ == 1 && choice(); });
        if (key == "error")
            return first(top_error) && s_.literal("null");
        if (key == "usage")
            return first(top_usage) && s_.literal("null");
        if (key == "object")
        {
            std::string_view v;
            bool escaped = false;
            return first(top_object) && s_.string(v, escaped) && !escaped && v != "error";
        }
        return s_.skip_value();
    }

    bool choice()
    {
        return s_.object([this](std::string_view key) {
            if (key == "index")
            {
                // Only a literal 0: the full parse would skip other indexes, and reads 0.0 as 0.
                std::string_view n;
                return first(choice_index) && s_.number(n) && n == "0";
            }
            if (key == "delta")
                return first(choice_delta) && s_.object([this](std::string_view k) { return delta_member(k); });
            if (key == "finish_reason")
                return first(choice_finish) && s_.literal("null");
            return s_.skip_value();
        });
    }

    bool delta_member(std::string_view key)
    {
        if (key == "content")
        {
            if (!first(delta_content))
                return false;
            if (!s_.next_is('"'))
                return s_.literal("null");
            return s_.string(out_.content, out_.escaped);
        }
        if (key == "refusal")
            return first(delta_refusal) && s_.literal("null");
        if (key == "tool_calls")
            return first(delta_tool_calls) && s_.literal("null");
        if (key == "reasoning_content" || key == "reasoning")  // compatible servers' thinking
            return s_.literal("null");
        return s_.skip_value();  // "role", and fields the full parse ignores as well
    }

    json_scanner s_;
    openai_fast_chunk& out_;
    unsigned seen_ = 0;
    int choices_ = 0;
};

}  // namespace

bool scan_openai_fast_chunk(std::string_view data, openai_fast_chunk& out) noexcept
{
    out = {};
    return chunk_scan(data, out).run();
}

}  // namespace ep::providers::sansio
