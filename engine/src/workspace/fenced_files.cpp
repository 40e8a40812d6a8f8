// Extracting fenced files from an answer (the rules are in fenced_files.hpp).
#include <ep/engine/workspace/fenced_files.hpp>

#include "workspace/text_trim.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

namespace ep::engine {
namespace {

using detail::trim;

bool starts_with_ci(std::string_view s, std::string_view prefix)
{
    return s.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
}

bool has_space(std::string_view s) { return s.find_first_of(" \t") != std::string_view::npos; }

/// Contains a `/` (not only at the end) or ends in `.ext` with a short alphanumeric extension.
bool looks_like_path(std::string_view s)
{
    if (s.empty() || has_space(s) || s.find("://") != std::string_view::npos || s.back() == '/')
        return false;
    if (s.find('/') != std::string_view::npos)
        return true;
    const auto dot = s.rfind('.');
    if (dot == std::string_view::npos || dot + 1 == s.size() || s.size() - dot - 1 > 12)
        return false;
    return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(dot) + 1, s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '+';
    });
}

/// Removes one pair of `open`/`close` around `s`; true if it did.
bool unwrap(std::string_view& s, std::string_view mark)
{
    if (s.size() > 2 * mark.size() && s.substr(0, mark.size()) == mark && s.substr(s.size() - mark.size()) == mark)
    {
        s = trim(s.substr(mark.size(), s.size() - 2 * mark.size()));
        return true;
    }
    return false;
}

std::string_view strip_line_prefix(std::string_view s)
{
    s = trim(s);
    if (!s.empty() && s.front() == '#')
        s = trim(s.substr(s.find_first_not_of('#') == std::string_view::npos ? s.size() : s.find_first_not_of('#')));
    if (s.size() > 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && s[1] == ' ')
        s = trim(s.substr(2));
    const auto digits = s.find_first_not_of("0123456789");
    if (digits > 0 && digits != std::string_view::npos && digits + 1 < s.size() && s[digits] == '.' &&
        s[digits + 1] == ' ')
        s = trim(s.substr(digits + 2));
    return s;
}

/// "Create `src/x.py`:" — a sentence that ends with a backticked path.
std::string trailing_backticked_path(std::string_view s)
{
    if (!s.empty() && s.back() == ':')
        s = trim(s.substr(0, s.size() - 1));
    while (unwrap(s, "**") || unwrap(s, "__"))
    {
    }
    if (s.size() < 3 || s.back() != '`')
        return {};
    const auto open = s.rfind('`', s.size() - 2);
    if (open == std::string_view::npos)
        return {};
    const auto token = s.substr(open + 1, s.size() - open - 2);
    return looks_like_path(token) ? std::string(token) : std::string();
}

}  // namespace

std::string path_from_label_line(std::string_view line)
{
    std::string_view s = strip_line_prefix(line);
    if (s.empty())
        return {};
    bool explicit_marker = false;  // a label or backticks: any single word is a path
    // Emphasis may wrap the whole line or only the label ("**File:** `x`"): drop the asterisks.
    std::string no_stars;
    for (char c : s)
        if (c != '*')
            no_stars += c;
    std::string_view t = trim(no_stars);
    for (std::string_view label : {"file name:", "filename:", "file path:", "file:", "path:"})
        if (starts_with_ci(t, label))
        {
            t = trim(t.substr(label.size()));
            explicit_marker = true;
            break;
        }
    if (!t.empty() && t.back() == ':')
        t = trim(t.substr(0, t.size() - 1));
    while (unwrap(t, "__"))
    {
    }
    if (unwrap(t, "`"))
        explicit_marker = true;
    for (std::string_view q : {"\"", "'"})
        unwrap(t, q);
    if (!t.empty() && !has_space(t) && t.find('`') == std::string_view::npos)
    {
        if (explicit_marker || looks_like_path(t))
            return std::string(t);
        return {};
    }
    return trailing_backticked_path(s);
}

namespace {

struct fence
{
    char ch = 0;
    std::size_t length = 0;
    std::size_t indent = 0;
    std::string_view info;
};

/// An opening (or, with `closing`, a closing) fence line, or nullopt.
std::optional<fence> parse_fence(std::string_view line)
{
    const std::size_t indent = line.find_first_not_of(' ');
    if (indent == std::string_view::npos || indent > 3)
        return std::nullopt;
    const char ch = line[indent];
    if (ch != '`' && ch != '~')
        return std::nullopt;
    const std::size_t end = line.find_first_not_of(ch, indent);
    const std::size_t length = (end == std::string_view::npos ? line.size() : end) - indent;
    if (length < 3)
        return std::nullopt;
    fence f{ch, length, indent, trim(line.substr(indent + length))};
    if (ch == '`' && f.info.find('`') != std::string_view::npos)  // inline code, not a fence
        return std::nullopt;
    return f;
}

bool closes(const fence& open, std::string_view line)
{
    auto f = parse_fence(line);
    return f && f->ch == open.ch && f->length >= open.length && f->info.empty();
}

std::string unquote(std::string_view v)
{
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
        v = v.substr(1, v.size() - 2);
    return std::string(v);
}

/// (language, path) from an info string.
std::pair<std::string, std::string> parse_info(std::string_view info)
{
    std::vector<std::string_view> words;
    while (!info.empty())
    {
        const auto end = std::min(info.find_first_of(" \t"), info.size());
        words.push_back(info.substr(0, end));
        info = trim(info.substr(end));
    }
    std::string language, path;
    for (std::size_t i = 0; i < words.size(); ++i)
    {
        const auto w = words[i];
        const auto eq = w.find('=');
        if (eq != std::string_view::npos)
        {
            const auto key = w.substr(0, eq);
            if (path.empty() && (key == "title" || key == "file" || key == "path" || key == "filename"))
                path = unquote(w.substr(eq + 1));
            continue;
        }
        if (i == 0 && !looks_like_path(w))
            language = std::string(w);
        else if (path.empty() && looks_like_path(w) && i <= 1)
            path = std::string(w);
    }
    return {language, path};
}

std::vector<std::string_view> split_lines(std::string_view text)
{
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (start < text.size())
    {
        auto nl = text.find('\n', start);
        if (nl == std::string_view::npos)
            nl = text.size();
        auto line = text.substr(start, nl - start);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        lines.push_back(line);
        start = nl + 1;
    }
    return lines;
}

std::string_view drop_indent(std::string_view line, std::size_t indent)
{
    std::size_t n = 0;
    while (n < indent && n < line.size() && line[n] == ' ')
        ++n;
    return line.substr(n);
}

}  // namespace

ws_result<std::vector<fenced_file>> extract_fenced_files(std::string_view answer)
{
    std::vector<fenced_file> files;
    std::map<std::string, std::size_t> index;  // path -> position in `files`
    const auto lines = split_lines(answer);
    std::string_view label;  // the nearest non-blank line outside a block
    for (std::size_t i = 0; i < lines.size(); ++i)
    {
        auto open = parse_fence(lines[i]);
        if (!open)
        {
            if (!trim(lines[i]).empty())
                label = lines[i];
            continue;
        }
        auto [language, path] = parse_info(open->info);
        if (path.empty() && !label.empty())
            path = path_from_label_line(label);
        const int open_line = static_cast<int>(i) + 1;
        std::string content;
        bool closed = false;
        for (++i; i < lines.size(); ++i)
        {
            if (closes(*open, lines[i]))
            {
                closed = true;
                break;
            }
            content.append(drop_indent(lines[i], open->indent));
            content += '\n';
        }
        label = {};
        if (path.empty())
            continue;
        if (!closed)
            return make_workspace_error(workspace_errc::unterminated_fence, path,
                                        "line " + std::to_string(open_line) + ": the code block for `" + path +
                                            "` is never closed (was the answer cut off?)");
        fenced_file f{path, std::move(content), std::move(language), open_line};
        if (auto [it, inserted] = index.emplace(path, files.size()); inserted)
            files.push_back(std::move(f));
        else
            files[it->second] = std::move(f);
    }
    return files;
}

ws_result<nlohmann::json> write_fenced_files(workspace& ws, const std::vector<fenced_file>& files,
                                             write_quota* quota)
{
    std::vector<file_write> writes;
    writes.reserve(files.size());
    for (const auto& f : files)
        writes.push_back({f.path, f.content});
    auto written = ws.write_files(writes, quota);
    if (!written)
        return written.error();
    std::map<std::string, int> line_of;  // normalised path -> line of the block that won
    for (const auto& f : files)
        if (auto p = ws.check_path(f.path))
            line_of[p->str()] = f.line;
    nlohmann::json list = nlohmann::json::array();
    std::uint64_t total = 0;
    for (const auto& w : *written)
    {
        list.push_back({{"path", w.path}, {"bytes", w.bytes}, {"sha256", w.sha256}, {"line", line_of[w.path]}});
        total += w.bytes;
    }
    return nlohmann::json{{"files", std::move(list)}, {"count", written->size()}, {"bytes", total}};
}

}  // namespace ep::engine
