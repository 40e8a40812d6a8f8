#include <ep/engine/error.hpp>
#include <ep/engine/template.hpp>

#include <cctype>

namespace ep::engine {
namespace {

bool is_ident_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

constexpr const char* expected_forms =
    "expected inputs.NAME, phases.ID.output, phases.ID.json.PATH, phases.ID.outputs, previous.ID.output, "
    "previous.ID.json.PATH, loop.iteration, item, item.PATH or index";

// phases.ID.output|json.PATH|outputs and previous.ID.output|json.PATH.
std::optional<template_ref> parse_phase_ref(const std::vector<std::string>& parts, template_ref ref,
                                            std::size_t offset, std::vector<template_error>& errors)
{
    const bool previous = parts[0] == "previous";
    if (parts.size() >= 3)
    {
        ref.name = parts[1];
        if (parts[2] == "output" && parts.size() == 3)
        {
            ref.kind = previous ? template_ref::kind_type::previous_output : template_ref::kind_type::phase_output;
            return ref;
        }
        if (parts[2] == "outputs" && parts.size() == 3 && !previous)
        {
            ref.kind = template_ref::kind_type::phase_outputs;
            return ref;
        }
        if (parts[2] == "json")
        {
            ref.kind = previous ? template_ref::kind_type::previous_json : template_ref::kind_type::phase_json;
            ref.path.assign(parts.begin() + 3, parts.end());
            return ref;
        }
    }
    errors.push_back({offset, "invalid template expression '" + ref.text + "' (expected " + parts[0] +
                                  ".ID.output, " + parts[0] + ".ID.json.PATH" +
                                  (previous ? std::string(")") : std::string(" or phases.ID.outputs)"))});
    return std::nullopt;
}

// Parses the inside of one "{{ … }}"; nullopt (with an error) when malformed.
std::optional<template_ref> parse_expression(std::string_view inner, std::size_t offset, std::string_view text,
                                             std::vector<template_error>& errors)
{
    auto trim = [](std::string_view s) {
        while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
            s.remove_prefix(1);
        while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
            s.remove_suffix(1);
        return s;
    };
    std::string_view body = trim(inner);
    const std::string shown(text);
    if (body.empty())
    {
        errors.push_back({offset, "empty template expression '" + shown + "' (" + expected_forms + ")"});
        return std::nullopt;
    }
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true)
    {
        std::size_t dot = body.find('.', start);
        std::string_view part = body.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        bool ok = !part.empty();
        for (char c : part)
            ok = ok && is_ident_char(c);
        if (!ok)
        {
            errors.push_back({offset, "invalid template expression '" + shown + "' (" + expected_forms + ")"});
            return std::nullopt;
        }
        parts.emplace_back(part);
        if (dot == std::string_view::npos)
            break;
        start = dot + 1;
    }

    template_ref ref;
    ref.offset = offset;
    ref.text = shown;
    if (parts[0] == "inputs")
    {
        if (parts.size() != 2)
        {
            errors.push_back({offset, "invalid template expression '" + shown + "' (expected inputs.NAME)"});
            return std::nullopt;
        }
        ref.kind = template_ref::kind_type::input;
        ref.name = parts[1];
        return ref;
    }
    if (parts[0] == "phases" || parts[0] == "previous")
        return parse_phase_ref(parts, std::move(ref), offset, errors);
    if (parts[0] == "loop" && parts.size() == 2 && parts[1] == "iteration")
    {
        ref.kind = template_ref::kind_type::loop_iteration;
        return ref;
    }
    if (parts[0] == "item")
    {
        ref.kind = template_ref::kind_type::item;
        ref.path.assign(parts.begin() + 1, parts.end());
        return ref;
    }
    if (parts[0] == "index" && parts.size() == 1)
    {
        ref.kind = template_ref::kind_type::index;
        return ref;
    }
    errors.push_back({offset, "unknown template root '" + parts[0] + "' in '" + shown + "' (" + expected_forms + ")"});
    return std::nullopt;
}

}  // namespace

std::vector<template_ref> parsed_template::refs() const
{
    std::vector<template_ref> out;
    for (const auto& p : pieces)
        if (p.ref)
            out.push_back(*p.ref);
    return out;
}

parsed_template parse_template(std::string_view text, std::vector<template_error>& errors)
{
    parsed_template tpl;
    std::string literal;
    auto flush = [&] {
        if (!literal.empty())
            tpl.pieces.push_back({std::move(literal), std::nullopt});
        literal.clear();
    };
    std::size_t i = 0;
    while (i < text.size())
    {
        if (text[i] == '\\' && text.substr(i + 1, 2) == "{{")
        {
            literal += "{{";
            i += 3;
            continue;
        }
        if (text.substr(i, 2) == "{{")
        {
            std::size_t close = text.find("}}", i + 2);
            std::size_t next_open = text.find("{{", i + 2);
            if (close == std::string_view::npos || (next_open != std::string_view::npos && next_open < close))
            {
                errors.push_back({i, "unterminated '{{' in template (write \\{{ for a literal '{{')"});
                literal += "{{";
                i += 2;
                continue;
            }
            std::string_view whole = text.substr(i, close + 2 - i);
            auto ref = parse_expression(text.substr(i + 2, close - i - 2), i, whole, errors);
            if (ref)
            {
                flush();
                tpl.pieces.push_back({{}, std::move(ref)});
            }
            i = close + 2;
            continue;
        }
        literal += text[i++];
    }
    flush();
    return tpl;
}

namespace {

// The node `path` names inside `root`, or null (with `walked` saying how far it got).
const nlohmann::json* walk(const nlohmann::json& root, const std::vector<std::string>& path, std::string& walked)
{
    const nlohmann::json* node = &root;
    for (const auto& key : path)
    {
        walked += "." + key;
        if (node->is_object() && node->contains(key))
            node = &(*node)[key];
        else if (node->is_array() && !key.empty() && key.find_first_not_of("0123456789") == std::string::npos &&
                 key.size() < 10 && std::stoul(key) < node->size())
            node = &(*node)[std::stoul(key)];
        else
            return nullptr;
    }
    return node;
}

std::string as_text(const nlohmann::json& v)
{
    return v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

using render_result = boost::system::result<std::string>;

// previous.* and phases.*: from `results` (a missing or skipped phase: empty when `lenient`).
render_result render_phase_ref(const template_ref& ref, const std::map<std::string, render_context::phase_result>& results,
                               bool lenient, const char* root, std::string& why)
{
    auto fail = [&](std::string message) -> render_result {
        why = std::move(message);
        return make_error_code(workflow_errc::render_failed);
    };
    auto it = results.find(ref.name);
    if (it == results.end())
        return lenient ? render_result(std::string()) : fail("phase '" + ref.name + "' has no result");
    const auto& r = it->second;
    if (r.skipped)
        return std::string();
    using k = template_ref::kind_type;
    if (ref.kind == k::phase_output || ref.kind == k::previous_output)
        return r.output;
    if (ref.kind == k::phase_outputs)
        return r.outputs ? as_text(*r.outputs) : fail("phase '" + ref.name + "' is not a for_each phase");
    if (!r.json)
        return fail("phase '" + ref.name + "' has no JSON output");
    std::string walked = std::string(root) + "." + ref.name + ".json";
    const auto* node = walk(*r.json, ref.path, walked);
    if (!node)
        return fail("'" + walked + "' does not exist in the output of phase '" + ref.name + "'");
    return as_text(*node);
}

render_result render_ref(const template_ref& ref, const render_context& ctx, std::string& why)
{
    using k = template_ref::kind_type;
    auto fail = [&](std::string message) -> render_result {
        why = std::move(message);
        return make_error_code(workflow_errc::render_failed);
    };
    switch (ref.kind)
    {
    case k::input:
    {
        auto it = ctx.inputs.find(ref.name);
        return it == ctx.inputs.end() ? fail("no value for input '" + ref.name + "'") : render_result(it->second);
    }
    case k::phase_output:
    case k::phase_json:
    case k::phase_outputs: return render_phase_ref(ref, ctx.phases, false, "phases", why);
    case k::previous_output:
    case k::previous_json: return render_phase_ref(ref, ctx.previous, true, "previous", why);
    case k::loop_iteration:
        return ctx.loop_iteration ? render_result(std::to_string(*ctx.loop_iteration))
                                  : fail("{{ loop.iteration }} outside a loop");
    case k::index:
        return ctx.index ? render_result(std::to_string(*ctx.index)) : fail("{{ index }} outside a for_each phase");
    case k::item:
    {
        if (!ctx.item)
            return fail("{{ item }} outside a for_each phase");
        std::string walked = "item";
        const auto* node = walk(*ctx.item, ref.path, walked);
        return node ? render_result(as_text(*node)) : fail("'" + walked + "' does not exist in the item");
    }
    }
    return fail("unknown reference");
}

}  // namespace

boost::system::result<std::string> render_template(const parsed_template& tpl, const render_context& ctx,
                                                   std::string* why)
{
    return render_template(tpl, ctx, nullptr, why);
}

std::string shell_quote(std::string_view value)
{
    std::string out = "'";
    for (char c : value)
    {
        if (c == '\'')
            out += "'\\''";  // close the quotes, an escaped quote, open them again
        else
            out += c;
    }
    return out + "'";
}

boost::system::result<std::string> render_template(const parsed_template& tpl, const render_context& ctx,
                                                   std::string (*escape)(std::string_view), std::string* why)
{
    std::string out;
    std::string reason;
    for (const auto& piece : tpl.pieces)
    {
        if (!piece.ref)
        {
            out += piece.literal;
            continue;
        }
        auto value = render_ref(*piece.ref, ctx, reason);
        if (!value)
        {
            if (why)
                *why = std::move(reason);
            return value.error();
        }
        out += escape ? escape(*value) : *value;
    }
    return out;
}

}  // namespace ep::engine
