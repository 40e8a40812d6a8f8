#include "wire_protocol.hpp"

namespace ep::emulator::detail {

std::string dump(const nlohmann::json& value)
{
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string frame(const nlohmann::json& data, std::string_view event, std::string_view eol)
{
    std::string out;
    if (!event.empty())
    {
        out += "event: ";
        out += event;
        out += eol;
    }
    out += "data: ";
    out += dump(data);
    out += eol;
    out += eol;
    return out;
}

std::vector<std::string> content_pieces(const std::string& text)
{
    return split_tokens(text);
}

std::string filtered_prefix(const std::string& text)
{
    auto pieces = split_tokens(text);
    std::string out;
    for (std::size_t i = 0; i < pieces.size() && i < 3; ++i)
        out += pieces[i];
    return out;
}

}  // namespace ep::emulator::detail
