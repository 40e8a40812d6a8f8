#include "yaml/yaml_document.hpp"

#include "yaml/source_guard.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <system_error>

namespace ep::engine::detail {

// ---- pointers ---------------------------------------------------------------------------------

std::string child_pointer(const std::string& parent, std::string_view key)
{
    std::string out = parent;
    out += '/';
    for (char c : key)
    {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

std::string child_pointer(const std::string& parent, std::size_t index)
{
    return parent + "/" + std::to_string(index);
}

std::vector<std::string> pointer_tokens(const std::string& pointer)
{
    std::vector<std::string> tokens;
    std::size_t i = 0;
    while (i < pointer.size())
    {
        ++i;  // skip '/'
        std::string token;
        while (i < pointer.size() && pointer[i] != '/')
        {
            if (pointer[i] == '~' && i + 1 < pointer.size())
            {
                token += pointer[i + 1] == '1' ? '/' : '~';
                i += 2;
            }
            else
                token += pointer[i++];
        }
        tokens.push_back(std::move(token));
    }
    return tokens;
}

// ---- document ---------------------------------------------------------------------------------

source_location yaml_document::at(const std::string& pointer) const
{
    std::string p = pointer;
    while (true)
    {
        if (auto it = marks.find(p); it != marks.end())
            return it->second.value;
        if (p.empty())
            return {file, 1, 1};
        p.erase(p.rfind('/'));
    }
}

source_location yaml_document::key_at(const std::string& pointer) const
{
    if (auto it = marks.find(pointer); it != marks.end() && it->second.key.known())
        return it->second.key;
    return at(pointer);
}

const std::vector<std::string>& yaml_document::keys(const std::string& pointer) const
{
    static const std::vector<std::string> none;
    auto it = key_order.find(pointer);
    return it == key_order.end() ? none : it->second;
}

source_location yaml_document::location_of_offset(std::size_t offset) const
{
    auto it = std::upper_bound(line_starts.begin(), line_starts.end(), offset);
    std::size_t line = static_cast<std::size_t>(it - line_starts.begin());  // 1-based
    std::size_t start = line ? line_starts[line - 1] : 0;
    return {file, static_cast<int>(std::max<std::size_t>(line, 1)), static_cast<int>(offset - start + 1)};
}

source_location yaml_document::find_in_value(const std::string& pointer, std::string_view needle, int occurrence) const
{
    auto it = marks.find(pointer);
    if (it == marks.end() || needle.empty())
        return at(pointer);
    std::size_t pos = it->second.offset;
    for (int k = 0; k <= occurrence; ++k)
    {
        pos = text.find(needle, k == 0 ? pos : pos + 1);
        if (pos == std::string::npos)
            return at(pointer);
    }
    return location_of_offset(pos);
}

namespace {

source_location to_location(const std::string& file, const YAML::Mark& mark)
{
    if (mark.is_null())
        return {file, 0, 0};
    return {file, mark.line + 1, mark.column + 1};
}

bool all_digits(std::string_view s)
{
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// [-+]?[0-9]+
bool is_core_int(std::string_view s)
{
    if (!s.empty() && (s[0] == '-' || s[0] == '+'))
        s.remove_prefix(1);
    return all_digits(s);
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_core_float(std::string_view s)
{
    if (!s.empty() && (s[0] == '-' || s[0] == '+'))
        s.remove_prefix(1);
    std::string_view exponent;
    if (auto e = s.find_first_of("eE"); e != std::string_view::npos)
    {
        exponent = s.substr(e + 1);
        s = s.substr(0, e);
        if (!exponent.empty() && (exponent[0] == '-' || exponent[0] == '+'))
            exponent.remove_prefix(1);
        if (!all_digits(exponent))
            return false;
    }
    auto dot = s.find('.');
    if (dot == std::string_view::npos)
        return all_digits(s);
    std::string_view whole = s.substr(0, dot), fraction = s.substr(dot + 1);
    if (whole.empty())
        return all_digits(fraction);
    return all_digits(whole) && (fraction.empty() || all_digits(fraction));
}

// YAML 1.2 core schema resolution of plain scalars (yaml-cpp leaves all scalars untyped).
nlohmann::json resolve_plain(const std::string& s)
{
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL")
        return nullptr;
    if (s == "true" || s == "True" || s == "TRUE")
        return true;
    if (s == "false" || s == "False" || s == "FALSE")
        return false;
    if (s.size() < 40 && is_core_int(s))
    {
        std::int64_t v = 0;
        const char* first = s.data() + (s[0] == '+' ? 1 : 0);
        auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), v);
        if (ec == std::errc{} && ptr == s.data() + s.size())
            return v;
    }
    if (s.size() < 64 && is_core_float(s))
    {
        double d = 0;
        const char* first = s.data() + (s[0] == '+' ? 1 : 0);
        auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), d);
        if (ec == std::errc{} && ptr == s.data() + s.size() && std::isfinite(d))
            return d;
    }
    return s;
}

class converter
{
public:
    // Without aliases a document cannot have many more nodes than bytes, so the node budget
    // scales with the text: an alias bomb is stopped after a few thousand nodes, not a million.
    converter(yaml_document& doc, const load_limits& limits, diagnostics& diag)
        : doc_(doc), limits_(limits), diag_(diag),
          budget_(std::min<std::size_t>(limits.max_nodes, 10'000 + 4 * doc.text.size()))
    {
    }

    nlohmann::json convert(const YAML::Node& node, const std::string& pointer, int depth)
    {
        if (++nodes_ > budget_)
        {
            if (!reported_size_)
                diag_.add(to_location(doc_.file, node.Mark()), "document expands to too many nodes (alias expansion?)");
            reported_size_ = true;
            return nullptr;
        }
        if (depth > limits_.max_depth)
        {
            if (!reported_depth_)
                diag_.add(to_location(doc_.file, node.Mark()),
                          "nesting is deeper than " + std::to_string(limits_.max_depth) + " levels");
            reported_depth_ = true;
            return nullptr;
        }
        auto& m = doc_.marks[pointer];
        m.value = to_location(doc_.file, node.Mark());
        m.offset = node.Mark().is_null() ? 0 : static_cast<std::size_t>(node.Mark().pos);

        switch (node.Type())
        {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null:
            return nullptr;
        case YAML::NodeType::Scalar:
        {
            const std::string& tag = node.Tag();
            if (tag == "?")
                return resolve_plain(node.Scalar());
            return node.Scalar();  // quoted, block, or explicitly tagged: a string
        }
        case YAML::NodeType::Sequence:
        {
            auto arr = nlohmann::json::array();
            std::size_t i = 0;
            for (const auto& item : node)
            {
                arr.push_back(convert(item, child_pointer(pointer, i), depth + 1));
                ++i;
            }
            return arr;
        }
        case YAML::NodeType::Map:
        {
            auto obj = nlohmann::json::object();
            std::vector<std::string> order;
            for (const auto& kv : node)
            {
                const YAML::Node& key = kv.first;
                if (!key.IsScalar())
                {
                    diag_.add(to_location(doc_.file, key.Mark()), "mapping keys must be plain text");
                    continue;
                }
                const std::string& name = key.Scalar();
                std::string child = child_pointer(pointer, name);
                if (obj.contains(name))
                {
                    auto first = doc_.key_at(child);
                    diag_.add(to_location(doc_.file, key.Mark()),
                              "duplicate key '" + name + "' (first defined at line " + std::to_string(first.line) +
                                  ")");
                    continue;
                }
                order.push_back(name);
                auto value = convert(kv.second, child, depth + 1);
                doc_.marks[child].key = to_location(doc_.file, key.Mark());
                obj[name] = std::move(value);
            }
            doc_.key_order[pointer] = std::move(order);
            return obj;
        }
        }
        return nullptr;
    }

    bool failed() const noexcept { return reported_size_ || reported_depth_; }

private:
    yaml_document& doc_;
    const load_limits& limits_;
    diagnostics& diag_;
    std::size_t budget_;
    std::size_t nodes_ = 0;
    bool reported_size_ = false;
    bool reported_depth_ = false;
};

std::string too_large_message(std::uintmax_t size, std::size_t limit)
{
    auto mib = [](std::uintmax_t b) { return std::to_string((b + (1u << 20) - 1) >> 20); };
    return "file is too large (" + mib(size) + " MiB; the limit is " + mib(limit) + " MiB)";
}

}  // namespace

std::shared_ptr<yaml_document> parse_yaml_text(std::string text, std::string file, const load_limits& limits,
                                               diagnostics& diag)
{
    auto doc = std::make_shared<yaml_document>();
    doc->file = std::move(file);
    if (text.size() > limits.max_file_bytes)
    {
        diag.add({doc->file, 0, 0}, too_large_message(text.size(), limits.max_file_bytes));
        return nullptr;
    }
    // A UTF-8 byte order mark is harmless; drop it so columns on line 1 stay right.
    if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0)
        text.erase(0, 3);
    doc->text = std::move(text);
    doc->line_starts.push_back(0);
    for (std::size_t i = 0; i < doc->text.size(); ++i)
        if (doc->text[i] == '\n')
            doc->line_starts.push_back(i + 1);

    if (doc->text.empty())
    {
        diag.add({doc->file, 1, 1}, "file is empty");
        return nullptr;
    }
    if (auto bad = check_encoding(doc->text))
    {
        diag.add(doc->location_of_offset(bad->offset), bad->message);
        return nullptr;
    }
    if (auto bad = check_nesting(doc->text, limits.max_depth))
    {
        diag.add(doc->location_of_offset(bad->offset), bad->message);
        return nullptr;
    }

    // Only the first document is parsed (YAML::LoadAll loops forever on some malformed input in
    // yaml-cpp 0.7), so a second document is found here: a `---` or `...` marker at column 0
    // after content. Without this check the rest of the file would be silently ignored.
    {
        bool content = false;
        for (std::size_t i = 0; i < doc->line_starts.size(); ++i)
        {
            std::string_view line = std::string_view(doc->text).substr(doc->line_starts[i]);
            line = line.substr(0, line.find('\n'));
            const bool marker = (line.rfind("---", 0) == 0 || line.rfind("...", 0) == 0) &&
                                (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
            if (marker && content)
            {
                diag.add({doc->file, static_cast<int>(i + 1), 1}, "only one YAML document is allowed per file");
                return nullptr;
            }
            const auto first = line.find_first_not_of(" \t\r");
            if (!marker && first != std::string_view::npos && line[first] != '#' && line[first] != '%')
                content = true;
        }
    }

    YAML::Node root;
    try
    {
        root = YAML::Load(doc->text);
    }
    catch (const YAML::Exception& e)
    {
        diag.add(to_location(doc->file, e.mark), "YAML syntax error: " + e.msg);
        return nullptr;
    }
    catch (const std::exception& e)
    {
        diag.add({doc->file, 1, 1}, std::string("cannot parse YAML: ") + e.what());
        return nullptr;
    }
    if (root.IsNull())
    {
        diag.add({doc->file, 1, 1}, "file has no YAML content");
        return nullptr;
    }
    try
    {
        converter conv(*doc, limits, diag);
        doc->root = conv.convert(root, "", 0);
        if (conv.failed())
            return nullptr;  // a truncated document would only add misleading errors
    }
    catch (const std::exception& e)
    {
        diag.add({doc->file, 1, 1}, std::string("cannot convert YAML: ") + e.what());
        return nullptr;
    }
    return doc;
}

std::shared_ptr<yaml_document> parse_yaml_file(const std::string& path, const load_limits& limits,
                                               diagnostics& diag)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
    {
        diag.add({path, 0, 0}, "is a directory, not a file");
        return nullptr;
    }
    auto size = std::filesystem::file_size(path, ec);
    if (ec)
    {
        diag.add({path, 0, 0}, "cannot read file: " + ec.message());
        return nullptr;
    }
    if (size > limits.max_file_bytes)
    {
        diag.add({path, 0, 0}, too_large_message(size, limits.max_file_bytes));
        return nullptr;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        diag.add({path, 0, 0}, "cannot open file");
        return nullptr;
    }
    std::string text(static_cast<std::size_t>(size), '\0');
    in.read(text.data(), static_cast<std::streamsize>(size));
    text.resize(static_cast<std::size_t>(in.gcount()));
    return parse_yaml_text(std::move(text), path, limits, diag);
}

}  // namespace ep::engine::detail
