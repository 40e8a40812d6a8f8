// expression_program: a workflow's jq expressions, checked and compiled into one libjq program.
#include <ep/engine/error.hpp>
#include <ep/engine/expression.hpp>

#include "expr/jv_convert.hpp"

extern "C" {
#include <jq.h>
}

#include <cctype>
#include <set>

namespace ep::engine {

namespace {

struct forbidden_word
{
    const char* name;
    const char* why;
};

constexpr forbidden_word forbidden_words[] = {
    {"input", "reads input"},
    {"inputs", "reads input"},
    {"$ENV", "reads the environment"},
    {"env", "reads the environment"},
    {"debug", "writes to stderr"},
    {"stderr", "writes to stderr"},
    {"input_filename", "reads the input's file name"},
    {"input_line_number", "reads input"},
    {"import", "loads modules"},
    {"include", "loads modules"},
    {"get_search_list", "reads the module search path"},
    {"halt", "stops the program"},
    {"halt_error", "writes to stderr"},
    {"def", "defines functions (recursion has no bound)"},
    {"repeat", "can loop without end"},
    {"while", "can loop without end"},
    {"until", "can loop without end"},
    {"range", "can generate without end"},
    {"recurse_down", "can loop without end"},
};

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

std::vector<std::pair<std::size_t, std::string>> find_forbidden_words(const std::string& text)
{
    std::vector<std::pair<std::size_t, std::string>> out;
    std::size_t i = 0;
    while (i < text.size())
    {
        const char c = text[i];
        if (c == '"')  // a string literal: skip it, escapes included ("\(...)" interpolation too)
        {
            for (++i; i < text.size() && text[i] != '"'; ++i)
                if (text[i] == '\\')
                    ++i;
            ++i;
            continue;
        }
        if (c == '#')  // a comment to the end of the line
        {
            while (i < text.size() && text[i] != '\n')
                ++i;
            continue;
        }
        if (!is_word_char(c) && c != '$')
        {
            ++i;
            continue;
        }
        const std::size_t start = i;
        ++i;
        while (i < text.size() && is_word_char(text[i]))
            ++i;
        const std::string word = text.substr(start, i - start);
        // `.recurse` or `.input` is a field access, not the builtin.
        const bool field = start > 0 && text[start - 1] == '.';
        for (const auto& f : forbidden_words)
            if (word == f.name && !field)
                out.emplace_back(start, "'" + word + "' is not allowed in workflow expressions (it " + f.why + ")");
        // recurse/0 walks a finite document; recurse(f) can loop forever.
        if (word == "recurse" && !field)
        {
            std::size_t j = i;
            while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j])))
                ++j;
            if (j < text.size() && text[j] == '(')
                out.emplace_back(start, "'recurse(f)' is not allowed in workflow expressions (it can loop without "
                                        "end; use recurse or .. without arguments)");
        }
    }
    return out;
}

struct expression_program::impl
{
    jq_state* jq = nullptr;
    std::size_t count = 0;
    std::vector<std::string> errors;  // collected by the error callback during compile

    ~impl()
    {
        if (jq)
            jq_teardown(&jq);
    }
};

namespace {

void collect_error(void* data, jv msg)
{
    auto* errors = static_cast<std::vector<std::string>*>(data);
    if (jv_get_kind(msg) == JV_KIND_STRING)
        errors->emplace_back(jv_string_value(msg));
    else
    {
        jv text = jv_dump_string(jv_copy(msg), 0);
        errors->emplace_back(jv_string_value(text));
        jv_free(text);
    }
    jv_free(msg);
}

// A fresh jq state compiling `program`; the jq errors go to `errors`.
std::shared_ptr<expression_program::impl> compile_program(const std::string& program)
{
    auto p = std::make_shared<expression_program::impl>();
    p->jq = jq_init();
    if (!p->jq)
        return nullptr;
    jq_set_error_cb(p->jq, collect_error, &p->errors);
    if (!jq_compile(p->jq, program.c_str()))
        return p;  // errors filled; jq stays for teardown
    p->errors.clear();
    return p;
}

// One expression's own jq errors, as (line within the expression, message) pairs.
std::vector<std::pair<int, std::string>> jq_errors_of(const std::string& text)
{
    auto p = compile_program(text);
    std::vector<std::pair<int, std::string>> out;
    if (!p)
        return {{1, "cannot start libjq"}};
    for (const auto& e : p->errors)
    {
        if (e.find("compile error") != std::string::npos && e.rfind("jq: ", 0) == 0 &&
            e.find("error:") == std::string::npos)
            continue;  // the "jq: N compile errors" summary
        std::string message = e;
        if (message.rfind("jq: error: ", 0) == 0)
            message = message.substr(11);
        int line = 1;
        if (auto at = message.find(" at <top-level>, line "); at != std::string::npos)
        {
            line = std::atoi(message.c_str() + at + 22);
            message = message.substr(0, at);
        }
        out.emplace_back(line < 1 ? 1 : line, "jq: " + message);
    }
    if (out.empty() && !p->errors.empty())
        out.emplace_back(1, "jq: " + p->errors.front());
    return out;
}

std::size_t offset_of_line(const std::string& text, int line)
{
    std::size_t off = 0;
    for (int l = 1; l < line; ++l)
    {
        auto nl = text.find('\n', off);
        if (nl == std::string::npos)
            return off;
        off = nl + 1;
    }
    return off;
}

// def __e0: (EXPR0); … ; .e as $i | .d | if $i == 0 then __e0 elif … end
std::string combined_program(const std::vector<expression_source>& sources)
{
    std::string program;
    for (std::size_t i = 0; i < sources.size(); ++i)
        program += "def __ep_e" + std::to_string(i) + ": (" + sources[i].text + "\n);\n";
    program += ".e as $__ep_i | .d | ";
    for (std::size_t i = 0; i < sources.size(); ++i)
        program += (i ? " elif " : "if ") + std::string("$__ep_i == ") + std::to_string(i) + " then __ep_e" +
                   std::to_string(i);
    program += " else null end";
    return program;
}

}  // namespace

std::optional<expression_program> expression_program::compile(const std::vector<expression_source>& sources,
                                                              diagnostics& diag, const locator& locate)
{
    expression_program out;
    if (sources.empty())
        return out;
    bool bad = false;
    for (const auto& s : sources)
    {
        for (const auto& [offset, message] : find_forbidden_words(s.text))
        {
            diag.add(locate(s, offset), s.role + ": " + message);
            bad = true;
        }
        if (s.text.find_first_not_of(" \t\r\n") == std::string::npos)
        {
            diag.add(s.where, s.role + ": empty expression");
            bad = true;
        }
    }
    if (bad)
        return std::nullopt;
    auto program = compile_program(combined_program(sources));
    if (program && program->errors.empty())
    {
        program->count = sources.size();
        out.impl_ = std::move(program);
        return out;
    }
    // Something does not compile: compile each alone to say which, and where.
    for (const auto& s : sources)
        for (const auto& [line, message] : jq_errors_of(s.text))
            diag.add(locate(s, offset_of_line(s.text, line)), s.role + ": " + message);
    if (diag.empty())
        diag.add(sources.front().where, "cannot compile the workflow's expressions");
    return std::nullopt;
}

std::size_t expression_program::size() const noexcept { return impl_ ? impl_->count : 0; }

boost::system::result<expression_value> expression_program::evaluate(std::size_t index,
                                                                     const nlohmann::json& document,
                                                                     std::string* why) const
{
    auto fail = [&](std::string message) -> boost::system::result<expression_value> {
        if (why)
            *why = std::move(message);
        return make_error_code(workflow_errc::expression_failed);
    };
    if (!impl_ || index >= impl_->count)
        return fail("no such expression");
    jv input = detail::to_jv(nlohmann::json{{"e", index}, {"d", document}}, max_document_bytes);
    if (!jv_is_valid(input))
    {
        jv_free(input);
        return fail("the run document is larger than " + std::to_string(max_document_bytes >> 20) + " MiB");
    }
    jq_start(impl_->jq, input, 0);
    jv result = jq_next(impl_->jq);
    expression_value out;
    if (jv_is_valid(result))
    {
        out.produced = true;
        out.value = detail::from_jv(result);  // consumes result
        // Only the first output is used; the rest of the generator is never run.
    }
    else
    {
        jv msg = jv_invalid_get_msg(result);
        const bool error = jv_get_kind(msg) != JV_KIND_NULL;
        std::string text;
        if (jv_get_kind(msg) == JV_KIND_STRING)
            text = jv_string_value(msg);
        else if (error)
        {
            jv dumped = jv_dump_string(jv_copy(msg), 0);
            text = jv_string_value(dumped);
            jv_free(dumped);
        }
        jv_free(msg);
        if (error)
            return fail("jq: " + text);
    }
    return out;
}

}  // namespace ep::engine
