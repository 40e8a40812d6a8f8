#pragma once
// The pure half of confinement: is this text an acceptable workspace-relative path? No I/O —
// what the file system holds (symbolic links, devices, sizes) is checked by `workspace`.
//
// Accepted: relative paths of `/`-separated components; empty and `.` components are dropped
// (`./src//a.py` is `src/a.py`). Refused, each with its own reason:
// - empty, or naming the workspace itself (`.`), unless `allow_root` (a `cwd`);
// - absolute (`/x`, `C:\x`, `C:/x`) and home-relative (`~`, `~/x`, `~user/x`);
// - any `..` component (even `a/../b`: a path is never normalised across `..`);
// - NUL, control characters (U+0001–U+001F, U+007F) and backslashes (a Windows separator to a
//   model, an ordinary character to Linux: ambiguous, so refused);
// - a component in `reserved` (compared case-insensitively; `.git` by default, so nothing an
//   answer or a tool writes can plant git hooks or configuration);
// - more than `max_path_bytes` in all or `max_component_bytes` in one component.

#include <ep/engine/workspace/errors.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ep::engine {

struct path_rules
{
    std::size_t max_path_bytes = 1024;
    std::size_t max_component_bytes = 255;  // NAME_MAX on Linux file systems
    std::vector<std::string> reserved = {".git"};
    bool allow_root = false;  // accept "" and "." as the workspace itself (for a `cwd`)
};

/// A checked relative path: its components (never empty, `.` or `..`).
struct relative_path
{
    std::vector<std::string> components;

    /// Components joined with `/`; "." for the workspace itself.
    std::string str() const;
    bool is_root() const noexcept { return components.empty(); }
};

/// Checks `text` against `rules`. The error's path is `text` (control characters escaped), its
/// message says which rule refused it.
ws_result<relative_path> check_relative_path(std::string_view text, const path_rules& rules = {});

/// `text` with control characters and bytes ≥ 0x80 that are not valid UTF-8 shown as `\xNN`,
/// so that a refused path can be quoted in a message, an event or a terminal safely.
std::string printable_path(std::string_view text);

}  // namespace ep::engine
