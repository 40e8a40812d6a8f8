#include "yaml/json_access.hpp"

namespace ep::engine::detail {

source_location locate_in_value(const yaml_document& doc, const source_location& value_start, std::string_view value,
                                std::size_t offset)
{
    if (!value_start.known() || offset >= value.size() || doc.line_starts.empty() ||
        static_cast<std::size_t>(value_start.line) > doc.line_starts.size())
        return value_start;
    std::size_t end = value.find('\n', offset);
    std::string_view needle = value.substr(offset, std::min<std::size_t>(end - offset, 80));
    int occurrence = 0;
    for (std::size_t p = value.find(needle); p != std::string_view::npos && p < offset; p = value.find(needle, p + 1))
        ++occurrence;
    std::size_t pos = doc.line_starts[static_cast<std::size_t>(value_start.line) - 1] +
                      static_cast<std::size_t>(value_start.column - 1);
    for (int k = 0; k <= occurrence; ++k)
    {
        pos = doc.text.find(needle, k == 0 ? pos : pos + 1);
        if (pos == std::string::npos)
            return value_start;
    }
    return doc.location_of_offset(pos);
}

}  // namespace ep::engine::detail
