// Claude Code CLI invocation: argv and the prompt written to stdin. --verbose is required
// with -p and stream-json (the CLI exits 1 without it; the Agent SDK always passes it).
#include "protocols/claude_cli/claude_cli.hpp"
#include "protocols/common/request_common.hpp"
#include "protocols/common/request_features.hpp"

namespace ep::providers::sansio {

std::vector<std::string> claude_cli_args(const provider_config& cfg, const chat_request& req)
{
    // --verbose is mandatory with -p and stream-json (the CLI exits 1 without it).
    std::vector<std::string> args = {"-p", "--output-format", "stream-json", "--verbose",
                                     "--include-partial-messages"};
    if (!req.model.empty())
    {
        args.emplace_back("--model");
        args.push_back(req.model);
    }
    if (auto system = effective_system(req); !system.empty())
    {
        args.emplace_back("--system-prompt");
        args.push_back(std::move(system));
    }
    args.insert(args.end(), cfg.cli_extra_args.begin(), cfg.cli_extra_args.end());
    return args;
}

std::string claude_cli_prompt(const chat_request& req)
{
    std::vector<const message*> turns;
    for (auto const& m : req.messages)
        if (m.who != role::system)
            turns.push_back(&m);

    std::string out;
    // A single user turn is sent as is; a longer conversation is rendered as a transcript
    // (the CLI takes one prompt per run).
    if (turns.size() == 1 && turns.front()->who == role::user)
        out = turns.front()->text();
    else
    {
        for (auto const* m : turns)
        {
            out += m->who == role::assistant ? "Assistant: " : "User: ";
            bool first = true;
            for (auto const& p : m->parts)
            {
                if (!first)
                    out += "\n";
                first = false;
                if (auto const* t = std::get_if<text_part>(&p))
                    out += t->text;
                else if (auto const* call = std::get_if<tool_call>(&p))
                    out += "[tool call " + call->name + "(" + call->arguments + ")]";
                else if (auto const* r = std::get_if<tool_result>(&p))
                    out += "[tool result" + (r->name.empty() ? std::string() : " for " + r->name) +
                           (r->is_error ? " (error)" : "") + ": " + r->content + "]";
            }
            out += "\n\n";
        }
        while (!out.empty() && out.back() == '\n')
            out.pop_back();
    }
    if (req.json_mode)  // the CLI has no structured-output flag for a stream-json run
        out += "\n\n" + json_instruction(*req.json_mode);
    return out;
}

}  // namespace ep::providers::sansio
