#pragma once
// Helpers for the workspace suites: a temporary tree holding a workspace and, beside it, a
// sentinel tree whose every entry (type, content hash, link target, mode) is snapshotted so a
// test can assert that nothing outside the workspace changed.

#include <ep/engine/workspace/workspace.hpp>
#include <ep/persistence/run_id.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ep::engine::ws_test {

namespace fs = std::filesystem;

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at destruction.
class temp_dir
{
public:
    temp_dir()
    {
        std::string pattern = (fs::temp_directory_path() / "ep-ws-test-XXXXXX").string();
        if (!::mkdtemp(pattern.data()))
            throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~temp_dir()
    {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

inline void write_text(const fs::path& p, const std::string& text)
{
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

inline std::string read_text(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Every entry below `root`, without following links: relative path -> a description of its
/// type, permission bits and content hash (files) or target (links).
inline std::map<std::string, std::string> snapshot(const fs::path& root)
{
    std::map<std::string, std::string> out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    {
        const auto rel = fs::relative(it->path(), root).string();
        struct stat st{};
        ::lstat(it->path().c_str(), &st);
        std::string d = std::to_string(st.st_mode) + ":";
        if (it->is_symlink())
            d += "link:" + fs::read_symlink(it->path()).string();
        else if (it->is_regular_file())
            d += "file:" + persistence::definition_hash(read_text(it->path()));
        else
            d += "other";
        out[rel] = d;
    }
    return out;
}

/// A workspace `ws/` and a sentinel tree `sentinel/` side by side in a temp dir.
class sandbox_fixture : public ::testing::Test
{
protected:
    temp_dir tmp;
    fs::path ws_root = tmp.path() / "ws";
    fs::path sentinel = tmp.path() / "sentinel";
    std::map<std::string, std::string> sentinel_before;

    void SetUp() override
    {
        fs::create_directories(ws_root);
        write_text(sentinel / "victim.txt", "precious\n");
        write_text(sentinel / "nested" / "deep.txt", "also precious\n");
        fs::create_directories(sentinel / "empty");
        sentinel_before = snapshot(sentinel);
    }

    void expect_sentinel_unchanged() { EXPECT_EQ(snapshot(sentinel), sentinel_before) << "outside the workspace changed"; }

    workspace open_ws(workspace_limits limits = {})
    {
        auto ws = workspace::open(ws_root, std::move(limits));
        if (!ws)
            throw std::runtime_error(ws.error().str());
        return std::move(*ws);
    }
};

}  // namespace ep::engine::ws_test
