#pragma once
// Binding `--input KEY=VALUE` and `--input-file KEY=PATH` to a workflow's typed inputs.

#include <ep/engine/workflow.hpp>

#include <boost/system/result.hpp>

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ep::engine {

struct input_value
{
    input_type type = input_type::string;
    /// What templates insert: the string; the number as written (or its default); "true"/"false";
    /// for file inputs (and --input-file) the file's content.
    std::string text;
    double number = 0;
    bool boolean = false;
    std::filesystem::path path;  // file inputs and --input-file: where `text` came from
};

using input_values = std::map<std::string, input_value>;

/// Binds the inputs. `values` are "KEY=VALUE" strings, `files` are "KEY=PATH" (content read,
/// at most `max_file_bytes`). A `file` input given with --input reads the file at VALUE.
/// Each problem is one message in `errors` (unknown input with "did you mean", missing required,
/// wrong type, unreadable file, malformed KEY=VALUE, given twice). Defaults fill the rest.
/// Errors: workflow_errc::invalid_input.
boost::system::result<input_values> bind_inputs(const workflow_spec& spec, const std::vector<std::string>& values,
                                                const std::vector<std::string>& files,
                                                std::vector<std::string>& errors,
                                                std::size_t max_file_bytes = 8u << 20);

/// The name -> text map a render_context wants.
std::map<std::string, std::string> input_texts(const input_values& values);

}  // namespace ep::engine
