#include <ep/engine/error.hpp>
#include <ep/engine/template.hpp>

#include <cctype>

namespace ep::engine {
namespace {

bool is_ident_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

constexpr const char* expected_forms = "expected inputs.NAME, phases.ID.output or phases.ID.json.PATH";

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
    if (parts[0] == "phases")
    {
        if (parts.size() >= 3 && parts[2] == "output" && parts.size() == 3)
        {
            ref.kind = template_ref::kind_type::phase_output;
            ref.name = parts[1];
            return ref;
        }
        if (parts.size() >= 3 && parts[2] == "json")
        {
            ref.kind = template_ref::kind_type::phase_json;
            ref.name = parts[1];
            ref.path.assign(parts.begin() + 3, parts.end());
            return ref;
        }
        errors.push_back(
            {offset, "invalid template expression '" + shown + "' (expected phases.ID.output or phases.ID.json.PATH)"});
        return std::nullopt;
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

boost::system::result<std::string> render_template(const parsed_template& tpl, const render_context& ctx,
                                                   std::string* why)
{
    auto fail = [&](std::string message) -> boost::system::result<std::string> {
        if (why)
            *why = std::move(message);
        return make_error_code(workflow_errc::render_failed);
    };
    std::string out;
    for (const auto& piece : tpl.pieces)
    {
        if (!piece.ref)
        {
            out += piece.literal;
            continue;
        }
        const auto& ref = *piece.ref;
        if (ref.kind == template_ref::kind_type::input)
        {
            auto it = ctx.inputs.find(ref.name);
            if (it == ctx.inputs.end())
                return fail("no value for input '" + ref.name + "'");
            out += it->second;
            continue;
        }
        auto it = ctx.phases.find(ref.name);
        if (it == ctx.phases.end())
            return fail("phase '" + ref.name + "' has no result");
        if (ref.kind == template_ref::kind_type::phase_output)
        {
            out += it->second.output;
            continue;
        }
        if (!it->second.json)
            return fail("phase '" + ref.name + "' has no JSON output");
        const nlohmann::json* node = &*it->second.json;
        std::string walked = "phases." + ref.name + ".json";
        for (const auto& key : ref.path)
        {
            walked += "." + key;
            if (node->is_object() && node->contains(key))
                node = &(*node)[key];
            else if (node->is_array() && !key.empty() && key.find_first_not_of("0123456789") == std::string::npos &&
                     key.size() < 10 && std::stoul(key) < node->size())
                node = &(*node)[std::stoul(key)];
            else
                return fail("'" + walked + "' does not exist in the output of phase '" + ref.name + "'");
        }
        out += node->is_string() ? node->get<std::string>() : node->dump(-1, ' ', false,
                                                                          nlohmann::json::error_handler_t::replace);
    }
    return out;
}

}  // namespace ep::engine
