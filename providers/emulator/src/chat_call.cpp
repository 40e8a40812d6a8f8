#include "chat_call.hpp"

namespace ep::emulator::detail {

std::size_t text_chars(const nlohmann::json& value)
{
    if (value.is_string())
        return value.get_ref<const std::string&>().size();
    std::size_t n = 0;
    if (value.is_structured())
        for (const auto& item : value)
            n += text_chars(item);
    return n;
}

std::string content_text(const nlohmann::json& content)
{
    if (content.is_string())
        return content.get<std::string>();
    std::string out;
    if (!content.is_array())
        return out;
    for (const auto& part : content)
    {
        if (part.is_string())
            out += part.get<std::string>();
        else if (part.is_object() && part.contains("text") && part["text"].is_string())
        {
            if (!out.empty())
                out += "\n";
            out += part["text"].get<std::string>();
        }
    }
    return out;
}

}  // namespace ep::emulator::detail
