// The prompt template engine: parse_template on arbitrary text, then render_template with a
// render context read from the rest of the input. Input layout (so seeds stay readable):
//
//   TEMPLATE TEXT
//   %%
//   input NAME=TEXT          an input's value
//   phase ID=TEXT            a phase's output (also its JSON when TEXT parses as JSON)
//   previous ID=TEXT         the previous loop iteration's output of ID (same rule)
//   skipped ID               a skipped phase
//   outputs ID=JSON          a for_each phase's outputs
//   item=JSON | index=N | iteration=N
//
// Checked: no crash, no exception; every error and reference offset points into the text (a
// reference at a "{{"); a render either gives text or says why not; a template without
// references renders to its literal text whatever the context.
#include <ep/engine/template.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using ep::engine::render_context;

void check(bool invariant)
{
    if (!invariant)
        std::abort();
}

std::optional<nlohmann::json> json_of(std::string_view text)
{
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded())
        return std::nullopt;
    return j;
}

std::optional<long long> number_of(std::string_view text)
{
    if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
    return std::stoll(std::string(text));
}

// One "KEYWORD NAME=VALUE" / "KEYWORD NAME" / "KEYWORD=VALUE" line into `ctx`.
void read_context_line(std::string_view line, render_context& ctx)
{
    const auto space = line.find(' ');
    const auto eq = line.find('=');
    const auto word = line.substr(0, std::min(space, eq));
    const auto name = space < eq ? line.substr(space + 1, eq == std::string_view::npos ? eq : eq - space - 1)
                                 : std::string_view();
    const auto value = eq == std::string_view::npos ? std::string_view() : line.substr(eq + 1);
    if (word == "input")
        ctx.inputs[std::string(name)] = std::string(value);
    else if (word == "phase")
        ctx.phases[std::string(name)] = render_context::phase_result(std::string(value), json_of(value));
    else if (word == "previous")
        ctx.previous[std::string(name)] = render_context::phase_result(std::string(value), json_of(value));
    else if (word == "skipped")
        ctx.phases[std::string(name)].skipped = true;
    else if (word == "outputs")
        ctx.phases[std::string(name)].outputs = json_of(value);
    else if (word == "item")
        ctx.item = json_of(value);
    else if (word == "index")
    {
        if (auto n = number_of(value))
            ctx.index = static_cast<std::size_t>(*n);
    }
    else if (word == "iteration")
    {
        if (auto n = number_of(value))
            ctx.loop_iteration = static_cast<int>(*n);
    }
}

render_context read_context(std::string_view text)
{
    render_context ctx;
    while (!text.empty())
    {
        const auto nl = text.find('\n');
        read_context_line(text.substr(0, nl), ctx);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    }
    return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto sep = input.find("\n%%\n");
    const auto text = input.substr(0, sep);
    const auto ctx = read_context(sep == std::string_view::npos ? std::string_view() : input.substr(sep + 4));

    std::vector<ep::engine::template_error> errors;
    const auto tpl = ep::engine::parse_template(text, errors);
    for (const auto& e : errors)
        check(e.offset < text.size() && !e.message.empty());
    std::string literal;
    for (const auto& piece : tpl.pieces)
    {
        if (piece.ref)
            check(piece.ref->offset + 4 <= text.size() && text.substr(piece.ref->offset, 2) == "{{" &&
                  text.substr(piece.ref->offset, piece.ref->text.size()) == piece.ref->text);
        else
            literal += piece.literal;
    }

    std::string why;
    const auto rendered = ep::engine::render_template(tpl, ctx, &why);
    check(rendered.has_value() == why.empty());
    if (tpl.refs().empty())
        check(rendered.has_value() && *rendered == literal);
    // The same template against an empty context: references fail, they never crash.
    (void)ep::engine::render_template(tpl, render_context{}, nullptr);
    return 0;
}
