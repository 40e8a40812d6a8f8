#include <ep/engine/diagnostics.hpp>

#include <algorithm>
#include <tuple>

namespace ep::engine {

std::string source_location::str() const
{
    if (!known())
        return file;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string diagnostic::str() const
{
    auto where_text = where.str();
    return where_text.empty() ? message : where_text + ": " + message;
}

void diagnostics::add(source_location where, std::string message)
{
    items_.push_back({std::move(where), std::move(message)});
}

void diagnostics::append(const diagnostics& other)
{
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

void diagnostics::sort()
{
    std::stable_sort(items_.begin(), items_.end(), [](const diagnostic& a, const diagnostic& b) {
        return std::tie(a.where.file, a.where.line, a.where.column) <
               std::tie(b.where.file, b.where.line, b.where.column);
    });
    auto same = [](const diagnostic& a, const diagnostic& b) {
        return a.where.file == b.where.file && a.where.line == b.where.line && a.where.column == b.where.column &&
               a.message == b.message;
    };
    items_.erase(std::unique(items_.begin(), items_.end(), same), items_.end());
}

std::string diagnostics::str() const
{
    std::string text;
    for (const auto& d : items_)
        text += d.str() + "\n";
    return text;
}

}  // namespace ep::engine
