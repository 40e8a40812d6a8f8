// The conversation converters (ep/providers/convert.hpp) on arbitrary JSON: the input, parsed
// as JSON, is read as an OpenAI `messages` array (or a request body's "messages"), an
// Anthropic Messages body, a Gemini generateContent body and a Responses body. Every
// conversation read is written back in all four formats, and each format's output must read
// back (a converter always understands what it writes).
// Checked: no crash, no exception; from_X(to_X(c)) succeeds for every format X; writing is
// stable: to_X(from_X(to_X(c))) == to_X(c) (what a format cannot hold is lost on the first trip;
// Gemini's made-up ids appear on the second).
#include <ep/providers/convert.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

namespace pv = ep::providers;
using nlohmann::json;

void check(bool invariant)
{
    if (!invariant)
        std::abort();
}

// A second trip must write the same JSON; on failure both are printed (the finding's report).
void check_same(const json& again, const json& first, const char* format)
{
    if (again == first)
        return;
    std::fprintf(stderr, "%s: the second trip wrote\n%s\nthe first\n%s\n", format, again.dump().c_str(),
                 first.dump().c_str());
    std::abort();
}

void write_and_read_back(const pv::conversation& c)
{
    const json openai = pv::to_openai_messages(c);
    const json anthropic = pv::to_anthropic_messages(c);
    const json gemini = pv::to_gemini_messages(c);
    const json responses = pv::to_responses_input(c);
    for (const json* j : {&openai, &anthropic, &gemini, &responses})
        (void)j->dump(-1, ' ', false, json::error_handler_t::replace);  // what the encoders send

    auto o = pv::from_openai_messages(openai);
    auto a = pv::from_anthropic_messages(anthropic);
    auto g = pv::from_gemini_messages(gemini);
    auto r = pv::from_responses_input(responses);
    check(o.has_value() && a.has_value() && g.has_value() && r.has_value());
    // A second trip through a format changes nothing more than the first did.
    check_same(pv::to_openai_messages(*o), openai, "openai");
    check_same(pv::to_anthropic_messages(*a), anthropic, "anthropic");
    // Gemini may omit ids, which reading makes up (and writing then keeps): stable from the
    // second trip on.
    const json gemini_with_ids = pv::to_gemini_messages(*g);
    auto g2 = pv::from_gemini_messages(gemini_with_ids);
    check(g2.has_value());
    check_same(pv::to_gemini_messages(*g2), gemini_with_ids, "gemini");
    check_same(pv::to_responses_input(*r), responses, "responses");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto body = json::parse(std::string_view(reinterpret_cast<const char*>(data), size), nullptr, false);
    if (body.is_discarded())
        return 0;
    const json& messages = body.is_object() && body.contains("messages") ? body["messages"] : body;
    if (auto c = pv::from_openai_messages(messages))
        write_and_read_back(*c);
    if (auto c = pv::from_anthropic_messages(body))
        write_and_read_back(*c);
    if (auto c = pv::from_gemini_messages(body))
        write_and_read_back(*c);
    if (auto c = pv::from_responses_input(body))
        write_and_read_back(*c);
    return 0;
}
