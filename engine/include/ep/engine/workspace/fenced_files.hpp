#pragma once
// `files: true`: the files a model's answer gives as Markdown fenced code blocks with a path,
// and writing them into the workspace all at once.
//
// Fences (CommonMark): an opening line of 3+ backticks or 3+ tildes, indented at most 3
// spaces; the block ends at a line of the same character, at least as long, with nothing else
// on it. So a block opened with ```` may contain ``` lines, and a ``` block may contain
// ```python lines (a closing fence carries no info string). Content lines lose up to the
// opening fence's indentation. CRLF and LF both end lines; the files are written with LF.
//
// The path of a block, first match wins:
// 1. the info string: ```python src/lru.py, ```src/lru.py, or an attribute
//    ```python title="src/lru.py" (also file=, path=, filename=);
// 2. the nearest non-blank line before the fence (outside any block), in any of the forms the
//    shipped code_writer persona and common models use:
//      `src/lru.py`      **src/lru.py**      **`src/lru.py`**      src/lru.py:
//      File: src/lru.py  **File:** `src/lru.py`  Path: src/lru.py   Filename: src/lru.py
//      # src/lru.py      ### File: src/lru.py    - `src/lru.py`      Create `src/lru.py`:
//    A bare or bold token must look like a path (contain `/` or end in `.ext`); one in
//    backticks or after a `File:`/`Path:` label may be any single word (`Makefile`). A line
//    with several words is a path only when it ends with one in backticks (the last form).
// Blocks without a path are ordinary code in prose and are ignored.
//
// Errors: a block with a path that never closes is `unterminated_fence` (the answer was cut
// off; writing half a file would be worse than failing). A path given twice: the LAST block
// wins (models revise a file within one answer), and the file keeps its first position.
// Paths are not checked here (pure text); write_fenced_files checks them all before writing.

#include <ep/engine/workspace/errors.hpp>
#include <ep/engine/workspace/workspace.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ep::engine {

struct fenced_file
{
    std::string path;      // as written in the answer (checked when written)
    std::string content;   // the block's lines, each ending with '\n'
    std::string language;  // the info string's language word, if any
    int line = 0;          // 1-based line of the opening fence in the answer
};

/// The fenced blocks with a path, in order of first appearance. Never throws.
ws_result<std::vector<fenced_file>> extract_fenced_files(std::string_view answer);

/// The path a label line names, or "" (exposed for tests and for the emulator's own checks).
std::string path_from_label_line(std::string_view line);

/// Writes `files` through workspace::write_files (all or nothing, the quota charged) and
/// returns the phase's `json`:
///   {"files": [{"path", "bytes", "sha256", "line"}…], "count": N, "bytes": TOTAL}
/// On a refusal nothing is written and the error names the path and the reason.
ws_result<nlohmann::json> write_fenced_files(workspace& ws, const std::vector<fenced_file>& files,
                                             write_quota* quota = nullptr);

}  // namespace ep::engine
