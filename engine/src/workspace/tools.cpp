// The engine tools: definitions and confined, bounded execution (tools.hpp).
#include <ep/engine/workspace/tools.hpp>

#include "workspace/utf8.hpp"

#include <ep/engine/run/json_output.hpp>

#include <algorithm>

namespace ep::engine {
namespace {

using nlohmann::json;

json string_property(const char* description) { return {{"type", "string"}, {"description", description}}; }

json object_schema(json properties, std::vector<std::string> required)
{
    json schema = {{"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
    if (!required.empty())
        schema["required"] = std::move(required);
    return schema;
}

json with_default(json property, const char* value)
{
    property["default"] = value;
    return property;
}

providers::tool_spec spec_of(std::string_view name)
{
    const char* path_help = "A path relative to the workspace root, e.g. src/app.py (no absolute paths, no ..).";
    if (name == "read_file")
        return {"read_file", "Read a text file of the workspace.",
                object_schema({{"path", string_property(path_help)}}, {"path"})};
    if (name == "write_file")
        return {"write_file",
                "Create or replace a file of the workspace with the given complete content. Parent directories "
                "are created.",
                object_schema({{"path", string_property(path_help)},
                               {"content", string_property("The complete new content of the file.")}},
                              {"path", "content"})};
    if (name == "list_files")
        return {"list_files", "List the files and directories of the workspace (recursively) or of one directory.",
                object_schema({{"path", with_default(string_property("A directory relative to the workspace root; "
                                                                     "default: the whole workspace."),
                                                     ".")}},
                              {})};
    return {"run_tests",
            "Run the project's test command in the workspace and return its exit code and output. Use it after "
            "changing files.",
            object_schema(json::object(), {})};
}

providers::tool_result error_result(const providers::tool_call& call, const std::string& message)
{
    return {call.id, call.name, "error: " + message, true};
}

/// Parses the call's arguments and checks them against the tool's schema; the message is for
/// the model.
std::optional<json> checked_arguments(const providers::tool_call& call, std::string& why)
{
    const json args = call.arguments.empty() ? json::object() : json::parse(call.arguments, nullptr, false);
    if (args.is_discarded() || !args.is_object())
    {
        why = "the arguments of " + call.name + " must be a JSON object, e.g. " +
              (call.name == "write_file" ? R"({"path": "src/a.py", "content": "..."})" : R"({"path": "src/a.py"})");
        return std::nullopt;
    }
    const auto check = check_json_output(args.dump(), spec_of(call.name).parameters);
    if (!check.value)
    {
        why = "invalid arguments for " + call.name + ": " + check.error;
        return std::nullopt;
    }
    return args;
}

std::string capped(std::string text, std::size_t cap)
{
    if (text.size() <= cap)
        return text;
    const std::size_t total = text.size();
    std::size_t cut = cap;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80)  // not inside a character
        --cut;
    text.resize(cut);
    return text + "\n[truncated: showing the first " + std::to_string(cut) + " of " + std::to_string(total) +
           " bytes]";
}

std::string written_path(const json& args) { return printable_path(args["path"].get<std::string>()); }

providers::tool_result read_file_tool(const providers::tool_call& call, const json& args, tool_context& ctx)
{
    auto content = ctx.ws.read_file(args["path"].get<std::string>(), ctx.limits.max_result_bytes);
    if (!content)
        return error_result(call, content.error().str());
    std::string text = std::move(content->data);
    if (content->truncated)  // do not let the cut fall inside a character
        text.resize(text.size() - detail::incomplete_utf8_suffix(text));
    if (!detail::is_valid_utf8(text))
        return error_result(call, "`" + written_path(args) + "` is not a UTF-8 text file (" +
                                      std::to_string(content->size) + " bytes)");
    if (content->truncated)
        text += "\n[truncated: showing the first " + std::to_string(text.size()) + " of " +
                std::to_string(content->size) + " bytes]";
    return {call.id, call.name, std::move(text), false};
}

providers::tool_result write_file_tool(const providers::tool_call& call, const json& args, tool_context& ctx)
{
    auto written = ctx.ws.write_file(args["path"].get<std::string>(), args["content"].get<std::string>(), ctx.quota);
    if (!written)
        return error_result(call, written.error().str());
    const json out = {{"path", written->path}, {"bytes", written->bytes}, {"sha256", written->sha256}};
    return {call.id, call.name, out.dump(), false};
}

providers::tool_result list_files_tool(const providers::tool_call& call, const json& args, tool_context& ctx)
{
    auto listing = ctx.ws.list_files(args.value("path", std::string(".")));
    if (!listing)
        return error_result(call, listing.error().str());
    json entries = json::array();
    bool truncated = listing->truncated;
    for (const auto& e : listing->entries)
    {
        if (entries.size() >= ctx.limits.max_list_entries)
        {
            truncated = true;
            break;
        }
        json entry = {{"path", e.path}, {"type", to_string(e.kind)}};
        if (e.kind == entry_kind::file)
            entry["size"] = e.size;
        entries.push_back(std::move(entry));
    }
    const json out = {{"entries", std::move(entries)}, {"truncated", truncated}};
    return {call.id, call.name, capped(out.dump(), ctx.limits.max_result_bytes), false};
}

}  // namespace

bool is_engine_tool(std::string_view name) noexcept
{
    return std::find(engine_tool_names.begin(), engine_tool_names.end(), name) != engine_tool_names.end();
}

ws_result<std::vector<providers::tool_spec>> engine_tool_specs(const std::vector<std::string>& names)
{
    std::vector<providers::tool_spec> out;
    for (const auto& n : names)
    {
        if (!is_engine_tool(n))
            return make_workspace_error(workspace_errc::unknown_tool, {},
                                        "unknown tool `" + printable_path(n) +
                                            "`; the engine's tools are read_file, write_file, list_files and "
                                            "run_tests");
        out.push_back(spec_of(n));
    }
    return out;
}

providers::tool_result execute_file_tool(const providers::tool_call& call, tool_context& ctx)
{
    if (!is_engine_tool(call.name))
        return error_result(call, "there is no tool named `" + printable_path(call.name) +
                                      "`; use read_file, write_file, list_files or run_tests");
    std::string why;
    const auto args = checked_arguments(call, why);
    if (!args)
        return error_result(call, why);
    if (call.name == "read_file")
        return read_file_tool(call, *args, ctx);
    if (call.name == "write_file")
        return write_file_tool(call, *args, ctx);
    if (call.name == "list_files")
        return list_files_tool(call, *args, ctx);
    return error_result(call, "run_tests needs execute_tool");
}

asio::awaitable<providers::tool_result> execute_tool(providers::tool_call call, tool_context& ctx)
{
    if (call.name != "run_tests")
        co_return execute_file_tool(call, ctx);
    std::string why;
    if (!checked_arguments(call, why))
        co_return error_result(call, why);
    if (!ctx.run_tests)
        co_return error_result(call, "no test command is declared for this workflow");
    auto ran = co_await ctx.run_tests();
    if (!ran)
        co_return error_result(call, "the test command could not run: " + ran.error().str());
    const json out = {{"exit_code", ran->status_code()},
                      {"passed", ran->succeeded()},
                      {"timed_out", ran->timed_out},
                      {"duration_ms", ran->duration_ms},
                      {"output", ""}};
    // The output is the part worth capping: keep its tail (failures are reported last).
    const std::size_t room = ctx.limits.max_result_bytes > out.dump().size() + 64
                                 ? ctx.limits.max_result_bytes - out.dump().size() - 64
                                 : 0;
    json result = out;
    std::string tail = ran->output;
    if (tail.size() > room)
    {
        std::size_t start = tail.size() - room;
        while (start < tail.size() && (static_cast<unsigned char>(tail[start]) & 0xc0) == 0x80)
            ++start;
        tail = "[… " + std::to_string(start) + " bytes of earlier output dropped …]\n" + tail.substr(start);
    }
    result["output"] = tail;
    co_return providers::tool_result{call.id, call.name, result.dump(-1, ' ', false, json::error_handler_t::replace),
                                     false};
}

}  // namespace ep::engine
