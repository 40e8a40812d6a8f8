#pragma once
// A command_runner whose every run() is answered by the test (STYLE.md §18: the fake beside
// the real process_command_runner), for executor and git tests that must not start processes.
// It records each spec, calls `respond` (default: exit code 0, no output), and passes the
// answer's stdout and stderr to the output callback as one chunk each.

#include <ep/engine/workspace/command.hpp>

#include <functional>
#include <vector>

namespace ep::test {

class scripted_command_runner final : public engine::command_runner
{
public:
    using responder = std::function<engine::ws_result<engine::command_result>(const engine::command_spec&)>;

    explicit scripted_command_runner(responder r = {}) : respond_(std::move(r)) {}

    boost::asio::awaitable<engine::ws_result<engine::command_result>> run(engine::command_spec spec,
                                                                          const engine::workspace&,
                                                                          engine::output_callback on_output) override
    {
        calls.push_back(spec);
        engine::ws_result<engine::command_result> r = respond_ ? respond_(spec) : ok_result(spec);
        if (r && on_output)
        {
            if (!r->stdout_text.empty())
                on_output(engine::output_stream::out, r->stdout_text);
            if (!r->stderr_text.empty())
                on_output(engine::output_stream::err, r->stderr_text);
        }
        co_return r;
    }

    /// Exit code 0 and `out` on stdout (and in the combined output).
    static engine::command_result ok_result(const engine::command_spec& spec, std::string out = {})
    {
        engine::command_result r;
        r.argv = spec.shell ? std::vector<std::string>{"/bin/sh", "-c", spec.script} : spec.argv;
        r.exit_code = 0;
        r.stdout_text = out;
        r.output = std::move(out);
        r.sandbox = "none (scripted)";
        return r;
    }

    std::vector<engine::command_spec> calls;

private:
    responder respond_;
};

}  // namespace ep::test
