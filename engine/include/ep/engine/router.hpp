#pragma once
// The persona router: (persona, policy, phase request) -> the ordered (provider, model)
// candidates the failover executor tries, plus, for every other pair it looked at, why it was
// dropped. It is pure: no I/O, no clock; circuit state is read, never changed.
//
// explain_routing() runs it over a whole workflow for `ep-run --explain`.

#include <ep/common/env.hpp>
#include <ep/engine/dag.hpp>
#include <ep/engine/policy.hpp>
#include <ep/engine/routing/failover.hpp>
#include <ep/engine/workflow.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

namespace ep::engine {

class circuit_registry;

/// Why a persona got no candidate. The CLI maps all of them to exit 2.
enum class router_errc
{
    unknown_persona = 1,    // the persona is in no personas file
    unroutable,             // every (provider, model) was dropped; the message says what to set
    pinned_model_unusable,  // the phase's `model:` cannot serve it; the message says why
};

const boost::system::error_category& router_category() noexcept;

inline boost::system::error_code make_error_code(router_errc e) noexcept
{
    return {static_cast<int>(e), router_category()};
}

/// Capabilities every adapter provides even where the provider has no native switch (JSON
/// output is then asked for in the system prompt and validated by the executor), so they order
/// nothing and drop nothing: a candidate without them is kept with a note.
bool is_emulated_capability(const std::string& capability);

struct route_request
{
    std::string persona;  // empty: a phase without persona (EP_DEFAULT_PROVIDER, then the mix)
    /// Estimated tokens of the rendered prompt (system + messages).
    std::int64_t prompt_tokens = 0;
    /// Output tokens to reserve in the window; nullopt: the persona's max_tokens, else none.
    std::optional<std::int64_t> max_output_tokens;
    /// Needed by the phase on top of the persona's `requires`: `tools` when tools are offered,
    /// `json_mode` when the output is JSON (emulated where missing, see above).
    std::set<std::string> capabilities;
    /// The phase's `model:`. "provider/model" pins that pair first; a bare "model" replaces
    /// the preferred model of every provider that lists it, and those candidates come first
    /// (the phase is more specific than the persona). The other candidates stay behind it as
    /// run-time fallbacks. If the pinned model itself cannot serve the phase (unavailable, not
    /// in the mix, a missing capability, too small a window, an open circuit), the plan fails
    /// with pinned_model_unusable naming the reason: it is never silently replaced.
    std::optional<std::string> model_override;
    /// Pairs whose circuit is open are dropped. Null: circuits are not consulted.
    const circuit_registry* circuits = nullptr;
};

/// Builds the request of one phase: persona, model override, `json_mode` for JSON output and
/// `tools` when `tools_offered`.
route_request make_route_request(const phase_spec& phase, std::int64_t prompt_tokens, bool tools_offered = false);

/// A (provider, model) the executor may call, best first.
struct routed_candidate
{
    std::string provider;
    std::string model;
    providers::model_info info;
    std::string reason;  // why it is here ("persona preference 1", "larger context window", …)

    std::string str() const { return provider + "/" + model; }
};

enum class drop_kind
{
    not_in_mix,          // the mix does not allow the provider
    unknown_provider,    // named by a preference but not in capabilities.yaml
    unavailable,         // no credentials / base URL / CLI
    missing_capability,  // lacks a required capability
    context_too_small,   // window < prompt + reserved output
    circuit_open,        // the breaker of (provider, model) is open
};

const char* to_string(drop_kind k) noexcept;

struct dropped_candidate
{
    std::string provider;
    std::string model;  // may be empty (the whole provider was dropped before a model was chosen)
    drop_kind kind = drop_kind::unavailable;
    std::string reason;  // complete sentence fragment, e.g. "unavailable: set EP_OPENAI_API_KEY or EP_OPENAI_BASE_URL"

    std::string str() const { return model.empty() ? provider : provider + "/" + model; }
};

struct route_plan
{
    std::string persona;
    std::int64_t needed_tokens = 0;  // prompt + reserved output
    std::vector<routed_candidate> candidates;  // the fallback order; empty when !ok()
    std::vector<dropped_candidate> dropped;    // in the order considered
    boost::system::error_code ec;              // router_errc when nothing is routable
    std::string error_message;                 // names the persona and what to set

    bool ok() const noexcept { return !ec; }
};

/// @par Thread safety
/// Immutable after construction; `route` may be called concurrently. The policy must outlive it.
class router
{
public:
    /// `default_provider`: the value of EP_DEFAULT_PROVIDER, used for personas that state no
    /// provider.
    explicit router(const policy& pol, std::optional<std::string> default_provider = std::nullopt);
    /// Reads EP_DEFAULT_PROVIDER from `env`.
    static router from_environment(const policy& pol, const ep::environment& env);

    /// Never throws for a routing problem: an unroutable persona is a plan with `ec` set.
    route_plan route(const route_request& req) const;

    const policy& rules() const noexcept { return *policy_; }

private:
    const policy* policy_;
    std::optional<std::string> default_provider_;
};

/// Binds a plan to live providers for failover_executor. `lookup` returns the provider of a
/// name (not owned) or null; candidates whose provider is missing are left out.
std::vector<candidate> bind_candidates(const route_plan& plan,
                                       const std::function<providers::provider*(const std::string&)>& lookup);

// ---- ep-run --explain ----------------------------------------------------------------------

struct phase_routing
{
    std::size_t run_position = 0;  // 1-based, in dag::order()
    std::size_t level = 0;         // phases of one level may run in parallel
    std::string phase;
    std::string persona;
    route_plan plan;                // empty for a gate
    bool gate = false;              // an approval gate: asks a person, calls no provider
    std::string command;            // a command phase: what it runs (calls no provider); else empty
    std::vector<std::string> flow;  // control flow, one line each (describe_control_flow, graph.hpp)
};

struct routing_explanation
{
    std::string workflow;
    std::string mix;
    std::string mix_description;
    std::optional<std::string> default_provider;  // EP_DEFAULT_PROVIDER, when set
    std::vector<phase_routing> phases;            // run order
    std::vector<std::string> warnings;            // policy::warnings, one "FILE:LINE:COL: text" each

    bool all_routable() const;
};

/// Routes every phase of `spec` in run order without calling anything. The prompt size is
/// estimated from the phase's template text (upstream outputs are not known yet), so the
/// context-window check can only drop models that are too small for the template itself.
routing_explanation explain_routing(const workflow_spec& spec, const dag& graph, const policy& pol,
                                    const ep::environment& env, const circuit_registry* circuits = nullptr);

/// The human-readable table: the warnings ("warning: …"), then per phase the chosen candidate,
/// then each fallback (kept) and each dropped pair with its reason. A model outside the
/// catalogue says so in its reason ("not in the catalogue: default limits, price unknown").
void write_routing_explanation(std::ostream& out, const routing_explanation& explanation);

}  // namespace ep::engine

template <>
struct boost::system::is_error_code_enum<ep::engine::router_errc> : std::true_type
{
};
