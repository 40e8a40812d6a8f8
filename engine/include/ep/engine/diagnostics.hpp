#pragma once
// Located error messages: every problem found in a workflow, policy or mix file is reported as
// `FILE:LINE:COL: message`, and all of them are collected before anything is reported.

#include <string>
#include <vector>

namespace ep::engine {

/// A position in a source file. `line` and `column` are 1-based; 0 means "unknown" (then only
/// the file, or nothing, is printed).
struct source_location
{
    std::string file;
    int line = 0;
    int column = 0;

    bool known() const noexcept { return line > 0; }
    /// "FILE:LINE:COL", "FILE" or "" depending on what is known.
    std::string str() const;
};

struct diagnostic
{
    source_location where;
    std::string message;

    /// "FILE:LINE:COL: message" (or "message" with no location).
    std::string str() const;
};

/// An ordered collection of diagnostics. Not thread-safe.
class diagnostics
{
public:
    void add(source_location where, std::string message);
    void append(const diagnostics& other);

    bool empty() const noexcept { return items_.empty(); }
    std::size_t size() const noexcept { return items_.size(); }
    const std::vector<diagnostic>& items() const noexcept { return items_; }

    /// Sorts by file, line, column (stable: equal positions keep the order they were found in)
    /// and drops exact duplicates, so output is deterministic.
    void sort();
    /// Every diagnostic on its own line (each ends with '\n').
    std::string str() const;

private:
    std::vector<diagnostic> items_;
};

}  // namespace ep::engine
