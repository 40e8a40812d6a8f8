// Replays a fuzz target's seed corpus without libFuzzer: every file of the directories (or the
// files) named on the command line goes through LLVMFuzzerTestOneInput once. Built with the
// normal compiler and run by ctest, so the committed seeds — including every input that once
// crashed — are checked in every test run. A crash or an abort fails the test.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int replay(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    return LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

int main(int argc, char** argv)
{
    std::size_t count = 0;
    for (int i = 1; i < argc; ++i)
    {
        const std::filesystem::path arg = argv[i];
        std::error_code ec;
        if (std::filesystem::is_directory(arg, ec))
        {
            for (const auto& entry : std::filesystem::directory_iterator(arg))
                if (entry.is_regular_file())
                {
                    replay(entry.path());
                    ++count;
                }
        }
        else if (std::filesystem::is_regular_file(arg, ec))
        {
            replay(arg);
            ++count;
        }
        else
        {
            std::fprintf(stderr, "%s: no such file or directory\n", argv[i]);
            return 2;
        }
    }
    if (count == 0)
    {
        std::fprintf(stderr, "no seed to replay\n");
        return 2;
    }
    std::printf("replayed %zu inputs\n", count);
    return 0;
}
