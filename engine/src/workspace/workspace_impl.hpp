#pragma once
// The state behind `workspace`: the canonical root and its open directory descriptor.

#include "workspace/beneath.hpp"

#include <ep/engine/workspace/workspace.hpp>

namespace ep::engine {

struct workspace::impl
{
    std::filesystem::path root;
    detail::unique_fd root_fd;
    workspace_limits limits;

    /// check_path + resolve_beneath, with `shown` the printable form of `rel`.
    ws_result<detail::resolved_entry> resolve(std::string_view rel, const path_rules& rules,
                                              const detail::resolve_options& options) const;
};

}  // namespace ep::engine
