#include <ep/common/read_file.hpp>

#include <fstream>
#include <sstream>

namespace ep {

std::optional<std::string> read_whole_file(const std::filesystem::path& path)
{
    std::ifstream f(path, std::ios::binary);
    if (!f)
        return std::nullopt;
    std::ostringstream s;
    s << f.rdbuf();
    if (f.bad())
        return std::nullopt;
    return std::move(s).str();
}

}  // namespace ep
