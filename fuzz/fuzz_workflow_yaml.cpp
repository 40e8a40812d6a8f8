// The workflow loader (YAML parse, schema validation, semantic checks) on arbitrary text.
// Checked: no crash and no exception; a refused workflow always says why (a diagnostic).
#include <ep/engine/diagnostics.hpp>
#include <ep/engine/loader.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    ep::engine::diagnostics diag;
    ep::engine::load_limits limits;
    auto spec = ep::engine::load_workflow_string(text, "fuzz.yaml", diag, limits);
    if (!spec && diag.size() == 0)
        std::abort();  // every refusal names a reason
    return 0;
}
