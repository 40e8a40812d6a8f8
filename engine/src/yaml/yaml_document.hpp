#pragma once
// A YAML file converted to JSON (for schema validation and typed extraction) that remembers
// where each node was written, addressed by JSON pointer ("/phases/design/persona").

#include <ep/engine/diagnostics.hpp>
#include <ep/engine/loader.hpp>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ep::engine::detail {

struct node_marks
{
    source_location key;    // where the key was written (unknown for array items and the root)
    source_location value;  // where the value starts
    std::size_t offset = 0; // byte offset of the value in the text
};

class yaml_document
{
public:
    std::string file;  // display name used in diagnostics
    std::string text;  // the source
    nlohmann::json root;
    std::unordered_map<std::string, node_marks> marks;
    std::unordered_map<std::string, std::vector<std::string>> key_order;  // object pointer -> keys as written

    /// Where the value at `pointer` starts (falls back to the nearest known parent).
    source_location at(const std::string& pointer) const;
    /// Where its key was written (falls back to at()).
    source_location key_at(const std::string& pointer) const;
    /// The keys of the object at `pointer` in document order.
    const std::vector<std::string>& keys(const std::string& pointer) const;
    /// The location of byte `offset` of the text.
    source_location location_of_offset(std::size_t offset) const;
    /// The location of the `occurrence`-th `needle` at or after the value at `pointer` (used to
    /// point into a multi-line prompt); falls back to at(pointer).
    source_location find_in_value(const std::string& pointer, std::string_view needle, int occurrence) const;

    std::vector<std::size_t> line_starts;
};

/// "/a/b" + "c" with RFC 6901 escaping.
std::string child_pointer(const std::string& parent, std::string_view key);
std::string child_pointer(const std::string& parent, std::size_t index);
/// Splits a pointer into unescaped tokens.
std::vector<std::string> pointer_tokens(const std::string& pointer);

/// Guards, then parses. Empty result (nullptr) when the text cannot be parsed at all; every
/// problem goes to `diag`. Duplicate keys are reported (the first value is kept).
std::shared_ptr<yaml_document> parse_yaml_text(std::string text, std::string file, const load_limits& limits,
                                               diagnostics& diag);

/// Reads `path` (refusing files over limits.max_file_bytes without reading them) and parses it.
std::shared_ptr<yaml_document> parse_yaml_file(const std::string& path, const load_limits& limits,
                                               diagnostics& diag);

}  // namespace ep::engine::detail
